/**
 * Connecting an OAuth account (Google, Microsoft): the redirect step (PKCE, `state`
 * bound to the connect session), then the callback that exchanges the code, identifies
 * the account, stages the tokens (encrypted, pending until the session's code is
 * exchanged) and returns to the hub. Partial consent is kept and shown; denial, an
 * administrator's consent being required, a forged state and a failed exchange each end
 * on a clear page with nothing stored. One route family per connector (oauth-connectors.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { emailIdentity, hasControlCharacters } from '../domain/account-identity.js';
import type { StoredOAuthCredentials } from '../providers/build-registry.js';
import type { ConnectSession } from './connect-session.js';
import { offeredProviders, type ConnectBaseDeps } from './connect.routes.js';
import { noticeUrl } from './hub-notice.js';
import type { ConnectedGrant, OAuthConnector } from './oauth-connectors.js';
import { newProviderAuthorization, verifyProviderState } from './provider-authorization.js';

export interface OAuthConnectDeps extends ConnectBaseDeps {
  publicUrl: string;
}

export const callbackPath = (connector: OAuthConnector): string => `/connect/${connector.provider}/callback`;

export function registerOAuthConnectRoutes(app: FastifyInstance, deps: OAuthConnectDeps, connector: OAuthConnector): void {
  const { provider, name } = connector;
  const redirectUri = `${deps.publicUrl}${callbackPath(connector)}`;
  const stepPath = `/connect/${provider}`;

  async function step(request: FastifyRequest, reply: FastifyReply): Promise<ConnectSession | undefined> {
    const session = await deps.sessions.require(request, reply);
    if (!session) return undefined;
    if (!offeredProviders(deps.registry, session).includes(provider)) {
      await deps.sessions.showError(request, reply, session, { status: 404, kind: 'not_found', error: 'not_found', message: `${name} is not offered here.`, retryUrl: '/connect' });
      return undefined;
    }
    return session;
  }

  const failed = (request: FastifyRequest, reply: FastifyReply, session: ConnectSession, status: number, kind: 'provider_denied' | 'provider_error' | 'admin_consent_required', message: string) =>
    deps.sessions.showError(request, reply, session, { status, kind, error: kind, message, retryUrl: stepPath });

  const discard = async (grant: ConnectedGrant): Promise<void> => {
    await connector.discard?.(grant).catch(() => undefined);
  };

  // The redirect step: a page that names where the user is going, with the link to the provider.
  app.get(stepPath, { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await step(request, reply);
    if (!session) return reply;
    const client = await deps.clients.find(session.clientId);
    if (!client) return deps.sessions.showError(request, reply, session, { status: 401, kind: 'unknown_client', error: 'invalid_client', message: 'This application is no longer registered.' });
    const auth = newProviderAuthorization(deps.cookieKey, session.sid, provider);
    const authorizationUrl = connector.authorizeUrl({ redirectUri, state: auth.state, codeChallenge: auth.codeChallenge, scope: session.scope });
    return deps.pages.oauthRedirect(request, reply, { session, client, provider, authorizationUrl });
  });

  app.get(callbackPath(connector), { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const session = await step(request, reply);
    if (!session) return reply;
    const q = request.query as Record<string, unknown>;
    const str = (key: string) => (typeof q[key] === 'string' ? (q[key] as string) : undefined);
    const codeVerifier = verifyProviderState(deps.cookieKey, session.sid, provider, q.state);
    if (!codeVerifier) return failed(request, reply, session, 400, 'provider_error', `The answer from ${name} does not belong to this connection request.`);
    const error = str('error');
    if (error) {
      const outcome = connector.classifyError(error, str('error_description')?.slice(0, 512));
      request.log.info({ provider, providerError: error.slice(0, 64), outcome }, 'provider consent not given');
      if (outcome === 'denied') return failed(request, reply, session, 400, 'provider_denied', `${name} answered ${error}`);
      if (outcome === 'admin_consent_required') {
        return failed(request, reply, session, 403, 'admin_consent_required', `${name} requires an administrator of the organization to approve this application first.`);
      }
      return failed(request, reply, session, 502, 'provider_error', `${name} answered ${error}`);
    }
    const code = str('code');
    if (!code || code.length > 4096) return failed(request, reply, session, 400, 'provider_error', `${name} sent no authorization code.`);

    let grant: ConnectedGrant;
    try {
      grant = await connector.complete({ code, redirectUri, codeVerifier, scope: session.scope });
    } catch (err) {
      request.log.warn({ provider, err: (err as Error).message }, 'provider code exchange failed');
      return failed(request, reply, session, 502, 'provider_error', `${name} did not complete the sign-in.`);
    }
    const email = grant.email.trim().toLowerCase();
    if (!email || email.length > 320 || hasControlCharacters(email)) {
      await discard(grant);
      return failed(request, reply, session, 502, 'provider_error', `${name} did not name the account with a usable email address.`);
    }
    const identity = emailIdentity(email);
    if (await deps.sessionAccounts.wouldExceedLimit(session, provider, identity)) {
      await discard(grant);
      return deps.sessions.showError(request, reply, session, { status: 400, kind: 'account_limit', error: 'account_limit', message: 'This user has connected the maximum number of accounts.', retryUrl: '/connect' });
    }
    const credentials: StoredOAuthCredentials = { kind: 'oauth', accessToken: grant.accessToken, refreshToken: grant.refreshToken, expiresAt: grant.expiresAt, grantedScopes: grant.grantedScopes };
    const shownId = await deps.sessionAccounts.stage(session, {
      provider,
      identity,
      plainId: email,
      // Names are the provider's to give; a control character or an overlong one is not shown.
      display: grant.display && grant.display.length <= 200 && !hasControlCharacters(grant.display) ? grant.display : null,
      credentials,
      grantedScopes: grant.grantedScopes,
      calendarPermissionGranted: connector.calendarPermissionGranted(grant.grantedScopes, session.scope),
    });
    return reply.redirect(noticeUrl(deps.cookieKey, session.sid, 'connected', shownId), 303);
  });
}
