/**
 * The Microsoft identity platform v2.0 endpoints (`/{tenant}/oauth2/v2.0/authorize` and
 * `/token`), as the auth code flow document describes them: PKCE (S256 or plain),
 * refresh tokens only with `offline_access`, refresh tokens replaced on every refresh
 * (the old one stays usable unless `strictRotation`), errors as
 * `{ error, error_description: "AADSTS…", error_codes, timestamp, trace_id, correlation_id }`.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readForm, redirect, sendHtml, sendJson } from './graph-http.js';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com/';
const OIDC = new Set(['openid', 'email', 'profile', 'offline_access']);

/** What the next sign-in consents to. */
export type Consent =
  | { action: 'grant-all' }
  /** Only the listed requested scopes (e.g. without Calendars.*): partial consent. */
  | { action: 'grant'; scopes: string[] }
  | { action: 'deny' }
  /** The tenant requires an administrator to consent (AADSTS65001 on redirect, 90094 shown at the login page). */
  | { action: 'admin-required'; code?: 65001 | 90094 };

export interface User {
  email: string;
  oid: string;
  tid: string;
  name: string;
  /** Work accounts may have no `email` claim; preferred_username is then the UPN. */
  emailClaim: boolean;
}

interface Grant {
  email: string;
  scopes: string[];
}

interface RefreshRecord extends Grant {
  valid: boolean;
  /** Why it stopped working: the AADSTS code the token endpoint reports. */
  deadCode?: number;
}

