/**
 * One HTTP exchange with a provider, its answer read whole into memory under a byte
 * cap before anyone sees it. Two reasons this does not use `fetch`:
 *
 * - A provider answer must never be able to end the process. undici's HTTP/1 parser
 *   pauses when a body consumer signals backpressure, and a peer that closes the
 *   socket while it is paused (HTTP/1.0 or `Connection: close`, as Radicale answers)
 *   trips an uncatchable assertion in undici 6 and 7 (nodejs/undici#5360; fixed only
 *   in undici 8, which needs Node 22). The handler below never asks the parser to
 *   pause: every chunk is taken at once, so that state is never reached.
 * - A provider answer must not be able to fill memory. Bytes are counted as they
 *   arrive and the exchange is aborted the moment the count passes the cap, also
 *   after decompression; nothing beyond the cap is ever held.
 */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { ResponseTooLargeError } from '../providers/types.js';

export interface BufferedRequest {
  url: URL;
  method: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  signal: AbortSignal;
}

const decoders: Record<string, (input: Buffer, options: ZlibOptions) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  br: promisify(brotliDecompress) as (input: Buffer, options: ZlibOptions) => Promise<Buffer>,
  deflate: async (input, options) => {
    // "deflate" is zlib-wrapped by the standard and raw in the wild; browsers accept both.
    try {
      return await promisify(inflate)(input, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
      return promisify(inflateRaw)(input, options);
    }
  },
};

/** Undoes the content codings (last applied first), never producing more than `maxBytes`. */
async function decode(body: Buffer, contentEncoding: string | null, maxBytes: number): Promise<Buffer> {
  if (!contentEncoding || body.length === 0) return body;
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  let out = body;
  for (const coding of codings.reverse()) {
    const decoder = decoders[coding];
    // An unknown coding is left as is, as fetch does; the caller's parser will refuse it.
    if (!decoder) return out;
    try {
      out = await decoder(out, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ResponseTooLargeError(maxBytes);
      throw new TypeError('fetch failed', { cause: err });
    }
  }
  return out;
}

function toHeaders(raw: Buffer[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!.toString('latin1'), raw[i + 1]!.toString('latin1'));
    } catch {
      // A header Headers cannot hold (control characters) is dropped, not fatal.
    }
  }
  return headers;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * Sends one request and resolves to a complete Response (its `url` is the request URL).
 * Rejects with the signal's reason when aborted, ResponseTooLargeError over the cap,
 * and `TypeError('fetch failed')` with the cause for network failures, as fetch does.
 */
export function sendBuffered(dispatcher: Dispatcher, request: BufferedRequest, maxBytes: number): Promise<Response> {
  const { url, signal } = request;
  return new Promise<Response>((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    let status = 0;
    let statusText = '';
    let headers = new Headers();
    let abortExchange: ((err: Error) => void) | undefined;
    let settled = false;

    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (err: unknown): void => finish(() => reject(err));
    function onAbort(): void {
      const reason = signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
      fail(reason);
      abortExchange?.(reason);
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandlers = {
      onConnect(abort) {
        abortExchange = abort;
        // A retried exchange starts over.
        chunks = [];
        received = 0;
      },
      onHeaders(statusCode, rawHeaders, _resume, text) {
        // 1xx interim answers come before the real one.
        if (statusCode < 200) return true;
        status = statusCode;
        statusText = text;
        headers = toHeaders(rawHeaders);
        const declared = Number(headers.get('content-length'));
        if (Number.isFinite(declared) && declared > maxBytes) {
          const err = new ResponseTooLargeError(maxBytes);
          fail(err);
          abortExchange?.(err);
        }
        // Never `false`, here or in onData: a paused parser is what lets a closing peer crash undici.
        return true;
      },
      onData(chunk) {
        if (settled) return true;
        received += chunk.length;
        if (received > maxBytes) {
          const err = new ResponseTooLargeError(maxBytes);
          chunks = [];
          fail(err);
          abortExchange?.(err);
          return true;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        if (settled) return;
        if (status > 599) return fail(new TypeError('fetch failed', { cause: new Error(`Invalid HTTP status ${status}`) }));
        const raw = Buffer.concat(chunks, received);
        chunks = [];
        decode(raw, headers.get('content-encoding'), maxBytes).then(
          (body) =>
            finish(() => {
              try {
                const response = new Response(NULL_BODY_STATUSES.has(status) ? null : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), { status, statusText, headers });
                Object.defineProperty(response, 'url', { value: url.toString() });
                resolve(response);
              } catch (err) {
                reject(new TypeError('fetch failed', { cause: err }));
              }
            }),
          fail,
        );
      },
      onError(err) {
        if (settled) return;
        fail(err instanceof ResponseTooLargeError ? err : new TypeError('fetch failed', { cause: err }));
      },
    };

    try {
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers.flat(),
          body: request.body ?? null,
        },
        handler,
      );
    } catch (err) {
      fail(new TypeError('fetch failed', { cause: err }));
    }
  });
}
