/**
 * Rate-limit counters in Redis that never take the API down with Redis. Every command
 * has a short timeout and no offline queue, so a dead or hung Redis costs a request at
 * most that timeout; then counting falls back to this process's memory (limits hold
 * per instance instead of across instances), a warning is logged once per outage, and
 * Redis is tried again after a short pause. ioredis reconnects in the background; the
 * first command that succeeds ends the outage.
 */
import type { Redis } from 'ioredis';
import { MemoryRateLimitStore, RedisRateLimitStore, type RateLimitStore, type WindowHit } from './rate-limiter.js';

/** What /api/health reports: where the counts live right now. */
export type RateLimitMode = 'memory' | 'redis' | 'memory-fallback';

interface WarnLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/** How long after a failure requests skip Redis entirely before it is tried again. */
const RETRY_AFTER_MS = 2000;

export class RedisFallbackStore implements RateLimitStore {
  private readonly primary: RedisRateLimitStore;
  private readonly fallback = new MemoryRateLimitStore();
  private degradedSince: number | undefined;
  private retryAt = 0;
  private log: WarnLogger = { warn() {}, info() {} };

  constructor(
    private readonly redis: Redis,
    private readonly clock: () => number = Date.now,
  ) {
    this.primary = new RedisRateLimitStore(redis);
    // Connection errors are expected during an outage; without a listener ioredis prints each one.
    redis.on('error', (err: Error) => this.degrade(err));
  }

  useLogger(log: WarnLogger): void {
    this.log = log;
  }

  get mode(): RateLimitMode {
    return this.degradedSince === undefined ? 'redis' : 'memory-fallback';
  }

  async hit(key: string, windowMs: number, now: number): Promise<WindowHit> {
    const skip = this.degradedSince !== undefined && this.clock() < this.retryAt;
    if (!skip && this.redis.status === 'ready') {
      try {
        const hit = await this.primary.hit(key, windowMs, now);
        this.recover();
        return hit;
      } catch (err) {
        this.degrade(err);
      }
    } else if (this.redis.status !== 'ready') {
      this.degrade(new Error(`Redis connection is ${this.redis.status}`));
    }
    return this.fallback.hit(key, windowMs, now);
  }

  /**
   * Resolves once the connection is ready, or after `ms`: the first requests of a fresh
   * start should not find Redis still connecting and count in memory (with a warning).
   */
  async connected(ms: number): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.redis.once('ready', done);
    });
  }

  /** For readiness: whether Redis itself answers (the API keeps working either way). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  private degrade(err: unknown): void {
    this.retryAt = this.clock() + RETRY_AFTER_MS;
    if (this.degradedSince !== undefined) return;
    this.degradedSince = this.clock();
    this.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'Redis is unavailable: rate limits are counted in this process until it returns',
    );
  }

  private recover(): void {
    if (this.degradedSince === undefined) return;
    this.log.info({ outageMs: this.clock() - this.degradedSince }, 'Redis is back: rate limits are shared again');
    this.degradedSince = undefined;
  }
}
