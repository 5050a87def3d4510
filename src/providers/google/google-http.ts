/**
 * The single path every Calendar API request takes: bearer token, one refresh-and-retry
 * after a 401, backoff on rate limits (and on server errors when repeating is safe)
 * within a bounded time, and every remaining failure mapped by map-google-error.
 */
import { formatBytes, ProviderError, ResponseTooLargeError } from '../types.js';
import type { OAuthCredentials, ProviderContext } from '../types.js';
import { fullJitterDelayMs, parseRetryAfterMs, sleep } from './google-backoff.js';
import { calendarApiBase, resolveRetry } from './google-settings.js';
import type { GoogleRetrySettings, GoogleSettings } from './google-settings.js';
import { classifyGoogleFailure, googleErrorReason, mapGoogleError } from './map-google-error.js';
import type { GoogleFailure } from './map-google-error.js';

export type GoogleContext = ProviderContext<OAuthCredentials>;

export interface GoogleRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Below `/calendar/v3`, with path segments already encoded. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Sent as `If-Match`, so a write never overwrites a change made since the read. */
  ifMatch?: string;
  /**
   * Safe to send again after a server error or a lost connection. Rate-limited requests
   * are always retried: Google refused them before doing anything.
   */
  idempotent: boolean;
}

/** Clock and randomness, replaceable so tests need not wait. */
export interface GoogleHttpDeps {
  now(): number;
  random(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const defaultDeps: GoogleHttpDeps = { now: Date.now, random: Math.random, sleep };

export class GoogleHttp {
  private readonly base: string;
  private readonly retry: GoogleRetrySettings;
  private readonly deps: GoogleHttpDeps;

  constructor(settings: GoogleSettings, deps?: Partial<GoogleHttpDeps>) {
    this.base = calendarApiBase(settings);
    this.retry = resolveRetry(settings);
    this.deps = { ...defaultDeps, ...deps };
  }

  async send<T>(ctx: GoogleContext, request: GoogleRequest): Promise<T | undefined> {
    const url = this.url(request);
    const started = this.deps.now();
    let token = await ctx.credentials.getAccessToken();
    let refreshedAfterRejection = false;
    let repeatedAfterFault = false;
    let attempt = 0;

    for (;;) {
      let response: Response;
      try {
        response = await ctx.fetch(url, {
          method: request.method,
          headers: this.headers(token, request),
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: ctx.signal,
        });
      } catch (error) {
        if (ctx.signal?.aborted) throw error;
        // Asking again would only fetch the same oversized answer.
        if (error instanceof ResponseTooLargeError) {
          throw new ProviderError('UNKNOWN', `Google's answer was larger than the ${formatBytes(error.limitBytes)} limit`, { cause: error });
        }
        const delay = fullJitterDelayMs(attempt, this.retry.baseDelayMs, this.deps.random);
        if (request.idempotent && this.withinBudget(started, delay)) {
          ctx.log.debug({ method: request.method, attempt, delayMs: delay }, 'google: network error, retrying');
          await this.deps.sleep(delay, ctx.signal);
          attempt += 1;
          repeatedAfterFault = true;
          continue;
        }
        throw new ProviderError('TEMPORARY', 'Google could not be reached', { cause: error });
      }

      if (response.ok) {
        try {
          return await readJson<T>(response);
        } catch (error) {
          throw new ProviderError('UNKNOWN', 'Google sent an answer that is not JSON', { cause: error });
        }
      }

      const body = await readJson<unknown>(response).catch(() => undefined);
      const failure: GoogleFailure = {
        status: response.status,
        reason: googleErrorReason(body),
        retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), this.deps.now()),
      };
      const kind = classifyGoogleFailure(failure);

      if (kind === 'auth' && !refreshedAfterRejection) {
        refreshedAfterRejection = true;
        token = await ctx.credentials.refreshAfterRejection(token);
        continue;
      }
      // A DELETE repeated after a fault may find its own earlier attempt already succeeded.
      if (request.method === 'DELETE' && repeatedAfterFault && (failure.status === 404 || failure.status === 410)) {
        return undefined;
      }
      if (kind === 'rate-limit' || (kind === 'server' && request.idempotent)) {
        const delay = failure.retryAfterMs ?? fullJitterDelayMs(attempt, this.retry.baseDelayMs, this.deps.random);
        if (this.withinBudget(started, delay)) {
          ctx.log.debug(
            { method: request.method, status: failure.status, reason: failure.reason, attempt, delayMs: delay },
            'google: retrying',
          );
          await this.deps.sleep(delay, ctx.signal);
          attempt += 1;
          if (kind === 'server') repeatedAfterFault = true;
          continue;
        }
        ctx.log.warn({ method: request.method, status: failure.status, reason: failure.reason, attempt }, 'google: giving up');
        throw mapGoogleError(
          { ...failure, retryAfterMs: failure.retryAfterMs ?? Math.max(delay, this.retry.baseDelayMs) },
          { cause: body },
        );
      }
      throw mapGoogleError(failure, { cause: body });
    }
  }

  private withinBudget(started: number, delayMs: number): boolean {
    return this.deps.now() - started + delayMs <= this.retry.maxElapsedMs;
  }

  private url(request: GoogleRequest): string {
    const url = new URL(`${this.base}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  private headers(token: string, request: GoogleRequest): Record<string, string> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
    return headers;
  }
}

async function readJson<T>(response: Response): Promise<T | undefined> {
  const text = await response.text();
  if (text.trim() === '') return undefined;
  return JSON.parse(text) as T;
}
