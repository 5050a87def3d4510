/**
 * What the connect flow needs from one OAuth provider, and the Google and Microsoft
 * connectors over their OAuth clients. The routes (oauth-connect.routes.ts) are the same
 * for every provider; a connector says how to build the authorize URL, how to turn a
 * code into tokens and an identity, and what the provider's callback errors mean.
 */
import type { GoogleOAuthClient } from '../providers/google/index.js';
import type { MicrosoftOAuthClient } from '../providers/microsoft/index.js';
import type { AccessScope } from '../providers/registry.js';
import type { OAuthProviderId } from './views/view-models.js';

export interface ConnectedGrant {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  grantedScopes: string[];
  /** The account's email (or sign-in name), as the provider states it. */
  email: string;
  /** The person's name, when the provider gives one (shown next to the account). */
  display?: string;
}

/** How a provider's `error` in the callback reads to the user. */
export type CallbackOutcome = 'denied' | 'admin_consent_required' | 'failed';

export interface OAuthConnector {
  readonly provider: OAuthProviderId;
  /** How pages and logs name it. */
  readonly name: string;
  authorizeUrl(params: { redirectUri: string; state: string; codeChallenge: string; scope: AccessScope }): string;
  /** Exchanges the code and identifies the account; throws on any failure. */
  complete(params: { code: string; redirectUri: string; codeVerifier: string; scope: AccessScope }): Promise<ConnectedGrant>;
  classifyError(error: string, description: string | undefined): CallbackOutcome;
  calendarPermissionGranted(grantedScopes: readonly string[], scope: AccessScope): boolean;
  /** Hands a grant that will not be kept back to the provider, where it can be (best effort). */
  discard?(grant: ConnectedGrant): Promise<void>;
}

export function googleConnector(oauth: GoogleOAuthClient): OAuthConnector {
  return {
    provider: 'google',
    name: 'Google',
    authorizeUrl: (p) => oauth.buildAuthorizeUrl({ redirectUri: p.redirectUri, state: p.state, codeChallenge: p.codeChallenge, almanacScope: p.scope }),
    async complete(p) {
      const tokens = await oauth.exchangeCode({ code: p.code, redirectUri: p.redirectUri, codeVerifier: p.codeVerifier });
      try {
        const email = await oauth.fetchUserEmail(tokens.accessToken);
        return { ...tokens, email };
      } catch (error) {
        await oauth.revoke(tokens.refreshToken).catch(() => undefined);
        throw error;
      }
    },
    // Google sends admin_policy_enforced when a Workspace administrator blocks the app.
    classifyError: (error) => (error === 'access_denied' ? 'denied' : error === 'admin_policy_enforced' ? 'admin_consent_required' : 'failed'),
    calendarPermissionGranted: (granted, scope) => oauth.calendarPermissionGranted(granted, scope),
    discard: (grant) => oauth.revoke(grant.refreshToken),
  };
}

/** AADSTS codes that mean an administrator has to consent for the tenant first. */
const ADMIN_CONSENT = /AADSTS(65001|90094|90095|90099)\b/;

export function microsoftConnector(oauth: MicrosoftOAuthClient): OAuthConnector {
  return {
    provider: 'microsoft',
    name: 'Microsoft',
    authorizeUrl: (p) => oauth.buildAuthorizeUrl({ redirectUri: p.redirectUri, state: p.state, codeChallenge: p.codeChallenge, almanacScope: p.scope }),
    async complete(p) {
      const tokens = await oauth.exchangeCode({ code: p.code, redirectUri: p.redirectUri, codeVerifier: p.codeVerifier, almanacScope: p.scope });
      return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt, grantedScopes: tokens.grantedScopes, email: tokens.identity.email, ...(tokens.identity.name ? { display: tokens.identity.name } : {}) };
    },
    classifyError(error, description) {
      if (ADMIN_CONSENT.test(description ?? '')) return 'admin_consent_required';
      if (error === 'consent_required') return 'admin_consent_required';
      return error === 'access_denied' ? 'denied' : 'failed';
    },
    calendarPermissionGranted: (granted, scope) => oauth.calendarPermissionGranted(granted, scope),
    // Graph cannot revoke one refresh token: a grant not kept is simply forgotten.
  };
}
