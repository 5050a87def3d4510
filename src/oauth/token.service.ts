/**
 * The token endpoint's grants and revocation, as small steps in the order RFC 6749,
 * RFC 7636 and RFC 9700 check them. Every state change is a conditional write in the
 * database, so any number of instances agree.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { OAuthError } from '../domain/errors.js';
import { lookupHash, randomToken } from '../crypto/secret-hash.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import type { AuthCodeRecord, AuthCodesRepository } from '../storage/repositories/auth-codes.repo.js';
import type { GrantsRepository } from '../storage/repositories/grants.repo.js';
import type { TokensRepository } from '../storage/repositories/tokens.repo.js';
import { isValidCodeVerifier, verifyS256 } from './pkce.js';
import type { Scope } from './scopes.js';
import { isScope } from './scopes.js';
import { ACCESS_TOKEN_TTL_SECONDS, InvalidTokenError, type TokenSigner } from './token-signer.js';

export const CODE_TTL_MS = 10 * 60 * 1000;

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: Scope;
}

/** What a valid bearer token grants, as the API guard sees it. */
export interface AuthContext {
  clientId: string;
  /** Internal end-user row id. */
  userId: string;
  /** The application's own user id (`sub`). */
  externalUserId: string;
  scope: Scope;
  familyId: string;
  tokenId: string;
}

export interface TokenServiceDeps {
  signer: TokenSigner;
  codes: AuthCodesRepository;
  tokens: TokensRepository;
  grants: GrantsRepository;
  lookupKey: Buffer;
  /** Keys.refreshSuccessor: derives a refresh token's successor id from its own. */
  successorKey: Buffer;
  /** ALMANAC_REFRESH_GRACE_SECONDS in ms; 0 = strict reuse detection. */
  refreshGraceMs: number;
}

export class TokenService {
  constructor(private readonly deps: TokenServiceDeps) {}

  private hash(value: string): string {
    return lookupHash(this.deps.lookupKey, value);
  }

  /**
   * Issues a one-time code for a finished connect session. Returns the code to send.
   * The code is bound to the session: exchanging it joins what that session connected.
   */
  async issueCode(input: { clientId: string; userId: string; sessionId: string; scope: Scope; redirectUri: string; redirectUriExplicit: boolean; codeChallenge: string | null }): Promise<string> {
    const code = randomToken(32);
    // Housekeeping on the write path (indexed, cheap): codes a day past expiry are no use even for replay detection.
    await this.deps.codes.deleteExpired(Date.now() - 24 * 3600_000);
    await this.deps.codes.insert({ ...input, codeHash: this.hash(code), expiresAt: Date.now() + CODE_TTL_MS });
    return code;
  }

  /**
   * Whether this is the party the code was issued to: its client, at its redirect_uri.
   * Anyone else is refused without touching the code, so a stranger can neither use up
   * the code of the legitimate client nor, by replaying a used one, revoke what it issued.
   */
  private foreignParty(client: ClientRecord, code: AuthCodeRecord, p: { redirect_uri?: string }): OAuthError | undefined {
    if (code.clientId !== client.clientId) return new OAuthError('invalid_grant', 'Authorization code was issued to another client');
    if (p.redirect_uri !== undefined ? p.redirect_uri !== code.redirectUri : code.redirectUriExplicit) {
      return new OAuthError('invalid_grant', 'redirect_uri does not match the one used in the authorization request');
    }
    return undefined;
  }

  /**
   * Why `client` may not redeem `code` with these parameters; undefined when it may. A
   * code already used is only checked for the party: the right client's replay must
   * reach replay detection whatever else it sends.
   */
  private refusal(client: ClientRecord, code: AuthCodeRecord, p: { redirect_uri?: string; code_verifier?: string }): OAuthError | undefined {
    const foreign = this.foreignParty(client, code, p);
    if (foreign || code.usedAt !== null) return foreign;
    if (code.expiresAt <= Date.now()) return new OAuthError('invalid_grant', 'Authorization code has expired');
    if (code.codeChallenge) {
      if (!p.code_verifier) return new OAuthError('invalid_grant', 'Missing code_verifier for a PKCE authorization');
      if (!isValidCodeVerifier(p.code_verifier) || !verifyS256(p.code_verifier, code.codeChallenge)) {
        return new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
      }
    } else if (p.code_verifier !== undefined) {
      return new OAuthError('invalid_grant', 'code_verifier sent for an authorization without PKCE');
    }
    if (!isScope(code.scope)) return new OAuthError('invalid_grant', 'Authorization code has an unknown scope');
    return undefined;
  }