export class Identity {
  readonly users = new Map<string, User>();
  private readonly codes = new Map<string, Grant & { redirectUri: string; challenge?: string; method?: string; offline: boolean; used: boolean; expiresAt: number }>();
  private readonly access = new Map<string, Grant & { expiresAt: number }>();
  private readonly refresh = new Map<string, RefreshRecord>();
  nextLogin: { email?: string; consent: Consent } = { consent: { action: 'grant-all' } };
  /** Knob: invalidate a refresh token as soon as it has been used once. */
  strictRotation = false;
  accessTokenSeconds = 3599;
  /** Knob: the token endpoint answers this much later (widens refresh races). */
  tokenDelayMs = 0;
  readonly stats = { refreshes: 0, codeExchanges: 0 };

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
    readonly redirectUris: string[],
  ) {}

  addUser(email: string, options: { emailClaim?: boolean } = {}): User {
    let user = this.users.get(email);
    if (!user) {
      user = { email, oid: randomUUID(), tid: '9188040d-6c67-4c5b-b112-36a304b66dad', name: email.split('@')[0]!, emailClaim: options.emailClaim ?? true };
      this.users.set(email, user);
    }
    return user;
  }

  issue(email: string, scopes: string[]): { accessToken: string; refreshToken: string; expiresIn: number } {
    this.addUser(email);
    const accessToken = `EwA${randomBytes(24).toString('base64url')}`;
    const refreshToken = `M.C5${randomBytes(24).toString('base64url')}`;
    this.access.set(accessToken, { email, scopes, expiresAt: Date.now() + this.accessTokenSeconds * 1000 });
    this.refresh.set(refreshToken, { email, scopes, valid: true });
    return { accessToken, refreshToken, expiresIn: this.accessTokenSeconds };
  }

  /** The grant behind a bearer token, or why Graph answers 401. */
  grantOf(token: string | undefined): Grant | 'expired' | 'invalid' {
    if (!token) return 'invalid';
    const grant = this.access.get(token);
    if (!grant) return 'invalid';
    if (grant.expiresAt <= Date.now()) return 'expired';
    return grant;
  }

  expireAccessTokens(email?: string): void {
    for (const grant of this.access.values()) if (!email || grant.email === email) grant.expiresAt = 0;
  }

  /** Every refresh token of the user stops working with `code` (700082 inactivity, 50173 revoked, 70000 other). */
  killRefreshTokens(email: string, code: 700082 | 50173 | 70000 = 50173): void {
    for (const record of this.refresh.values()) {
      if (record.email === email) {
        record.valid = false;
        record.deadCode = code;
      }
    }
  }

  authorize(res: ServerResponse, url: URL, tenant: string): void {
    const q = url.searchParams;
    if (!['common', 'organizations', 'consumers'].includes(tenant) && !/^[0-9a-f-]{36}$|\./i.test(tenant)) {
      return page(res, 400, 'AADSTS90002', `Tenant '${tenant}' not found.`);
    }
    if (q.get('client_id') !== this.clientId) return page(res, 400, 'AADSTS700016', `Application with identifier '${q.get('client_id')}' was not found in the directory.`);
    const redirectUri = q.get('redirect_uri') ?? '';
    if (this.redirectUris.length > 0 && !this.redirectUris.includes(redirectUri)) {
      return page(res, 400, 'AADSTS50011', 'The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    }
    if (q.get('response_type') !== 'code') return page(res, 400, 'AADSTS900144', "The request body must contain the following parameter: 'response_type'.");
    const requested = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (requested.length === 0) return page(res, 400, 'AADSTS900144', "The request body must contain the following parameter: 'scope'.");
    const challenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
    if (method && method !== 'S256' && method !== 'plain') return page(res, 400, 'AADSTS501491', 'Invalid code_challenge_method.');

    const back = new URL(redirectUri);
    const state = q.get('state');
    const reply = (params: Record<string, string>): void => {
      for (const [k, v] of Object.entries(params)) back.searchParams.set(k, v);
      if (state !== null) back.searchParams.set('state', state);
      redirect(res, back.toString());
    };
    const { consent, email: loginEmail } = this.nextLogin;
    if (consent.action === 'deny') {
      return reply({ error: 'access_denied', error_subcode: 'cancel', error_description: 'AADSTS65004: User declined to consent to access the app.' });
    }
    if (consent.action === 'admin-required') {
      if (consent.code === 90094) {
        return reply({ error: 'access_denied', error_description: 'AADSTS90094: The grant requires admin permission.' });
      }
      return reply({ error: 'consent_required', error_description: "AADSTS65001: The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource." });
    }
    const granted = consent.action === 'grant' ? requested.filter((s) => consent.scopes.includes(s)) : requested;
    const email = loginEmail ?? q.get('login_hint') ?? 'user@contoso.onmicrosoft.com';
    this.addUser(email);
    const code = `0.AX${randomBytes(32).toString('base64url')}`;
    this.codes.set(code, {
      email,
      scopes: granted.map(normalize),
      redirectUri,
      challenge,
      method,
      offline: granted.includes('offline_access'),
      used: false,
      expiresAt: Date.now() + 10 * 60_000,
    });
    reply({ code, session_state: randomUUID() });
  }

  /** The user's refresh tokens the token endpoint still accepts. */
  liveRefreshTokens(email: string): string[] {
    return [...this.refresh.entries()].filter(([, r]) => r.email === email && r.valid).map(([token]) => token);
  }

  accessTokenWorks(token: string): boolean {
    return typeof this.grantOf(token) === 'object';
  }

  async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    if (this.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
    const fail = (status: number, error: string, code: number, description: string): void =>
      sendJson(res, status, {
        error,
        error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
        error_codes: [code],
        timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      });
    if (form.client_id !== this.clientId) return fail(400, 'unauthorized_client', 700016, `Application with identifier '${form.client_id}' was not found in the directory.`);
    if (form.client_secret !== this.clientSecret) return fail(401, 'invalid_client', 7000215, 'Invalid client secret provided.');

    if (form.grant_type === 'authorization_code') {
      this.stats.codeExchanges += 1;
      const code = this.codes.get(form.code ?? '');
      if (!code || code.used || code.expiresAt < Date.now()) return fail(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity.');
      code.used = true;
      if (code.redirectUri !== form.redirect_uri) return fail(400, 'invalid_grant', 50148, 'The redirect_uri does not match the redirect URI used in the authorization request.');
      if (code.challenge) {
        const verifier = form.code_verifier ?? '';
        const computed = code.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
        if (computed !== code.challenge) return fail(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
      }
      return this.answer(res, code.email, code.scopes, code.offline);
    }
    if (form.grant_type === 'refresh_token') {
      this.stats.refreshes += 1;
      const record = this.refresh.get(form.refresh_token ?? '');
      if (!record) return fail(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
      if (!record.valid) {
        const code = record.deadCode ?? 70000;
        const text = code === 700082
          ? 'The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00.'
          : code === 50173
            ? 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.'
            : 'The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.';
        return fail(400, 'invalid_grant', code, text);
      }
      if (this.strictRotation) {
        record.valid = false;
        record.deadCode = 70000;
      }
      return this.answer(res, record.email, record.scopes, true);
    }
    return fail(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  }

  private answer(res: ServerResponse, email: string, scopes: string[], offline: boolean): void {
    const user = this.addUser(email);
    const issued = this.issue(email, scopes);
    if (!offline) this.refresh.delete(issued.refreshToken);
    const claims: Record<string, unknown> = {
      aud: this.clientId,
      iss: `https://login.microsoftonline.com/${user.tid}/v2.0`,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 3600,
      oid: user.oid,
      tid: user.tid,
      sub: createHash('sha256').update(`${user.oid}/${this.clientId}`).digest('base64url').slice(0, 43),
      ver: '2.0',
      ...(scopes.includes('profile') ? { name: user.name, preferred_username: email } : {}),
      ...(scopes.includes('email') && user.emailClaim ? { email } : {}),
    };
    const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    sendJson(res, 200, {
      token_type: 'Bearer',
      // Graph permissions come back qualified with their resource; OIDC scopes do not, and offline_access is implied.
      scope: scopes.filter((s) => s !== 'offline_access').map((s) => (OIDC.has(s) ? s : `${GRAPH_RESOURCE}${s}`)).join(' '),
      expires_in: issued.expiresIn,
      ext_expires_in: issued.expiresIn,
      access_token: issued.accessToken,
      ...(offline ? { refresh_token: issued.refreshToken } : {}),
      ...(scopes.includes('openid') ? { id_token: `${part({ typ: 'JWT', alg: 'RS256', kid: 'emulator' })}.${part(claims)}.${randomBytes(32).toString('base64url')}` } : {}),
    });
  }
}

/** `https://graph.microsoft.com/Calendars.Read` and `Calendars.Read` are one permission. */
function normalize(scope: string): string {
  return scope.startsWith(GRAPH_RESOURCE) ? scope.slice(GRAPH_RESOURCE.length) : scope;
}

function page(res: ServerResponse, status: number, code: string, message: string): void {
  sendHtml(res, status, `<!doctype html><title>Sign in to your account</title><p>${code}: ${message}</p>`);
}
