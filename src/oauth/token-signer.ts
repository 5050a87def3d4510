/**
 * JWTs of API.md: access tokens (1 hour, `sub` = the application's user id, `aud` =
 * `projectId` = client id) and refresh tokens (`type: "refresh"`, a `jti`, no `exp`:
 * their validity lives server-side). HS256 only: `alg: none` and every other algorithm
 * is refused before any claim is read.
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Scope } from './scopes.js';
import { isScope } from './scopes.js';

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
/** Longer than any token we issue; anything bigger is not ours and not worth verifying. */
const MAX_TOKEN_LENGTH = 4096;

export interface AccessClaims {
  sub: string;
  clientId: string;
  scope: Scope;
  familyId: string;
  jti: string;
  exp: number;
}

export interface RefreshClaims {
  sub: string;
  clientId: string;
  familyId: string;
  jti: string;
}

export class InvalidTokenError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

function str(payload: JWTPayload, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value === '') throw new InvalidTokenError(`Token is missing the ${name} claim`);
  return value;
}

/** Verified tokens remembered per process. */
const VERIFIED_CACHE_SIZE = 10_000;

export class TokenSigner {
  /** Imported once: handing jose raw bytes makes it import a key on every sign and verify. */
  private readonly cryptoKey: Promise<CryptoKey>;
  /** Tokens whose signature already checked out, with their payload (see `verify`). */
  private readonly verified = new Map<string, JWTPayload>();

  constructor(
    key: Uint8Array,
    private readonly issuer: string,
  ) {
    this.cryptoKey = crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  async signAccess(c: { sub: string; clientId: string; scope: Scope; familyId: string }, now = Date.now()): Promise<string> {
    const iat = Math.floor(now / 1000);
    return new SignJWT({ type: 'access', projectId: c.clientId, scope: c.scope, fid: c.familyId })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setSubject(c.sub)
      .setAudience(c.clientId)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECONDS)
      .sign(await this.cryptoKey);
  }

  async signRefresh(c: { sub: string; clientId: string; familyId: string; jti: string }, now = Date.now()): Promise<string> {
    return new SignJWT({ type: 'refresh', projectId: c.clientId, fid: c.familyId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(c.sub)
      .setAudience(c.clientId)
      .setJti(c.jti)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await this.cryptoKey);
  }

  /**
   * A token's signature and issuer never change, so a token verified once is remembered
   * (bounded, oldest first out) and later requests with it only re-check its expiry:
   * WebCrypto's HMAC runs off the main thread and costs a large share of a small request.
   * Revocation is unaffected: it is checked against the database on every request.
   */
  private remembered(token: string, allowExpired: boolean): JWTPayload | undefined {
    const payload = this.verified.get(token);
    if (!payload) return undefined;
    if (typeof payload.exp === 'number' && Date.now() >= payload.exp * 1000) {
      this.verified.delete(token);
      return allowExpired ? payload : undefined;
    }
    return payload;
  }

  private async verify(token: string, allowExpired: boolean): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('Malformed token');
    }
    const known = this.remembered(token, allowExpired);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, await this.cryptoKey, { algorithms: ['HS256'], issuer: this.issuer });
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, payload);
      return payload;
    } catch (err) {
      // jose checks the signature before the claims, so an expired token's payload is authentic.
      if (err instanceof joseErrors.JWTExpired) {
        if (allowExpired) return err.payload;
        throw new InvalidTokenError('Access token has expired', true);
      }
      throw new InvalidTokenError('Invalid token signature or format');
    }
  }

  async verifyAccess(token: string): Promise<AccessClaims> {
    const payload = await this.verify(token, false);
    if (payload.type !== 'access') throw new InvalidTokenError('Not an access token');
    if (typeof payload.exp !== 'number') throw new InvalidTokenError('Access token has no expiry');
    const scope = payload.scope;
    if (!isScope(scope)) throw new InvalidTokenError('Access token has an unknown scope');
    const clientId = str(payload, 'projectId');
    if (payload.aud !== clientId) throw new InvalidTokenError('Token audience mismatch');
    return { sub: str(payload, 'sub'), clientId, scope, familyId: str(payload, 'fid'), jti: str(payload, 'jti'), exp: payload.exp };
  }

  async verifyRefresh(token: string): Promise<RefreshClaims> {
    const payload = await this.verify(token, false);
    if (payload.type !== 'refresh') throw new InvalidTokenError('Not a refresh token');
    const clientId = str(payload, 'projectId');
    if (payload.aud !== clientId) throw new InvalidTokenError('Token audience mismatch');
    return { sub: str(payload, 'sub'), clientId, familyId: str(payload, 'fid'), jti: str(payload, 'jti') };
  }

  /** For revocation: any authentic token of ours, expired or not, names its family. */
  async identifyForRevocation(token: string): Promise<{ clientId: string; familyId: string } | undefined> {
    try {
      const payload = await this.verify(token, true);
      if (payload.type !== 'access' && payload.type !== 'refresh') return undefined;
      return { clientId: str(payload, 'projectId'), familyId: str(payload, 'fid') };
    } catch {
      return undefined;
    }
  }
}
