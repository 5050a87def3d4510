/**
 * The single path every Graph request takes: bearer token, one refresh-and-retry after a
 * 401, Retry-After (or bounded backoff) on throttling and, when repeating is safe, on
 * server errors; at most `concurrencyPerAccount` requests per account in flight (Outlook
 * answers a fifth concurrent request per mailbox with 429 MailboxConcurrency); every
 * remaining failure mapped by map-graph-error.
 */
import { fullJitterDelayMs, parseRetryAfterMs, sleep } from '../backoff.js';
import { formatBytes, ProviderError, ResponseTooLargeError } from '../types.js';
import type { OAuthCredentials, ProviderContext } from '../types.js';
import { classifyGraphFailure, graphErrorCode, mapGraphError } from './map-graph-error.js';
import type { GraphFailure } from './map-graph-error.js';
import { graphBase, resolveRetry } from './microsoft-settings.js';
import type { MicrosoftRetrySettings, MicrosoftSettings } from './microsoft-settings.js';

export type GraphContext = ProviderContext<OAuthCredentials>;

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below the Graph root (`/me/calendars`), segments encoded; or a link Graph handed out under that root. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  ifMatch?: string;
  /** Safe to send again after a server error or a lost connection. */
  idempotent: boolean;
  /** Extra `Prefer` preferences besides the UTC time zone and text bodies. */
  prefer?: string[];
}

export interface GraphHttpDeps {
  now(): number;
  random(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const defaultDeps: GraphHttpDeps = { now: Date.now, random: Math.random, sleep };

/** Per account key: requests in flight and those waiting for a slot. Module-level: contexts are built per request. */
const gates = new Map<string, { active: number; waiting: (() => void)[] }>();

async function acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void> {
  let gate = gates.get(key);
  if (!gate) {
    gate = { active: 0, waiting: [] };
    gates.set(key, gate);
  }
  const g = gate;
  if (g.active >= limit) {
    await new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // A caller that gives up while waiting leaves the queue without taking a slot.
      const onAbort = (): void => {
        g.waiting = g.waiting.filter((w) => w !== turn);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      g.waiting.push(turn);
    });
  }
  g.active += 1;
  return () => {
    g.active -= 1;
    const next = g.waiting.shift();
    if (next) next();
    else if (g.active === 0) gates.delete(key);
  };
}

export class GraphHttp {
  readonly base: string;
  private readonly retry: MicrosoftRetrySettings;
  private readonly deps: GraphHttpDeps;
  private readonly limit: number;

  constructor(settings: MicrosoftSettings, deps?: Partial<GraphHttpDeps>) {
    this.base = graphBase(settings);
    this.retry = resolveRetry(settings);
    this.deps = { ...defaultDeps, ...deps };
    this.limit = settings.concurrencyPerAccount ?? 4;
  }

  /** A link Graph handed out (nextLink, deltaLink) as a path under the root, or undefined when it points elsewhere. */
  relativeLink(link: string): string | undefined {
    return link.startsWith(`${this.base}/`) ? link.slice(this.base.length) : undefined;
  }

  async send<T>(ctx: GraphContext, request: GraphRequest): Promise<T | undefined> {
    const key = ctx.credentials.accountKey;
    const release = key ? await acquire(key, this.limit, ctx.signal) : undefined;
    try {
      return await this.sendUnlimited<T>(ctx, request);
    } finally {
      release?.();
    }
  }

  private async sendUnlimited<T>(ctx: GraphContext, request: GraphRequest): Promise<T | undefined> {
    const url = this.url(request);
    const started = this.deps.now();
    let token = await ctx.credentials.getAccessToken();
    let refreshed = false;
    let repeatedAfterFault = false;
    let attempt = 0;
    for (;;) {
      let response: Response;
      try {
        response = await ctx.fetch(url, { method: request.method, headers: this.headers(token, request), body: request.body === undefined ? undefined : JSON.stringify(request.body), signal: ctx.signal });
      } catch (error) {
        if (ctx.signal?.aborted) throw error;
        if (error instanceof ResponseTooLargeError) {
          throw new ProviderError('UNKNOWN', `Microsoft's answer was larger than the ${formatBytes(error.limitBytes)} limit`, { cause: error });
        }
        const delay = fullJitterDelayMs(attempt, this.retry.baseDelayMs, this.deps.random);
        if (request.idempotent && this.withinBudget(started, delay)) {
          await this.deps.sleep(delay, ctx.signal);
          attempt += 1;
          repeatedAfterFault = true;
          continue;
        }
        throw new ProviderError('TEMPORARY', 'Microsoft Graph could not be reached', { cause: error });
      }
      if (response.ok) {
        const text = await response.text();
        if (text.trim() === '') return undefined;
        try {
          return JSON.parse(text) as T;
        } catch (error) {
          throw new ProviderError('UNKNOWN', 'Microsoft sent an answer that is not JSON', { cause: error });
        }
      }
      const body = await response.text().then((t) => JSON.parse(t) as unknown).catch(() => undefined);
      const failure: GraphFailure = { status: response.status, code: graphErrorCode(body), retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), this.deps.now()) };
      const kind = classifyGraphFailure(failure);
      if (kind === 'auth' && !refreshed) {
        refreshed = true;
        token = await ctx.credentials.refreshAfterRejection(token);
        continue;
      }
      // A DELETE repeated after a fault may find its own earlier attempt already succeeded.
      if (request.method === 'DELETE' && repeatedAfterFault && failure.status === 404) return undefined;
      if (kind === 'throttled' || (kind === 'server' && request.idempotent)) {
        const delay = failure.retryAfterMs ?? fullJitterDelayMs(attempt, this.retry.baseDelayMs, this.deps.random);
        if (this.withinBudget(started, delay)) {
          ctx.log.debug({ method: request.method, status: failure.status, code: failure.code, attempt, delayMs: delay }, 'microsoft: retrying');
          await this.deps.sleep(delay, ctx.signal);
          attempt += 1;
          if (kind === 'server') repeatedAfterFault = true;
          continue;
        }
        ctx.log.warn({ method: request.method, status: failure.status, code: failure.code, attempt }, 'microsoft: giving up');
        throw mapGraphError({ ...failure, retryAfterMs: failure.retryAfterMs ?? Math.max(delay, this.retry.baseDelayMs) }, { cause: body });
      }
      throw mapGraphError(failure, { cause: body });
    }
  }

  private withinBudget(started: number, delayMs: number): boolean {
    return this.deps.now() - started + delayMs <= this.retry.maxElapsedMs;
  }

  private url(request: GraphRequest): string {
    const url = new URL(`${this.base}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private headers(token: string, request: GraphRequest): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      // Times in UTC whatever the mailbox's zone, bodies as plain text (Almanac's description is text).
      prefer: ['outlook.timezone="UTC"', 'outlook.body-content-type="text"', ...(request.prefer ?? [])].join(', '),
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
    return headers;
  }
}
