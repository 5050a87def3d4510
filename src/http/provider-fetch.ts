/**
 * The `fetch` every provider adapter receives: the fetch API over `sendBuffered`, so
 * each answer is complete, capped in size, and can never crash the process (see
 * buffered-dispatch.ts). Redirects are followed here, one hop at a time, so a policy
 * (guarded-fetch.ts) can check every hop, and credentials never follow a redirect to
 * another origin.
 */
import { Agent, type Dispatcher } from 'undici';
import { sendBuffered } from './buffered-dispatch.js';

export class TooManyRedirectsError extends Error {
  constructor(readonly limit: number) {
    super(`Stopped after ${limit} redirects`);
    this.name = 'TooManyRedirectsError';
  }
}

/** A URL that will not be fetched at all (scheme, credentials in the URL, malformed). */
export class RefusedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedUrlError';
  }
}

/** 10 MB: far above any sane calendar answer, far below what hurts the process. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface ProviderFetchOptions {
  /** Largest answer accepted, in bytes (after decompression too). Default 10 MB. */
  maxResponseBytes?: number;
  /** Whole-exchange limit including the body, across redirects. Default 30 s. */
  timeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Default: a fresh undici Agent. */
  dispatcher?: Dispatcher;
  /** Runs before every hop; throws to refuse the URL. */
  checkUrl?(url: URL): void;
  /** Turns a rejection into the error callers should see (e.g. a policy error buried in a cause). */
  mapError?(err: unknown): unknown;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Request bodies as bytes; fetch's default content types for the kinds that have one. */
function encodeBody(body: unknown, headers: Headers): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
    return Buffer.from(body, 'utf8');
  }
  if (body instanceof URLSearchParams) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    return Buffer.from(body.toString(), 'utf8');
  }
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Streams cannot be replayed across redirects or retries; no provider request needs one.
  throw new TypeError('Provider requests take a string, URLSearchParams or byte body');
}

function headerPairs(headers: Headers): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  headers.forEach((value, name) => pairs.push([name, value]));
  return pairs;
}

export function createProviderFetch(options: ProviderFetchOptions): typeof fetch {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 5;
  const dispatcher = options.dispatcher ?? new Agent();
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const mapError = options.mapError ?? ((err: unknown) => err);

  const providerFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let request: RequestInit = init;
    let target: string;
    if (input instanceof Request) {
      target = input.url;
      const body = input.body ? await input.arrayBuffer() : undefined;
      request = { method: input.method, headers: input.headers, body, redirect: input.redirect, signal: input.signal, ...init };
    } else {
      target = input.toString();
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new RefusedUrlError('Not a valid absolute URL');
    }

    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let method = (request.method ?? 'GET').toUpperCase();
    const headers = new Headers(request.headers);
    let body = encodeBody(request.body, headers);
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br');
    if (!headers.has('user-agent')) headers.set('user-agent', 'Almanac');
    const mode = request.redirect ?? 'follow';

    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new RefusedUrlError(`Only http and https URLs can be fetched, not ${url.protocol.replace(/:$/, '')}`);
      }
      options.checkUrl?.(url);
      let response: Response;
      try {
        response = await sendBuffered(dispatcher, { url, method, headers: headerPairs(headers), ...(body ? { body } : {}), signal }, maxBytes);
      } catch (err) {
        throw mapError(err);
      }
      if (!REDIRECT_STATUSES.has(response.status) || mode === 'manual') return response;
      const location = response.headers.get('location');
      if (!location) return response;
      if (mode === 'error') throw new TypeError(`Unexpected redirect to ${location}`);
      if (hop >= maxRedirects) throw new TooManyRedirectsError(maxRedirects);
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        // As browsers do: credentials meant for one origin are not handed to another.
        headers.delete('authorization');
        headers.delete('cookie');
      }
      const toGet = (response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST');
      if (toGet) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
        headers.delete('content-length');
      }
      url = next;
    }
  };
  return providerFetch as typeof fetch;
}
