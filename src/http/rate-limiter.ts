/**
 * Fixed-window rate limiting with a pluggable counter store: in memory for the
 * embedded mode, Redis when REDIS_URL is set so every instance shares one count.
 */
import type { Redis } from 'ioredis';

export interface WindowHit {
  count: number;
  /** Epoch ms at which the current window ends. */
  resetAt: number;
}

export interface RateLimitStore {
  hit(key: string, windowMs: number, now: number): Promise<WindowHit>;
  /** Resolves when the shared store answers (readiness); absent for in-process stores. */
  ping?(): Promise<void>;
  /** Waits (at most `ms`) for the shared store's connection at start. */
  connected?(ms: number): Promise<void>;
  close?(): Promise<void>;
  /** Where counts live now, for /api/health (see redis-fallback-store.ts). */
  readonly mode?: 'memory' | 'redis' | 'memory-fallback';
  /** The app's logger, once there is one. */
  useLogger?(log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void }): void;
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly mode = 'memory' as const;
  private readonly windows = new Map<string, WindowHit>();
  private lastSweep = 0;

  async hit(key: string, windowMs: number, now: number): Promise<WindowHit> {
    this.sweep(now);
    const current = this.windows.get(key);
    if (!current || current.resetAt <= now) {
      const fresh = { count: 1, resetAt: now + windowMs };
      this.windows.set(key, fresh);
      return { ...fresh };
    }
    current.count += 1;
    return { ...current };
  }

  /** Expired windows are dropped lazily so the map cannot grow without bound. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}

// INCR and the first PEXPIRE in one round trip, atomically: no key is left without a TTL.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {n, ttl}`;

export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'almanac:rl:',
  ) {}

  async hit(key: string, windowMs: number, now: number): Promise<WindowHit> {
    const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, String(windowMs))) as [number, number];
    return { count, resetAt: now + (ttl > 0 ? ttl : windowMs) };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    // QUIT waits for a reply that a dead Redis never sends: bounded, then the socket is dropped.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.redis.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    this.redis.disconnect();
  }
}

export interface LimitCheck {
  key: string;
  limit: number;
}

export interface LimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window that decided resets. */
  resetSeconds: number;
}

/** Told of every refusal, with the kind of limit that decided (the key's first segment: token, client, ip). */
export type RateLimitObserver = (limit: string) => void;

export class RateLimiter {
  constructor(
    private readonly store: RateLimitStore,
    private readonly windowMs: number,
    private readonly onRejected: RateLimitObserver = () => undefined,
  ) {}

  /** Counts the request against every check; the tightest one decides and is reported. */
  async check(checks: LimitCheck[], now = Date.now()): Promise<LimitResult> {
    const hits = await Promise.all(checks.map(async (c) => ({ c, hit: await this.store.hit(c.key, this.windowMs, now) })));
    let decisive: LimitResult | undefined;
    let decisiveKey = '';
    for (const { c, hit } of hits) {
      const result: LimitResult = {
        allowed: hit.count <= c.limit,
        limit: c.limit,
        remaining: Math.max(0, c.limit - hit.count),
        resetSeconds: Math.max(1, Math.ceil((hit.resetAt - now) / 1000)),
      };
      if (!decisive || (!result.allowed && decisive.allowed) || (result.allowed === decisive.allowed && result.remaining < decisive.remaining)) {
        decisive = result;
        decisiveKey = c.key;
      }
    }
    if (!decisive) throw new Error('rate limiter needs at least one check');
    if (!decisive.allowed) this.onRejected(decisiveKey.split(':')[0] ?? 'unknown');
    return decisive;
  }
}
