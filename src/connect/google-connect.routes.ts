/**
 * Connecting a Google account: the redirect step (offline access, consent prompt, PKCE,
 * `state` bound to the connect session), then the callback that exchanges the code,
 * identifies the account, stages the tokens (encrypted, pending until the session's
 * code is exchanged) and returns to the hub. Partial consent is kept and shown; denial,
 * a forged state and a failed exchange each end on a clear page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { emailIdentity, hasControlCharacters } from '../domain/account-identity.js';
import type { GoogleOAuthClient } from '../providers/google/index.js';
import type { StoredOAuthCredentials } from '../providers/build-registry.js';
import type { ConnectSession } from './connect-session.js';
import { offeredProviders, type ConnectBaseDeps } from './connect.routes.js';
import { noticeUrl } from './hub-notice.js';
import { newProviderAuthorization, verifyProviderState } from './provider-authorization.js';

export const GOOGLE_CALLBACK_PATH = '/connect/google/callback';

export interface GoogleConnectDeps extends ConnectBaseDeps {
  oauth: GoogleOAuthClient;
  publicUrl: string;
}

export function registerGoogleConnectRoutes(app: FastifyInstance, deps: GoogleConnectDeps): void {
  const redirectUri = `${deps.publicUrl}${GOOGLE_CALLBACK_PATH}`;

  async function googleStep(request: FastifyRequest, reply: FastifyReply): Promise<ConnectSession | undefined> {
    const session = await deps.sessions.require(request, reply);
    if (!session) return undefined;
    if (!offeredProviders(deps.registry, session).includes('google')) {
      await deps.sessions.showError(request, reply, session, { status: 404, kind: 'not_found', error: 'not_found', message: 'Google is not offered here.', retryUrl: '/connect' });
      return undefined;
    }
    return session;
  }

  const failed = (request: FastifyRequest, reply: FastifyReply, session: ConnectSession, status: number, kind: 'provider_denied' | 'provider_error', message: string) =>
    deps.sessions.showError(request, reply, session, { status, kind, error: kind, message, retryUrl: '/connect/google' });

  // The redirect step: a page that names where the user is going, with the link to Google.
  app.get('/connect/google', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await googleStep(request, reply);
    if (!session) return reply;
    const client = await deps.clients.find(session.clientId);
    if (!client) return deps.sessions.showError(request, reply, session, { status: 401, kind: 'unknown_client', error: 'invalid_client', message: 'This application is no longer registered.' });
    const auth = newProviderAuthorization(deps.cookieKey, session.sid, 'google');
    const authorizationUrl = deps.oauth.buildAuthorizeUrl({ redirectUri, state: auth.state, codeChallenge: auth.codeChallenge, almanacScope: session.scope });
    return deps.pages.oauthRedirect(request, reply, { session, client, provider: 'google', authorizationUrl });
  });

  app.get(GOOGLE_CALLBACK_PATH, { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await googleStep(request, reply);
    if (!session) return reply;
    const q = request.query as Record<string, unknown>;
    const str = (name: string) => (typeof q[name] === 'string' ? (q[name] as string) : undefined);
    const codeVerifier = verifyProviderState(deps.cookieKey, session.sid, 'google', q.state);
    if (!codeVerifier) return failed(request, reply, session, 400, 'provider_error', 'The answer from Google does not belong to this connection request.');
    const error = str('error');
    if (error) {
      request.log.info({ providerError: error.slice(0, 64) }, 'google consent not given');
      return failed(request, reply, session, error === 'access_denied' ? 400 : 502, error === 'access_denied' ? 'provider_denied' : 'provider_error', `Google answered ${error}`);
    }
    const code = str('code');
    if (!code || code.length > 2048) return failed(request, reply, session, 400, 'provider_error', 'Google sent no authorization code.');

    let tokens;
    let email: string;
    try {
      tokens = await deps.oauth.exchangeCode({ code, redirectUri, codeVerifier });
      email = (await deps.oauth.fetchUserEmail(tokens.accessToken)).trim().toLowerCase();
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'google code exchange failed');
      return failed(request, reply, session, 502, 'provider_error', 'Google did not complete the sign-in.');
    }
    if (!email || email.length > 320 || hasControlCharacters(email)) {
      await deps.oauth.revoke(tokens.refreshToken).catch(() => undefined);
      return failed(request, reply, session, 502, 'provider_error', 'Google did not name the account with a usable email address.');
    }
    const identity = emailIdentity(email);
    if (await deps.sessionAccounts.wouldExceedLimit(session, 'google', identity)) {
      await deps.oauth.revoke(tokens.refreshToken).catch(() => undefined);
      return deps.sessions.showError(request, reply, session, { status: 400, kind: 'account_limit', error: 'account_limit', message: 'This user has connected the maximum number of accounts.', retryUrl: '/connect' });
    }
    const credentials: StoredOAuthCredentials = { kind: 'oauth', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt, grantedScopes: tokens.grantedScopes };
    const shownId = await deps.sessionAccounts.stage(session, {
      provider: 'google',
      identity,
      plainId: email,
      display: null,
      credentials,
      grantedScopes: tokens.grantedScopes,
      calendarPermissionGranted: deps.oauth.calendarPermissionGranted(tokens.grantedScopes, session.scope),
    });
    return reply.redirect(noticeUrl(deps.cookieKey, session.sid, 'connected', shownId), 303);
  });
}
