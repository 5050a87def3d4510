/**
 * Google's OAuth 2.0 endpoints for web server apps: authorize (consent is decided by a
 * knob and answered at once with a redirect), token (authorization_code with PKCE,
 * refresh_token), revoke, and OpenID userinfo.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts } from './emulator-accounts.js';
import { bearerToken, OAuthEndpointError, readFormBody, redirect, sendHtml, sendJson } from './emulator-http.js';

export interface OAuthRouteDeps {
  accounts: Accounts;
  clientId: string;
  clientSecret: string;
  /** Registered redirect URIs; any URI is accepted when empty. */
  redirectUris: string[];
  /** Makes sure a signing-in user has a primary calendar. */
  ensureUser(email: string): void;
  stats: { tokenRequests: Record<string, number> };
  /** Knob: answer the token endpoint this much later (widens refresh races in tests). */
  tokenDelayMs(): number;
}

const DEFAULT_EMAIL = 'user@example.com';

function errorPage(res: ServerResponse, status: number, error: string, detail: string): void {
  sendHtml(res, status, `<!doctype html><title>Error ${status}: ${error}</title><h1>Error ${status}: ${error}</h1><p>${detail}</p>`);
}

export function handleAuthorize(res: ServerResponse, url: URL, deps: OAuthRouteDeps): void {
  const q = url.searchParams;
  if (q.get('client_id') !== deps.clientId) return errorPage(res, 401, 'invalid_client', 'The OAuth client was not found.');
  const redirectUri = q.get('redirect_uri');
  if (!redirectUri) return errorPage(res, 400, 'invalid_request', 'Missing required parameter: redirect_uri');
  if (deps.redirectUris.length > 0 && !deps.redirectUris.includes(redirectUri)) {
    return errorPage(res, 400, 'redirect_uri_mismatch', 'The redirect URI in the request does not match the ones authorized for the OAuth client.');
  }
  if (q.get('response_type') !== 'code') return errorPage(res, 400, 'unsupported_response_type', 'Invalid response_type');
  const requested = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
  if (requested.length === 0) return errorPage(res, 400, 'invalid_request', 'Missing required parameter: scope');
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    return errorPage(res, 400, 'invalid_request', 'Invalid code_challenge_method value.');
  }

  const back = new URL(redirectUri);
  const state = q.get('state');
  const login = deps.accounts.nextLogin;
  const granted = deps.accounts.consentedScopes(requested, login.consent);
  if (!granted) {
    back.searchParams.set('error', 'access_denied');
    if (state !== null) back.searchParams.set('state', state);
    return redirect(res, back.toString());
  }
  const email = login.email ?? q.get('login_hint') ?? DEFAULT_EMAIL;
  deps.ensureUser(email);
  const user = deps.accounts.addUser(email);
  const code = deps.accounts.issueCode({
    sub: user.sub,
    scopes: granted,
    clientId: deps.clientId,
    redirectUri,
    codeChallenge: challenge,
    codeChallengeMethod: method,
    offline: q.get('access_type') === 'offline',
  });
  if (state !== null) back.searchParams.set('state', state);
  back.searchParams.set('code', code);
  back.searchParams.set('scope', granted.join(' '));
  back.searchParams.set('authuser', '0');
  back.searchParams.set('prompt', 'consent');
  redirect(res, back.toString());
}

export async function handleToken(req: IncomingMessage, res: ServerResponse, deps: OAuthRouteDeps): Promise<void> {
  const form = await readFormBody(req);
  const delay = deps.tokenDelayMs();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const grantType = form.grant_type ?? '';
  deps.stats.tokenRequests[grantType] = (deps.stats.tokenRequests[grantType] ?? 0) + 1;

  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
  const clientId = basicId ?? form.client_id;
  const clientSecret = basicSecret ?? form.client_secret;
  if (clientId !== deps.clientId || clientSecret !== deps.clientSecret) {
    throw new OAuthEndpointError(401, 'invalid_client', clientId === deps.clientId ? 'Unauthorized' : 'The OAuth client was not found.');
  }

  if (grantType === 'authorization_code') {
    if (!form.code) throw new OAuthEndpointError(400, 'invalid_request', 'Missing required parameter: code');
    const redeemed = deps.accounts.redeemCode(form.code, clientId, form.redirect_uri, form.code_verifier);
    if (!redeemed.ok) throw new OAuthEndpointError(400, redeemed.error, redeemed.description);
    const { accessToken, expiresIn } = deps.accounts.mintAccessToken(redeemed.grant);
    sendJson(res, 200, {
      access_token: accessToken,
      expires_in: expiresIn,
      ...(redeemed.offline ? { refresh_token: deps.accounts.mintRefreshToken(redeemed.grant) } : {}),
      scope: redeemed.grant.scopes.join(' '),
      token_type: 'Bearer',
    });
    return;
  }
  if (grantType === 'refresh_token') {
    if (!form.refresh_token) throw new OAuthEndpointError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const grant = deps.accounts.grantOfRefreshToken(form.refresh_token);
    if (!grant) throw new OAuthEndpointError(400, 'invalid_grant', 'Token has been expired or revoked.');
    const { accessToken, expiresIn } = deps.accounts.mintAccessToken(grant);
    const rotated = deps.accounts.rotateRefreshTokens ? deps.accounts.rotateRefreshToken(form.refresh_token) : undefined;
    sendJson(res, 200, {
      access_token: accessToken,
      expires_in: expiresIn,
      ...(rotated ? { refresh_token: rotated } : {}),
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
    });
    return;
  }
  throw new OAuthEndpointError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
}

export async function handleRevoke(req: IncomingMessage, res: ServerResponse, url: URL, deps: OAuthRouteDeps): Promise<void> {
  const form = await readFormBody(req);
  const token = form.token ?? url.searchParams.get('token') ?? '';
  if (!deps.accounts.revoke(token)) throw new OAuthEndpointError(400, 'invalid_token', 'Token expired or revoked');
  sendJson(res, 200, {});
}

export function handleUserInfo(req: IncomingMessage, res: ServerResponse, deps: OAuthRouteDeps): void {
  const token = bearerToken(req);
  const grant = token ? deps.accounts.grantOfAccessToken(token) : undefined;
  const user = grant ? deps.accounts.userBySub(grant.sub) : undefined;
  if (!grant || !user) {
    sendJson(res, 401, { error: 'invalid_request', error_description: 'Invalid Credentials' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    return;
  }
  const withEmail = grant.scopes.includes('https://www.googleapis.com/auth/userinfo.email') || grant.scopes.includes('email');
  sendJson(res, 200, { sub: user.sub, ...(withEmail ? { email: user.email, email_verified: true } : {}) });
}
