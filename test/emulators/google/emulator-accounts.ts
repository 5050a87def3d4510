/**
 * Google accounts as the emulator knows them: users and their calendar lists, the
 * consent a user will give on the next authorize, authorization codes (PKCE-bound),
 * and access / refresh tokens with the scopes actually granted.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface CalendarListEntry {
  calendarId: string;
  accessRole: 'freeBusyReader' | 'reader' | 'writer' | 'owner';
  primary?: boolean;
  hidden?: boolean;
  summaryOverride?: string;
}

export interface EmulatedUser {
  sub: string;
  email: string;
  calendarList: CalendarListEntry[];
}

/** What the user does on the consent screen. */
export type Consent =
  | { action: 'grant-all' }
  /** Ticks only these of the requested scopes (identity scopes are always granted). */
  | { action: 'grant'; scopes: string[] }
  | { action: 'deny' };

interface Grant {
  sub: string;
  scopes: string[];
  revoked: boolean;
}

interface AccessToken {
  grant: Grant;
  expiresAt: number;
}

interface AuthCode {
  grant: Grant;
  clientId: string;
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  offline: boolean;
  expiresAt: number;
  used: boolean;
}

/** How Google reports the `email` / `profile` shorthands in a token response's `scope`. */
const SCOPE_ALIASES: Record<string, string> = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};
const IDENTITY = new Set(['openid', 'email', 'profile', ...Object.values(SCOPE_ALIASES)]);

const token = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

export class Accounts {
  readonly users = new Map<string, EmulatedUser>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, Grant>();
  private readonly codes = new Map<string, AuthCode>();
  /** Who signs in on the next authorize, and what they consent to. */
  nextLogin: { email?: string; consent: Consent } = { consent: { action: 'grant-all' } };
  accessTokenTtlSec = 3600;
  /**
   * Knob: a refresh answers with a new refresh token and the one presented stops working,
   * as Microsoft's identity platform documents for its rotating refresh tokens (Google
   * keeps a refresh token across refreshes). Lets tests show what two refreshers racing
   * on one rotating token would lose.
   */
  rotateRefreshTokens = false;

  addUser(email: string): EmulatedUser {
    const existing = this.users.get(email);
    if (existing) return existing;
    const sub = String(100_000_000_000_000_000_000n + BigInt(this.users.size + 1));
    const user: EmulatedUser = { sub, email, calendarList: [] };
    this.users.set(email, user);
    return user;
  }

  userBySub(sub: string): EmulatedUser | undefined {
    return [...this.users.values()].find((u) => u.sub === sub);
  }

  /** The scopes a consent yields for a request, in Google's spelling. */
  consentedScopes(requested: string[], consent: Consent): string[] | undefined {
    if (consent.action === 'deny') return undefined;
    const ticked = consent.action === 'grant-all' ? requested : requested.filter((s) => IDENTITY.has(s) || consent.scopes.includes(s));
    return [...new Set(ticked.map((s) => SCOPE_ALIASES[s] ?? s))];
  }

  issueCode(params: Omit<AuthCode, 'grant' | 'expiresAt' | 'used'> & { sub: string; scopes: string[] }): string {
    const code = token('4/0A');
    this.codes.set(code, {
      grant: { sub: params.sub, scopes: params.scopes, revoked: false },
      clientId: params.clientId,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      codeChallengeMethod: params.codeChallengeMethod,
      offline: params.offline,
      expiresAt: Date.now() + 10 * 60_000,
      used: false,
    });
    return code;
  }

