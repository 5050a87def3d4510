/**
 * The sync schedule of one instance (role `all` or `worker`). Every tick it claims due
 * account jobs up to its concurrency and runs them; jobs live in the database, so any
 * number of instances share the work, a job is held by one worker at a time (its lease),
 * and a job whose worker died is taken over when the lease expires. `kick()` runs a tick
 * at once (after a push notification or a write) instead of waiting for the next one.
 */
import type { FastifyBaseLogger } from 'fastify';
import { ClaimLoop } from '../jobs/claim-loop.js';
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
  private readonly loop: ClaimLoop<ClaimedJob>;

  constructor(options: SyncWorkerOptions) {
    this.loop = new ClaimLoop<ClaimedJob>({
      name: 'sync',
      tickMs: options.tickMs,
      concurrency: options.concurrency,
      log: options.log,
      ...(options.now ? { now: options.now } : {}),
      claim: (limit, leaseToken) => options.jobs.claimDue(leaseToken, { now: (options.now ?? Date.now)(), leaseMs: options.leaseMs, limit }),
      run: (job) => options.runJob(job, options.log),
      describe: (job) => ({ account: job.accountId }),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Claims and starts due jobs now (after a push notification or a write) instead of at the next tick. */
  kick(): void {
    this.loop.kick();
  }

  /** For readiness: whether the schedule runs, and when a tick last claimed work (or found none). */
  status(): { running: boolean; lastTickAt?: number } {
    return this.loop.status();
  }

  /** Jobs running now (for health and metrics). */
  get active(): number {
    return this.loop.active;
  }

  /** Stops claiming work and waits up to `graceMs` for running jobs; the rest resume elsewhere after their lease. */
  stop(graceMs?: number): Promise<void> {
    return this.loop.stop(graceMs);
  }
}
