/**
 * The loop under every background worker whose work lives in the database as leased rows
 * (sync jobs, webhook deliveries): every tick it claims as many due items as it has free
 * slots and runs them; a finished item frees a slot and claims again at once. Ticks never
 * overlap (a kick during a tick runs one more after it), so claims from one instance do
 * not race each other; claims from several instances are kept apart by the leases the
 * `claim` callback takes.
 */
import { randomBytes } from 'node:crypto';

export interface ClaimLoopLog {
  error(obj: object, msg?: string): void;
}

export interface ClaimLoopOptions<T> {
  /** How failures are named in logs (`sync`, `webhook delivery`). */
  name: string;
  tickMs: number;
  /** Items this instance runs at once. */
  concurrency: number;
  log: ClaimLoopLog;
  /** Claims up to `limit` due items, leasing each to `leaseToken()` (a new token per item). */
  claim(limit: number, leaseToken: () => string): Promise<T[]>;
  run(item: T): Promise<unknown>;
  /** Log fields naming an item whose run crashed (never its contents). */
  describe(item: T): object;
  /** Runs first in every tick, whether or not slots are free (e.g. to sample a gauge). */
  beforeTick?(): Promise<void>;
  now?: () => number;
}

export class ClaimLoop<T> {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastTickAt: number | undefined;
  /** Names this instance in lease tokens (logs can tell workers apart). */
  private readonly instance = randomBytes(4).toString('hex');

  constructor(private readonly options: ClaimLoopOptions<T>) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.tickMs);
    this.timer.unref();
    this.kick();
  }

  /** Claims and starts due items now; calls during a tick make it run once more. */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err: unknown) => this.options.log.error({ err }, `${this.options.name} tick failed`))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const now = this.options.now ?? Date.now;
    await this.options.beforeTick?.();
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) {
      // Every slot busy is a working loop too.
      this.lastTickAt = now();
      return;
    }
    const items = await this.options.claim(free, () => `${this.instance}.${randomBytes(8).toString('hex')}`);
    this.lastTickAt = now();
    for (const item of items) {
      const run: Promise<void> = this.options
        .run(item)
        .then(() => undefined)
        .catch((err: unknown) => this.options.log.error({ err, ...this.options.describe(item) }, `${this.options.name} crashed`))
        .finally(() => {
          this.running.delete(run);
          // A slot is free: there may be more due work.
          this.kick();
        });
      this.running.add(run);
    }
  }

  /** Whether the loop runs, and when a tick last claimed work (or found none). */
  status(): { running: boolean; lastTickAt?: number } {
    return { running: !this.stopped, ...(this.lastTickAt !== undefined ? { lastTickAt: this.lastTickAt } : {}) };
  }

  /** Items running now. */
  get active(): number {
    return this.running.size;
  }

  /** Stops claiming and waits up to `graceMs` for running items; the rest resume elsewhere after their lease. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    const all = Promise.allSettled([...this.running]);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }
}
