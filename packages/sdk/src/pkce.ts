// PKCE (RFC 7636) helpers. Almanac accepts `code_challenge` with method S256 on
// authorize and checks `code_verifier` on the token call; Mobiscroll's SDK has
// no PKCE support at all.
//
// These functions are async because Node 18 has Web Crypto only behind
// `node:crypto` (the `crypto` global arrived unflagged in Node 19), and reaching
// it from an ES module needs a dynamic import.

/** What the helpers need from Web Crypto. */
interface WebCrypto {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  subtle: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> };
}

let cryptoPromise: Promise<WebCrypto> | undefined;

function webCrypto(): Promise<WebCrypto> {
  cryptoPromise ??= (async () => {
    const global = (globalThis as { crypto?: WebCrypto }).crypto;
    if (global?.subtle && typeof global.getRandomValues === 'function') return global;
    // A variable specifier keeps browser bundlers from trying to resolve a Node built-in.
    const specifier = 'node:crypto';
    const mod = (await import(specifier)) as { webcrypto?: WebCrypto };
    if (!mod.webcrypto) throw new Error('No Web Crypto implementation available for PKCE');
    return mod.webcrypto;
  })();
  return cryptoPromise;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function randomString(byteLength: number): Promise<string> {
  const bytes = new Uint8Array(byteLength);
  (await webCrypto()).getRandomValues(bytes);
  return base64url(bytes);
}

/**
 * A fresh code verifier: `byteLength` random bytes, base64url-encoded. The default
 * 32 bytes gives the 43-character minimum RFC 7636 allows, with 256 bits of entropy.
 */
export async function generateCodeVerifier(byteLength = 32): Promise<string> {
  // 32..96 bytes encode to 43..128 characters, the range RFC 7636 §4.1 allows.
  if (!Number.isInteger(byteLength) || byteLength < 32 || byteLength > 96) {
    throw new RangeError('byteLength must be an integer from 32 to 96');
  }
  return randomString(byteLength);
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export async function generateCodeChallenge(codeVerifier: string): Promise<string> {
  const digest = await (await webCrypto()).subtle.digest(
    'SHA-256',
    new TextEncoder().encode(codeVerifier),
  );
  return base64url(new Uint8Array(digest));
}

export interface PkcePair {
  /** Keep server-side (e.g. in the session) and pass to `auth.getToken(code, { codeVerifier })`. */
  codeVerifier: string;
  /** Pass to `auth.generateAuthUrl({ codeChallenge })`. */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/** A verifier and its S256 challenge in one call. */
export async function createPkcePair(): Promise<PkcePair> {
  const codeVerifier = await generateCodeVerifier();
  return {
    codeVerifier,
    codeChallenge: await generateCodeChallenge(codeVerifier),
    codeChallengeMethod: 'S256',
  };
}

/** A random `state` value for the authorize URL (128 bits, base64url). */
export async function generateState(): Promise<string> {
  return randomString(16);
}
