// HTTP transport: one place for URL building, timeouts, abort signals, retry with
// backoff and the mapping of failures to typed errors. It knows nothing about
// tokens; the client layers bearer handling and refresh on top of it.

import {
  AlmanacError,
  NetworkError,
  RateLimitError,
  ServerError,
  TimeoutError,
  errorFromResponse,
} from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Retry policy for transient failures (429, 503, lost connections) on idempotent calls. */
export interface RetryOptions {
  /** Extra attempts after the first one. Default 2; 0 turns retrying off. */
  retries?: number;
  /** Base of the exponential backoff. Default 500 ms. */
  baseDelayMs?: number;
  /**
   * Cap on any single wait. Backoff never waits longer; a `Retry-After` asking for
   * more is not waited out but surfaces as the error at once. Default 30 000 ms.
   */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1). Injectable for tests. Default `Math.random`. */
  random?: () => number;
  /** Waits between attempts. Injectable for tests (a fake clock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Current time in ms, used to read an HTTP-date `Retry-After`. Default `Date.now`. */
  now?: () => number;
}

/** Options every SDK method accepts as its last argument. */
export interface RequestOptions {
  /** Abort the call (and any pending retry wait). The promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Per-attempt timeout for this call; 0 disables. Overrides the client's `timeoutMs`. */
  timeoutMs?: number;
  /** `false` disables retrying for this call; an object overrides parts of the client's policy. */
  retry?: false | RetryOptions;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Use this access token instead of the stored credentials, e.g. one client serving
   * many users. No automatic refresh happens for such calls: the SDK does not own the token.
   */
  accessToken?: string;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface HttpRequest {
  method: HttpMethod;
  /** Path below the base URL, starting with `/`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON-serialised unless it is URLSearchParams (sent as a form). */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Whether repeating the call is harmless. Defaults from the method (GET, PUT and
   * DELETE are; POST is not). POSTs that are idempotent in practice (revoke) opt in.
   */
  idempotent?: boolean;
}

export interface HttpResponse<T> {
  data: T;
  status: number;
  headers: Headers;
  requestId?: string;
}

export interface TransportOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs: number;
  retry: false | RetryOptions;
}

export interface ResolvedRetry {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

const RETRY_DEFAULTS: ResolvedRetry = {
  retries: 2,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  random: Math.random,
  sleep: abortableSleep,
  now: Date.now,
};

/** `setTimeout` as a promise that rejects with the signal's reason when aborted. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function resolveRetry(...layers: Array<false | RetryOptions | undefined>): ResolvedRetry {
  let out: ResolvedRetry = { ...RETRY_DEFAULTS };
  for (const layer of layers) {
    if (layer === undefined) continue;
    // `false` anywhere switches retrying off, but keeps the clock functions.
    if (layer === false) out = { ...out, retries: 0 };
    else {
      const defined = Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined));
      out = { ...out, ...defined };
    }
  }
  out.retries = Math.max(0, Math.floor(out.retries));
  return out;
}

/**
 * Milliseconds to wait before the next attempt, or `undefined` to stop retrying.
 * `attempt` counts retries already made (0 before the first retry).
 *
 * Without `Retry-After`: "equal jitter" — half of the exponential step is fixed, half
 * random — so waits always grow with the attempt number, yet clients that failed
 * together do not retry in lockstep. With `Retry-After`: the server knows best, so
 * wait exactly that long; if it asks for more than the cap, give up and let the
 * caller see the error (and its `retryAfter`) instead of hanging.
 */
export function computeRetryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs' | 'random'>,
): number | undefined {
  if (retryAfterMs !== undefined) {
    return retryAfterMs <= policy.maxDelayMs ? retryAfterMs : undefined;
  }
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const r = Math.min(Math.max(policy.random(), 0), 1);
  return step / 2 + (step / 2) * r;
}

/**
 * Parses `Retry-After` in either RFC 9110 form: delay-seconds or an HTTP-date.
 * Returns milliseconds from `now`, never negative; `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 503;
}

function defaultIdempotent(method: HttpMethod): boolean {
  return method !== 'POST';
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  // Parse JSON even without the right content type: some proxies drop it.
  if (contentType?.includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all; fall through and hand back the text.
    }
  }
  return text;
}

/**
 * `Retry-After` in ms, per error, for the retry loop. Kept off the public error
 * objects (which expose whole seconds, like Mobiscroll's SDK) without losing precision.
 */
