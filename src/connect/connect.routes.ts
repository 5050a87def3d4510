/**
 * The connect hub: what the user sees after authorize. It lists the accounts already
 * connected (with disconnect) and the providers on offer, and ends the flow with
 * Continue (a one-time code to the application) or Cancel (`error=access_denied`).
 * Every page works without JavaScript; every form carries a CSRF token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isProviderId, type ProviderId } from '../domain/calendar.js';
import type { IpLimit } from '../http/ip-limit.js';
import { redirectWithParams } from '../oauth/redirect.js';
import type { TokenService } from '../oauth/token.service.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import type { AccountDisconnector } from './account-disconnector.js';
import { RESTART_COOKIE, SESSION_COOKIE, type ConnectSession } from './connect-session.js';
import type { ConnectPages, HubModel } from './connect-pages.js';
import { parseTheme, THEME_COOKIE } from './branding/index.js';
import { FORM_FIELDS } from './views/view-models.js';
import type { SessionLoader } from './session-loader.js';

/** What every connect route needs; provider steps add their own pieces. */
export interface ConnectBaseDeps {
  cookieKey: Buffer;
  clients: ClientsRepository;
  accounts: AccountsRepository;
  registry: ProviderRegistry;
  pages: ConnectPages;
  ipLimit: IpLimit;
  sessions: SessionLoader;
  maxAccountsPerUser: number;
}

export interface ConnectDeps extends ConnectBaseDeps {
  tokens: TokenService;
  disconnector: AccountDisconnector;
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

  async function renderHub(request: FastifyRequest, reply: FastifyReply, session: ConnectSession, notice?: HubModel['notice']) {
    const client = await deps.clients.find(session.clientId);
    if (!client) return sessions.showError(request, reply, session, { status: 401, kind: 'unknown_client', error: 'invalid_client', message: 'This application is no longer registered.' });
    const accounts = await deps.accounts.listForUser(session.userId);
    const providers = offeredProviders(deps.registry, session);
    if (providers.length === 0 && accounts.length === 0) {
      return sessions.showError(request, reply, session, { status: 400, kind: 'no_providers', error: 'no_providers', message: 'No calendar provider is available for this application.' });
    }
    return pages.hub(request, reply, { session, client, accounts, providers, limitReached: accounts.length >= deps.maxAccountsPerUser, notice });
  }

  const postedSession = (request: FastifyRequest, reply: FastifyReply) => sessions.requirePosted(request, reply);

  /** The flow is over: neither cookie may start or explain anything any more. */
  function endSession(reply: FastifyReply): void {
    const attrs = { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies } as const;
    reply.clearCookie(SESSION_COOKIE, { ...attrs, path: '/' });
    reply.clearCookie(RESTART_COOKIE, { ...attrs, path: '/connect' });
  }

  app.get('/connect', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.require(request, reply);
    if (!session) return reply;
    const q = request.query as Record<string, unknown>;
    const kind = q.notice === 'connected' || q.notice === 'disconnected' ? q.notice : undefined;
    const account = typeof q.account === 'string' ? q.account.slice(0, 320) : '';
    return renderHub(request, reply, session, kind ? { kind, account } : undefined);
  });

  app.post('/connect/continue', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    const code = await deps.tokens.issueCode({
      clientId: session.clientId,
      userId: session.userId,
      scope: session.scope,
      redirectUri: session.redirectUri,
      redirectUriExplicit: session.redirectUriExplicit,
      codeChallenge: session.codeChallenge ?? null,
    });
    endSession(reply);
    return reply.header('Cache-Control', 'no-store').redirect(redirectWithParams(session.redirectUri, { code, state: session.state }), 302);
  });

  app.post('/connect/cancel', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    endSession(reply);
    return reply.redirect(redirectWithParams(session.redirectUri, { error: 'access_denied', error_description: 'The user cancelled', state: session.state }), 302);
  });

  app.post('/connect/disconnect', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    const provider = formField(request, 'provider');
    const account = formField(request, 'account');
    if (!isProviderId(provider) || !account) {
      return sessions.showError(request, reply, session, { status: 400, error: 'invalid_request', message: 'Choose an account to disconnect.', retryUrl: '/connect' });
    }
    await deps.disconnector.disconnect(session.userId, provider, account, request.log);
    return reply.redirect(`/connect?${new URLSearchParams({ notice: 'disconnected', account })}`, 303);
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
