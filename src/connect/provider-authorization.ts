/**
 * `state` and PKCE for the provider OAuth step (Google, Microsoft), with no server-side
 * storage: the state carries a random nonce and a MAC binding it to this connect
 * session and provider; the PKCE verifier is derived from the same values under the
 * server key, so only this server can recompute it, and only for its own session.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

function mac(key: Buffer, label: string): string {
  return createHmac('sha256', key).update(label).digest('base64url');
}

export interface ProviderAuthorization {
  state: string;
  codeVerifier: string;
  codeChallenge: string;
}

function verifierFor(key: Buffer, sid: string, provider: string, nonce: string): string {
  // 43 base64url characters: a valid RFC 7636 verifier.
  return mac(key, `pkce.${provider}.${sid}.${nonce}`);
}

export function newProviderAuthorization(key: Buffer, sid: string, provider: string): ProviderAuthorization {
  const nonce = randomBytes(16).toString('base64url');
  const state = `${nonce}.${mac(key, `state.${provider}.${sid}.${nonce}`)}`;
  const codeVerifier = verifierFor(key, sid, provider, nonce);
  return { state, codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url') };
}

/** The PKCE verifier when `state` was issued for this session and provider; undefined for anything else. */
export function verifyProviderState(key: Buffer, sid: string, provider: string, state: unknown): string | undefined {
  if (typeof state !== 'string' || state.length > 200) return undefined;
  const [nonce, given, ...rest] = state.split('.');
  if (!nonce || !given || rest.length > 0) return undefined;
  const expected = Buffer.from(mac(key, `state.${provider}.${sid}.${nonce}`));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
  return verifierFor(key, sid, provider, nonce);
}