const retryAfterMsOf = new WeakMap<AlmanacError, number>();

/** Marker used as the abort reason of the SDK's own timeout, to tell it from a caller abort. */
class TimeoutMarker {}

export class HttpTransport {
  readonly baseUrl: string;
  private readonly fetchImpl?: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: false | RetryOptions;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl;
    this.fetchImpl = options.fetch;
    this.timeoutMs = options.timeoutMs;
    this.retry = options.retry;
  }

  /** Absolute URL for a path and query, skipping undefined and null values. */
  url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) params.append(key, String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Clock functions of the effective policy (error mapping needs `now` too). */
  policy(options?: RequestOptions): ResolvedRetry {
    return resolveRetry(this.retry, options?.retry);
  }

  async request<T>(req: HttpRequest, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const policy = this.policy(options);
    const idempotent = req.idempotent ?? defaultIdempotent(req.method);
    const maxRetries = idempotent ? policy.retries : 0;
    const signal = options.signal;

    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await this.once<T>(req, options, policy);
      } catch (err) {
        if (attempt >= maxRetries || !this.isTransient(err)) throw err;
        const retryAfterMs = err instanceof AlmanacError ? retryAfterMsOf.get(err) : undefined;
        const delay = computeRetryDelay(attempt, retryAfterMs, policy);
        if (delay === undefined) throw err;
        await policy.sleep(delay, signal);
      }
    }
  }

  private isTransient(err: unknown): boolean {
    if (err instanceof RateLimitError) return true;
    if (err instanceof ServerError) return err.status === 503;
    // A timed-out attempt may still be running on the server and already cost the
    // caller the whole timeout; do not multiply that. Lost connections are retried.
    if (err instanceof TimeoutError) return false;
    return err instanceof NetworkError;
  }

  private async once<T>(
    req: HttpRequest,
    options: RequestOptions,
    policy: ResolvedRetry,
  ): Promise<HttpResponse<T>> {
    const fetchFn = this.fetchImpl ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') {
      throw new AlmanacError(
        'No fetch implementation: pass `fetch` in the client options (Node 18+ has one built in)',
        'CONFIGURATION_ERROR',
      );
    }

    const url = this.url(req.path, req.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (req.body instanceof URLSearchParams) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = req.body.toString();
    } else if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    Object.assign(headers, req.headers, options.headers);

    // One controller per attempt joins the caller's signal and the timeout, so a
    // timeout never aborts the caller's signal and a retry starts with a fresh clock.
    const controller = new AbortController();
    const callerSignal = options.signal;
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timer =
      timeoutMs > 0 ? setTimeout(() => controller.abort(new TimeoutMarker()), timeoutMs) : undefined;

    let res: Response;
    let text: string;
    try {
      res = await fetchFn(url, { method: req.method, headers, body, signal: controller.signal });
      // The body is read under the same timeout: a server that stalls mid-body is as stuck as one that never answers.
      text = await res.text();
    } catch (err) {
      // A caller abort rejects with the signal's reason, exactly as fetch itself does.
      if (callerSignal?.aborted) throw callerSignal.reason;
      const context = { method: req.method, url, cause: err };
      if (controller.signal.reason instanceof TimeoutMarker) throw new TimeoutError(timeoutMs, context);
      const detail = err instanceof Error ? describeNetworkFailure(err) : String(err);
      throw new NetworkError(`Network error: ${detail}`, context);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }

    const requestId = res.headers.get('x-request-id') ?? undefined;
    const data = parseBody(text, res.headers.get('content-type'));
    if (res.ok) return { data: data as T, status: res.status, headers: res.headers, requestId };

    const retryAfterMs = isRetryableStatus(res.status)
      ? parseRetryAfter(res.headers.get('retry-after'), policy.now())
      : undefined;
    const error = errorFromResponse(
      res.status,
      data,
      { requestId, method: req.method, url },
      retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
    );
    if (retryAfterMs !== undefined) retryAfterMsOf.set(error, retryAfterMs);
    throw error;
  }
}

/** undici hides the useful part ("ECONNREFUSED ...") in `cause`; surface it in the message. */
function describeNetworkFailure(err: Error): string {
  const cause = (err as Error & { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && cause.message !== err.message) {
    return `${err.message} (${cause.message})`;
  }
  return err.message;
}
