/**
 * The connect hub: what the user sees after authorize. It lists the accounts the session
 * may see (see session-accounts.ts: in a plain session only those it connected), the
 * providers on offer, and ends the flow with Continue (a one-time code, bound to this
 * session, to the application) or Cancel (`error=access_denied`; what the session
 * connected is forgotten). Every page works without JavaScript; every form carries a
 * CSRF token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isProviderId, type ProviderId } from '../domain/calendar.js';
import type { IpLimit } from '../http/ip-limit.js';
import { redirectWithParams } from '../oauth/redirect.js';
import type { TokenService } from '../oauth/token.service.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountRecord } from '../storage/repositories/accounts.repo.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import { RESTART_COOKIE, SESSION_COOKIE, type ConnectSession } from './connect-session.js';
import type { ConnectPages, HubAccount } from './connect-pages.js';
import { noticeUrl, readNotice } from './hub-notice.js';
import type { SessionAccounts } from './session-accounts.js';
import { parseTheme, THEME_COOKIE } from './branding/index.js';
import { encodeFlowPreferences, FLOW_PREFERENCES_COOKIE, FLOW_PREFERENCES_MAX_AGE_SECONDS } from './flow-preferences.js';
import { negotiateLanguage } from './i18n/negotiate-language.js';
import { FORM_FIELDS } from './views/view-models.js';
import type { SessionLoader } from './session-loader.js';

/** What every connect route needs; provider steps add their own pieces. */
export interface ConnectBaseDeps {
  cookieKey: Buffer;
  clients: ClientsRepository;
  /** What a session may see of the user's accounts, and where its connections go. */
  sessionAccounts: SessionAccounts;
  registry: ProviderRegistry;
  pages: ConnectPages;
  ipLimit: IpLimit;
  sessions: SessionLoader;
}

export interface ConnectDeps extends ConnectBaseDeps {
  tokens: TokenService;
  secureCookies: boolean;
}

/** Providers the page may offer: configured here and allowed by the application's `providers`. */
export function offeredProviders(registry: ProviderRegistry, session: ConnectSession): ProviderId[] {
  return registry.available().filter((p) => !session.providers || session.providers.includes(p));
}

export function formField(request: FastifyRequest, name: string): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function registerConnectRoutes(app: FastifyInstance, deps: ConnectDeps): void {
  const { sessions, pages } = deps;

  /** Accounts as the hub shows them, their grant judged against the scope this session asks for. */
  function forHub(session: ConnectSession, accounts: AccountRecord[]): HubAccount[] {
    return accounts.map((a) => {
      const anyAccess = deps.registry.grantCovers(a.provider, a.grantedScopes, 'free-busy') ?? a.calendarPermissionGranted;
      const covers = deps.registry.grantCovers(a.provider, a.grantedScopes, session.scope) ?? a.calendarPermissionGranted;
      return { ...a, calendarPermissionGranted: anyAccess, needsMoreAccess: anyAccess && !covers };
    });
  }

  async function renderHub(request: FastifyRequest, reply: FastifyReply, session: ConnectSession) {
    const client = await deps.clients.find(session.clientId);
    if (!client) return sessions.showError(request, reply, session, { status: 401, kind: 'unknown_client', error: 'invalid_client', message: 'This application is no longer registered.' });
    const accounts = await deps.sessionAccounts.visible(session);
    const providers = offeredProviders(deps.registry, session);
    // A plain session still gets the hub: Continue without connecting anything re-authorizes the user.
    if (providers.length === 0 && accounts.length === 0 && session.pushed) {
      return sessions.showError(request, reply, session, { status: 400, kind: 'no_providers', error: 'no_providers', message: 'No calendar provider is available for this application.' });
    }
    const notice = readNotice(deps.cookieKey, session.sid, request.query as Record<string, unknown>);
    return pages.hub(request, reply, {
      session,
      client,
      accounts: forHub(session, accounts),
      providers,
      limitReached: await deps.sessionAccounts.limitReached(session),
      otherAccountsHidden: !session.pushed,
      ...(notice ? { notice } : {}),
    });
  }

  const postedSession = (request: FastifyRequest, reply: FastifyReply) => sessions.requirePosted(request, reply);

  /**
   * The flow is over: neither cookie may start or explain anything any more. The
   * session's language and theme stay behind for the page the flow ends on.
   */
  function endSession(request: FastifyRequest, reply: FastifyReply, session: ConnectSession): void {
    const attrs = { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies } as const;
    reply.clearCookie(SESSION_COOKIE, { ...attrs, path: '/' });
    reply.clearCookie(RESTART_COOKIE, { ...attrs, path: '/connect' });
    const preferences = encodeFlowPreferences({
      lng: negotiateLanguage({ lng: session.lng, acceptLanguage: request.headers['accept-language'] }),
      theme: parseTheme(session.theme),
      remembered: parseTheme(request.cookies?.[THEME_COOKIE]),
    });
    reply.setCookie(FLOW_PREFERENCES_COOKIE, preferences, { ...attrs, path: '/', maxAge: FLOW_PREFERENCES_MAX_AGE_SECONDS });
  }

  app.get('/connect', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.require(request, reply);
    if (!session) return reply;
    return renderHub(request, reply, session);
  });

  app.post('/connect/continue', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    const code = await deps.tokens.issueCode({
      clientId: session.clientId,
      userId: session.userId,
      sessionId: session.sid,
      scope: session.scope,
      redirectUri: session.redirectUri,
      redirectUriExplicit: session.redirectUriExplicit,
      codeChallenge: session.codeChallenge ?? null,
    });
    endSession(request, reply, session);
    return reply.header('Cache-Control', 'no-store').redirect(redirectWithParams(session.redirectUri, { code, state: session.state }), 302);
  });

  app.post('/connect/cancel', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    await deps.sessionAccounts.forget(session);
    endSession(request, reply, session);
    return reply.redirect(redirectWithParams(session.redirectUri, { error: 'access_denied', error_description: 'The user cancelled', state: session.state }), 302);
  });

  app.post('/connect/disconnect', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    const provider = formField(request, 'provider');
    const account = formField(request, 'account');
    if (!isProviderId(provider) || !account || account.length > 1000) {
      return sessions.showError(request, reply, session, { status: 400, error: 'invalid_request', message: 'Choose an account to disconnect.', retryUrl: '/connect' });
    }
    // An account this session cannot see answers like one already gone: back to the hub, no notice, nothing learned.
    const removed = await deps.sessionAccounts.disconnect(session, provider, account, request.log);
    return reply.redirect(removed ? noticeUrl(deps.cookieKey, session.sid, 'disconnected', account) : '/connect', 303);
  });

  // The remembered theme choice (only offered when the client's default is auto): a cookie, then back.
  app.post('/connect/theme', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    const theme = parseTheme(formField(request, FORM_FIELDS.theme));
    if (theme === undefined) return sessions.showError(request, reply, session, { status: 400, error: 'invalid_request', message: 'Unknown theme', retryUrl: '/connect' });
    reply.setCookie(THEME_COOKIE, theme, { path: '/connect', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, maxAge: 365 * 86400 });
    const back = formField(request, FORM_FIELDS.returnTo);
    // Only our own connect pages: never an open redirect.
    const target = back && /^\/connect(\/[a-z]+)?$/.test(back) ? back : '/connect';
    return reply.redirect(target, 303);
  });

  pages.registerAssets(app);
}
