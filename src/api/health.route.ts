/**
 * Liveness and readiness. `/api/health` keeps Mobiscroll's shape (`{ "status": "ok" }`)
 * and only says the process answers. `/api/health/ready` is for load balancers: it
 * checks what serving needs (the database; Redis when configured; background work when
 * there is some) and answers 503 while a critical dependency fails or the server drains.
 */
import type { FastifyInstance } from 'fastify';

export interface ReadinessCheck {
  name: string;
  /**
   * A failing critical check makes the instance unready. Shared dependencies whose
   * outage Almanac rides out (Redis: rate limits fall back to memory) are reported but
   * not critical: taking every instance out of rotation would not help.
   */
  critical: boolean;
  check(): Promise<void>;
}

export interface CheckResult {
  status: 'ok' | 'failing';
  latencyMs: number;
  critical: boolean;
  /** Short and generic: the endpoint is public, the details are in the log. */
  message?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'unavailable' | 'draining';
  checks: Record<string, CheckResult>;
}

const CHECK_TIMEOUT_MS = 2000;
/** Probes from several load balancers share one round of checks per second. */
const CACHE_MS = 1000;

export class Readiness {
  private draining = false;
  private cached?: { at: number; report: Promise<ReadinessReport> };

  constructor(
    private readonly checks: ReadinessCheck[],
    private readonly onFailure: (name: string, err: unknown) => void = () => undefined,
  ) {}

  /** A check that exists from now on (background work, once this instance starts it). */
  add(check: ReadinessCheck): void {
    this.checks.push(check);
    this.cached = undefined;
  }

  /** From now on the instance reports `draining` (503) so load balancers stop sending it work. */
  startDraining(): void {
    this.draining = true;
    this.cached = undefined;
  }

  report(now = Date.now()): Promise<ReadinessReport> {
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.report;
    const report = this.run();
    this.cached = { at: now, report };
    return report;
  }

  private async run(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map(async (c) => [c.name, await this.runOne(c)] as const));
    const checks = Object.fromEntries(results);
    if (this.draining) return { status: 'draining', checks };
    const failing = results.some(([, r]) => r.critical && r.status === 'failing');
    return { status: failing ? 'unavailable' : 'ready', checks };
  }

  private async runOne(c: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
        }),
      ]);
      return { status: 'ok', latencyMs: Math.round(performance.now() - started), critical: c.critical };
    } catch (err) {
      this.onFailure(c.name, err);
      const timedOut = err instanceof Error && err.message.startsWith('timed out');
      return { status: 'failing', latencyMs: Math.round(performance.now() - started), critical: c.critical, message: timedOut ? 'timed out' : 'unreachable' };
    } finally {
      clearTimeout(timer);
    }
  }
}

const checkSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'failing'] },
    latencyMs: { type: 'integer' },
    critical: { type: 'boolean' },
    message: { type: 'string' },
  },
} as const;

const reportSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable', 'draining'] },
    checks: { type: 'object', additionalProperties: checkSchema },
  },
} as const;

/**
 * `/api/health`: `{ "status": "ok" }` as Mobiscroll answers (liveness), plus Almanac's
 * `rateLimits`: `memory` (embedded), `redis`, or `memory-fallback` while Redis is
 * unreachable and limits are counted per instance.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: { readiness: Readiness; rateLimitMode: () => string }): void {
  const { readiness } = deps;
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['Health'],
        summary: 'Liveness: the process answers',
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, rateLimits: { type: 'string', enum: ['memory', 'redis', 'memory-fallback'] } } } },
      },
    },
    async () => ({ status: 'ok', rateLimits: deps.rateLimitMode() }),
  );
  app.get(
    '/api/health/ready',
    {
      schema: {
        tags: ['Health'],
        summary: 'Readiness for load balancers: database, Redis and background work',
        description: '200 when this instance can serve; 503 while a critical check fails or the instance shuts down (`draining`). Checks run at most once a second.',
        response: { 200: reportSchema, 503: reportSchema },
      },
    },
    async (_request, reply) => {
      const report = await readiness.report();
      return reply.code(report.status === 'ready' ? 200 : 503).header('Cache-Control', 'no-store').send(report);
    },
  );
}