  /** RFC 7636: the verifier must hash to the challenge (S256) or equal it (plain). */
  redeemCode(
    code: string,
    clientId: string,
    redirectUri: string | undefined,
    verifier: string | undefined,
  ): { ok: true; grant: Grant; offline: boolean } | { ok: false; error: string; description: string } {
    const entry = this.codes.get(code);
    if (!entry || entry.used || entry.expiresAt < Date.now() || entry.clientId !== clientId) {
      return { ok: false, error: 'invalid_grant', description: 'Bad Request' };
    }
    if (redirectUri !== entry.redirectUri) return { ok: false, error: 'redirect_uri_mismatch', description: 'Bad Request' };
    if (entry.codeChallenge !== undefined) {
      if (!verifier) return { ok: false, error: 'invalid_grant', description: 'Missing code verifier.' };
      const computed = entry.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (computed !== entry.codeChallenge) return { ok: false, error: 'invalid_grant', description: 'Invalid code verifier.' };
    }
    entry.used = true;
    return { ok: true, grant: entry.grant, offline: entry.offline };
  }

  mintAccessToken(grant: Grant): { accessToken: string; expiresIn: number } {
    const accessToken = token('ya29.');
    this.accessTokens.set(accessToken, { grant, expiresAt: Date.now() + this.accessTokenTtlSec * 1000 });
    return { accessToken, expiresIn: this.accessTokenTtlSec };
  }

  mintRefreshToken(grant: Grant): string {
    const refreshToken = token('1//0g');
    this.refreshTokens.set(refreshToken, grant);
    return refreshToken;
  }

  /** Tokens for a user without the browser dance (test setup). */
  issueTokens(email: string, scopes: string[]): { accessToken: string; refreshToken: string; expiresIn: number } {
    const user = this.addUser(email);
    const grant: Grant = { sub: user.sub, scopes: scopes.map((s) => SCOPE_ALIASES[s] ?? s), revoked: false };
    return { ...this.mintAccessToken(grant), refreshToken: this.mintRefreshToken(grant) };
  }

  /** Replaces a refresh token by a new one of the same grant; the old one is refused from now on. */
  rotateRefreshToken(refreshToken: string): string {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant) throw new Error('no such refresh token');
    this.refreshTokens.delete(refreshToken);
    return this.mintRefreshToken(grant);
  }

  /** The refresh tokens of a user that would still be accepted. */
  liveRefreshTokens(email: string): string[] {
    const sub = this.users.get(email)?.sub;
    return [...this.refreshTokens].filter(([, grant]) => grant.sub === sub && !grant.revoked).map(([value]) => value);
  }

  grantOfRefreshToken(refreshToken: string): Grant | undefined {
    const grant = this.refreshTokens.get(refreshToken);
    return grant && !grant.revoked ? grant : undefined;
  }

  /** The grant behind a live access token, or undefined (unknown, expired or revoked). */
  grantOfAccessToken(accessToken: string): Grant | undefined {
    const entry = this.accessTokens.get(accessToken);
    if (!entry || entry.grant.revoked || entry.expiresAt <= Date.now()) return undefined;
    return entry.grant;
  }

  /** Revoking either token revokes the whole grant, as Google documents. */
  revoke(tokenValue: string): boolean {
    const grant = this.refreshTokens.get(tokenValue) ?? this.accessTokens.get(tokenValue)?.grant;
    if (!grant || grant.revoked) return false;
    grant.revoked = true;
    return true;
  }

  /** Knob: the user removes the app's access in their Google account. */
  revokeAllFor(email: string): void {
    const sub = this.users.get(email)?.sub;
    for (const grant of [...this.refreshTokens.values(), ...[...this.accessTokens.values()].map((a) => a.grant)]) {
      if (grant.sub === sub) grant.revoked = true;
    }
  }

  /** Knob: every access token of a user stops working early; refresh tokens keep working. */
  expireAccessTokensFor(email: string): void {
    const sub = this.users.get(email)?.sub;
    for (const entry of this.accessTokens.values()) if (entry.grant.sub === sub) entry.expiresAt = 0;
  }

  /** Knob: an access token stops working early (Google may revoke at any time). */
  expireAccessToken(accessToken: string): void {
    const entry = this.accessTokens.get(accessToken);
    if (entry) entry.expiresAt = 0;
  }
}