  /**
   * The authorization_code grant. The claim, the checks, joining the accounts the code's
   * connect session added, and the new token family are one transaction: a connection
   * takes effect exactly when this succeeds.
   */
  async exchangeCode(client: ClientRecord, p: { code?: string; redirect_uri?: string; code_verifier?: string }): Promise<TokenResponse> {
    if (!p.code) throw new OAuthError('invalid_request', 'Missing code');
    if (p.code.length > 512) throw new OAuthError('invalid_grant', 'Invalid authorization code');
    const familyId = randomUUID();
    const jti = randomUUID();
    const outcome = await this.deps.grants.redeem(this.hash(p.code), { id: familyId, firstRefreshHash: this.hash(jti) }, (code) => this.refusal(client, code, p));
    switch (outcome.kind) {
      case 'unknown':
        throw new OAuthError('invalid_grant', 'Invalid authorization code');
      case 'replayed':
        // RFC 6749 §4.1.2: a code used twice revokes what it issued. The claim and the family commit
        // together, so a replay sees the family of an exchange that succeeded.
        if (outcome.code.familyId) await this.deps.tokens.revokeFamily(outcome.code.familyId, 'code_replay');
        throw new OAuthError('invalid_grant', 'Authorization code has already been used');
      case 'refused':
        throw outcome.refusal;
      case 'redeemed':
        return this.respond(outcome.externalUserId, client.clientId, outcome.code.scope as Scope, familyId, jti);
    }
  }

  async refresh(client: ClientRecord, p: { refresh_token?: string }): Promise<TokenResponse> {
    if (!p.refresh_token) throw new OAuthError('invalid_request', 'Missing refresh_token');
    let claims;
    try {
      claims = await this.deps.signer.verifyRefresh(p.refresh_token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new OAuthError('invalid_grant', 'Invalid refresh token');
      throw err;
    }
    if (claims.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'Refresh token was issued to another client');
    // The successor's id is a keyed function of the presented one, so a repeat within the
    // grace re-signs the very same refresh token (same jti, same iat) without storing it:
    // the family never has more than one live refresh token.
    const nextJti = createHmac('sha256', this.deps.successorKey).update(claims.jti).digest('base64url');
    const outcome = await this.deps.tokens.rotate(this.hash(claims.jti), claims.familyId, this.hash(nextJti), this.deps.refreshGraceMs);
    switch (outcome.kind) {
      case 'unknown':
        throw new OAuthError('invalid_grant', 'Invalid refresh token');
      case 'revoked':
        throw new OAuthError('invalid_grant', 'Refresh token has been revoked');
      case 'reused':
        throw new OAuthError('invalid_grant', 'Refresh token was already used; its token family has been revoked');
      case 'rotated': {
        const scope = outcome.family.scope;
        if (!isScope(scope)) throw new OAuthError('invalid_grant', 'Refresh token has an unknown scope');
        return this.respond(claims.sub, client.clientId, scope, claims.familyId, nextJti, outcome.issuedAt);
      }
    }
  }

  /** RFC 7009 as API.md widens it: every token of that user and client. Silent for anything unknown. */
  async revoke(token: string): Promise<void> {
    const identified = await this.deps.signer.identifyForRevocation(token);
    if (!identified) return;
    const family = await this.deps.tokens.findFamily(identified.familyId);
    if (!family || family.clientId !== identified.clientId) return;
    await this.deps.tokens.revokeUserClient(family.clientId, family.userId, 'revoked_by_client');
  }

  /** Bearer check on every protected request: signature, expiry, then the family's live state. */
  async authenticate(accessToken: string): Promise<AuthContext> {
    const claims = await this.deps.signer.verifyAccess(accessToken);
    const family = await this.deps.tokens.findFamily(claims.familyId);
    if (!family || family.revokedAt !== null) throw new InvalidTokenError('Access token has been revoked');
    if (family.clientId !== claims.clientId) throw new InvalidTokenError('Token does not belong to its client');
    return { clientId: claims.clientId, userId: family.userId, externalUserId: claims.sub, scope: claims.scope, familyId: family.id, tokenId: claims.jti };
  }

  /** `refreshIssuedAt`: the refresh token's iat (HS256 is deterministic, so the same inputs give the same token). */
  private async respond(sub: string, clientId: string, scope: Scope, familyId: string, jti: string, refreshIssuedAt = Date.now()): Promise<TokenResponse> {
    const [access, refresh] = await Promise.all([
      this.deps.signer.signAccess({ sub, clientId, scope, familyId }),
      this.deps.signer.signRefresh({ sub, clientId, familyId, jti }, refreshIssuedAt),
    ]);
    return { access_token: access, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS, refresh_token: refresh, scope };
  }
}
