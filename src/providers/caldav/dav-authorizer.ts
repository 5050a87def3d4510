/**
 * The Authorization header of every request to one CalDAV account: Basic, sent up front
 * as most servers expect, until a 401 carries a Digest challenge; from then on Digest.
 *
 * A server's Digest challenge is remembered per origin and user for the process, so the
 * next client for the same account starts with Digest: no request of it goes out with
 * Basic first (which would send the password in the clear over http) and none costs an
 * extra round trip. Only challenge parameters are kept, never credentials.
 */
import { digestAuthorization, digestChallengeOf, type DigestChallenge } from './http-digest.js';

export interface DavAccountCredentials {
  username: string;
  password: string;
}

interface Learned {
  challenge: DigestChallenge;
  /** Requests sent under this challenge's nonce. */
  count: number;
}

const MAX_REMEMBERED = 1000;
const remembered = new Map<string, Learned>();

function keyOf(url: string, username: string): string {
  return `${new URL(url).origin}\u0000${username}`;
}

export function basicAuthorization({ username, password }: DavAccountCredentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export interface DavAuthorizer {
  /** The header for this request. */
  authorization(method: string, url: string, body?: string): string;
  /**
   * After a 401: whether the answer taught something worth one more try (a first Digest
   * challenge, a stale nonce, or a new one where a remembered one was refused). False
   * means the credentials were refused.
   */
  learn(wwwAuthenticate: string | null, url: string, refused: { digest: boolean; learnedThisRequest: boolean }): boolean;
}

export function createDavAuthorizer(credentials: DavAccountCredentials): DavAuthorizer {
  const basic = basicAuthorization(credentials);
  return {
    authorization(method, url, body) {
      const key = keyOf(url, credentials.username);
      const learned = remembered.get(key);
      if (!learned) return basic;
      learned.count += 1;
      const target = new URL(url);
      return digestAuthorization(learned.challenge, {
        ...credentials,
        method,
        uri: `${target.pathname}${target.search}`,
        ...(body !== undefined ? { body } : {}),
        nonceCount: learned.count,
      });
    },
    learn(wwwAuthenticate, url, refused) {
      const key = keyOf(url, credentials.username);
      const challenge = digestChallengeOf(wwwAuthenticate);
      if (!challenge) return false;
      // Digest under a nonce this very request obtained was refused: the password is wrong,
      // not the scheme. (Servers such as SabreDAV hand out a new nonce with every 401, so a
      // changed nonce alone says nothing.)
      if (refused.digest && refused.learnedThisRequest && !challenge.stale) {
        remembered.delete(key);
        return false;
      }
      remembered.delete(key);
      remembered.set(key, { challenge, count: 0 });
      if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
      return true;
    },
  };
}

/**
 * Sends a request with the account's Authorization, answering a Digest challenge (or a
 * stale nonce) by sending it again: at most three tries, so a server that keeps
 * challenging cannot loop. Any other answer, 401 included, is returned as it is.
 */
export async function sendAuthorized(
  authorizer: DavAuthorizer,
  url: string,
  method: string,
  body: string | undefined,
  send: (authorization: string) => Promise<Response>,
): Promise<Response> {
  let learnedThisRequest = false;
  for (let attempt = 1; ; attempt++) {
    const authorization = authorizer.authorization(method, url, body);
    const response = await send(authorization);
    if (response.status !== 401 || attempt === 3) return response;
    const digest = authorization.startsWith('Digest ');
    if (!authorizer.learn(response.headers.get('www-authenticate'), url, { digest, learnedThisRequest })) return response;
    learnedThisRequest = true;
    await response.body?.cancel();
  }
}
