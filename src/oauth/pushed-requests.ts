/**
 * Pushed authorization requests (RFC 9126). An application that authenticates itself
 * pushes the authorize parameters and gets an opaque request_uri; opening the connect
 * pages with it proves the application vouched for `user_id`, which a plain authorize
 * URL (anyone can type one) never does. The request_uri is random, stored only as a
 * keyed hash, works once, and expires after a minute.
 */
import { lookupHash, randomToken } from '../crypto/secret-hash.js';
import type { PushedRequestsRepository } from '../storage/repositories/pushed-requests.repo.js';
import type { AuthorizeRequest } from './authorize-request.js';

/** RFC 9126 §2.2: the URN prefix of a request_uri. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** Long enough to redirect a browser, short enough that a leaked link is useless soon (RFC 9126 §2.2 suggests 5 to 600 s). */
export const PUSHED_REQUEST_TTL_SECONDS = 60;

export type OpenedRequest = { kind: 'ok'; request: AuthorizeRequest } | { kind: 'unknown' | 'used' | 'expired' };

export class PushedRequests {
  constructor(
    private readonly repo: PushedRequestsRepository,
    private readonly lookupKey: Buffer,
  ) {}

  async push(clientId: string, request: AuthorizeRequest, now = Date.now()): Promise<{ request_uri: string; expires_in: number }> {
    const requestUri = `${REQUEST_URI_PREFIX}${randomToken(32)}`;
    await this.repo.insert({ requestHash: lookupHash(this.lookupKey, requestUri), clientId, params: request, expiresAt: now + PUSHED_REQUEST_TTL_SECONDS * 1000 }, now);
    return { request_uri: requestUri, expires_in: PUSHED_REQUEST_TTL_SECONDS };
  }

  /** The pushed request, used up by this call; only the client that pushed it can open it. */
  async open(clientId: string, requestUri: string, now = Date.now()): Promise<OpenedRequest> {
    if (!requestUri.startsWith(REQUEST_URI_PREFIX) || requestUri.length > 200) return { kind: 'unknown' };
    const consumed = await this.repo.consume(lookupHash(this.lookupKey, requestUri), clientId, now);
    if (consumed.kind !== 'ok') return consumed;
    return { kind: 'ok', request: consumed.params as AuthorizeRequest };
  }
}
