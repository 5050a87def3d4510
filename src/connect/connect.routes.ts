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
import { checkCsrf, SESSION_COOKIE, type ConnectSession } from './connect-session.js';
import type { ConnectPages } from './connect-pages.js';
import { SessionLoader } from './session-loader.js';

export interface ConnectDeps {
  cookieKey: Buffer;
  clients: ClientsRepository;
  accounts: AccountsRepository;
  registry: ProviderRegistry;
  tokens: TokenService;
  disconnector: AccountDisconnector;
  pages: ConnectPages;
  ipLimit: IpLimit;
  sessions: SessionLoader;
  secureCookies: boolean;
}

/** Providers the page may offer: configured here and allowed by the application's `providers`. */
export function offeredProviders(registry: ProviderRegistry, session: ConnectSession): ProviderId[] {
  return registry.available().filter((p) => !session.providers || session.providers.includes(p));
}

function formField(request: FastifyRequest, name: string): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function registerConnectRoutes(app: FastifyInstance, deps: ConnectDeps): void {
  const { sessions, pages } = deps;

  async function renderHub(request: FastifyRequest, reply: FastifyReply, session: ConnectSession, notice?: string) {
    const client = await deps.clients.find(session.clientId);
    if (!client) return sessions.showError(request, reply, session, { status: 400, error: 'invalid_client', message: 'This application is no longer registered.' });
    const accounts = await deps.accounts.listForUser(session.userId);
    return pages.hub(request, reply, { session, client, accounts, providers: offeredProviders(deps.registry, session), notice });
  }

  /** CSRF first, then the session: a forged form learns nothing about the session. */
  async function postedSession(request: FastifyRequest, reply: FastifyReply): Promise<ConnectSession | undefined> {
    const session = await sessions.require(request, reply);
    if (!session) return undefined;
    if (!checkCsrf(deps.cookieKey, session.sid, formField(request, 'csrf'))) {
      sessions.showError(request, reply, session, { status: 403, error: 'csrf', message: 'This form has expired or did not come from this page. Go back and try again.' });
      return undefined;
    }
    return session;
  }

  app.get('/connect', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.require(request, reply);
    if (!session) return reply;
    const q = request.query as Record<string, unknown>;
    const notice = typeof q.notice === 'string' && q.notice.length < 64 ? q.notice : undefined;
    return renderHub(request, reply, session, notice);
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
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies });
    return reply.header('Cache-Control', 'no-store').redirect(redirectWithParams(session.redirectUri, { code, state: session.state }), 302);
  });

  app.post('/connect/cancel', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies });
    return reply.redirect(redirectWithParams(session.redirectUri, { error: 'access_denied', error_description: 'The user cancelled', state: session.state }), 302);
  });

  app.post('/connect/disconnect', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await postedSession(request, reply);
    if (!session) return reply;
    const provider = formField(request, 'provider');
    const account = formField(request, 'account');
    if (!isProviderId(provider) || !account) {
      return sessions.showError(request, reply, session, { status: 400, error: 'invalid_request', message: 'Choose an account to disconnect.' });
    }
    await deps.disconnector.disconnect(session.userId, provider, account, request.log);
    return reply.redirect('/connect?notice=disconnected', 303);
  });

  pages.registerAssets(app);
}
