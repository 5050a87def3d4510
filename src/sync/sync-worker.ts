/**
 * The sync schedule of one instance (role `all` or `worker`). Every tick it claims due
 * account jobs up to its concurrency and runs them; jobs live in the database, so any
 * number of instances share the work, a job is held by one worker at a time (its lease),
 * and a job whose worker died is taken over when the lease expires. `kick()` runs a tick
 * at once (after a push notification or a write) instead of waiting for the next one.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { ClaimedJob, SyncJobsRepository } from '../storage/repositories/sync-jobs.repo.js';

export interface SyncWorkerOptions {
  jobs: SyncJobsRepository;
  runJob(job: ClaimedJob, log: FastifyBaseLogger): Promise<void>;
  log: FastifyBaseLogger;
  /** Jobs this instance runs at once. */
  concurrency: number;
  tickMs: number;
  leaseMs: number;
  now?: () => number;
}

export class SyncWorker {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Names this instance in lease tokens (logs can tell workers apart). */
  private readonly instance = randomBytes(4).toString('hex');

  constructor(private readonly options: SyncWorkerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.tickMs);
    this.timer.unref();
    this.kick();
  }

  /** Claims and starts due jobs now; calls during a tick make it run once more. */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err: unknown) => this.options.log.error({ err }, 'sync tick failed'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    const now = (this.options.now ?? Date.now)();
    const jobs = await this.options.jobs.claimDue(() => `${this.instance}.${randomBytes(8).toString('hex')}`, { now, leaseMs: this.options.leaseMs, limit: free });
    for (const job of jobs) {
      const run = this.options
        .runJob(job, this.options.log)
        .catch((err: unknown) => this.options.log.error({ err, account: job.accountId }, 'sync job crashed'))
        .finally(() => {
          this.running.delete(run);
          // A slot is free: there may be more due work.
          this.kick();
        });
      this.running.add(run);
    }
  }

  /** Whether this instance is running the schedule. */
  get started(): boolean {
    return !this.stopped;
  }

  /** Jobs running now (for health and metrics). */
  get active(): number {
    return this.running.size;
  }

  /** Stops claiming work and waits up to `graceMs` for running jobs; the rest resume elsewhere after their lease. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    const all = Promise.allSettled([...this.running]);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }
}
