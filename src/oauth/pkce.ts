import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1/4.2: 43-128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export const isValidCodeChallenge = (value: string): boolean => PKCE_VALUE.test(value);
export const isValidCodeVerifier = (value: string): boolean => PKCE_VALUE.test(value);

export function verifyS256(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
