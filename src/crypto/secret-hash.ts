/**
 * Client secret hashes. Secrets are 256-bit random values, so a keyed fast hash
 * (HMAC-SHA256 under a key derived from the root key) is the right tool: brute force is
 * hopeless either way, and a slow KDF only let anyone who knows a client id burn CPU.
 * scrypt hashes from earlier versions still verify, and are replaced on next use.
 */
import { randomBytes, scrypt, timingSafeEqual, createHmac } from 'node:crypto';

const N = 16384;
const KEYLEN = 32;

function scryptAsync(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, { N, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt);
  return `scrypt$${N}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || Number(n) !== N || !salt || !key) return false;
  // Cap the work an attacker can force per guess: a megabyte-long "secret" is not one.
  if (secret.length > 512) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Keyed hash for values looked up by equality (codes, token ids): fast, and useless without the key. */
export function lookupHash(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const HMAC_PREFIX = 'hmac-sha256$';

export function hashClientSecret(key: Buffer, secret: string): string {
  return `${HMAC_PREFIX}${createHmac('sha256', key).update(secret, 'utf8').digest('base64url')}`;
}

/** `match-legacy`: right, but stored as scrypt; the caller should store hashClientSecret instead. */
export type ClientSecretCheck = 'match' | 'match-legacy' | 'mismatch';

export async function checkClientSecret(key: Buffer, secret: string, stored: string): Promise<ClientSecretCheck> {
  if (secret.length > 512) return 'mismatch';
  if (stored.startsWith(HMAC_PREFIX)) {
    const expected = Buffer.from(stored.slice(HMAC_PREFIX.length), 'base64url');
    const actual = createHmac('sha256', key).update(secret, 'utf8').digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual) ? 'match' : 'mismatch';
  }
  if (stored.startsWith('scrypt$')) return (await verifySecret(secret, stored)) ? 'match-legacy' : 'mismatch';
  return 'mismatch';
}
