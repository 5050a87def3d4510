/**
 * The sync engine assembled: repositories, the per-calendar syncer, the per-account
 * job, and this instance's worker. Runtime builds one; whether its worker runs depends
 * on the instance's role.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { SyncConfig } from '../config/config.js';
import type { AccountContexts } from '../application/account-contexts.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Storage } from '../storage/db.js';
import type { AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { CalendarSyncRepository } from '../storage/repositories/calendar-sync.repo.js';
import type { CalendarsRepository } from '../storage/repositories/calendars.repo.js';
import type { MirrorRepository } from '../storage/repositories/mirror.repo.js';
import type { SyncJobsRepository } from '../storage/repositories/sync-jobs.repo.js';
import { AccountSyncer } from './account-syncer.js';
import { CalendarSyncer, type MirrorObserver } from './calendar-syncer.js';
import { SyncWorker } from './sync-worker.js';
import type { PushChannelKeeper } from './push-channel-keeper.js';

export interface SyncRepositories {
  accounts: AccountsRepository;
  calendars: CalendarsRepository;
  calendarSync: CalendarSyncRepository;
  jobs: SyncJobsRepository;
  mirror: MirrorRepository;
}

export interface SyncEngineDeps {
  config: SyncConfig;
  storage: Storage;
  repos: SyncRepositories;
  contexts: AccountContexts;
  registry: ProviderRegistry;
  log: FastifyBaseLogger;
  observer?: MirrorObserver;
  /** Keeps provider push channels open on synced calendars (when this deployment can receive them). */
  push?: PushChannelKeeper;
  now?: () => number;
  /** Tuning for tests; production uses the defaults. */
  tickMs?: number;
  leaseMs?: number;
}

export const DEFAULT_LEASE_MS = 60_000;
/** How long superseded mirror rows are kept for walks (cursors) that started before the change. */
export const SNAPSHOT_RETENTION_MS = 3_600_000;
const PURGE_EVERY_MS = 5 * 60_000;
const DEFAULT_TICK_MS = 1_000;
const PAGE_SIZE = 200;
const MAX_PAGES_PER_PASS = 50;

export class SyncEngine {
  readonly worker: SyncWorker;
  private readonly accountSyncer: AccountSyncer;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SyncEngineDeps) {
    const now = deps.now ?? Date.now;
    const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    this.accountSyncer = new AccountSyncer({
      storage: deps.storage,
      ...deps.repos,
      contexts: deps.contexts,
      registry: deps.registry,
      schedule: { pollMs: deps.config.pollMs, pushedPollMs: deps.config.pushedPollMs, window: deps.config, relistEveryMs: deps.config.relistEveryMs, leaseMs },
      ...(deps.push ? { push: deps.push } : {}),
      ...(deps.observer ? { observer: deps.observer } : {}),
      syncer: (holdLease) =>
        new CalendarSyncer({
          storage: deps.storage,
          mirror: deps.repos.mirror,
          calendarSync: deps.repos.calendarSync,
          holdLease,
          ...(deps.observer ? { observer: deps.observer } : {}),
          pageSize: PAGE_SIZE,
          maxPagesPerPass: MAX_PAGES_PER_PASS,
          now,
        }),
      now,
    });
    this.worker = new SyncWorker({
      jobs: deps.repos.jobs,
      runJob: (job, log) => this.accountSyncer.run(job, log),
      log: deps.log.child({ component: 'sync' }),
      concurrency: deps.config.concurrency,
      tickMs: deps.tickMs ?? DEFAULT_TICK_MS,
      leaseMs,
      now,
    });
  }

  /** Starts this instance's worker; every account gets a job first (accounts connected before the mirror existed). */
  async start(): Promise<void> {
    await this.deps.repos.jobs.ensureForAllAccounts((this.deps.now ?? Date.now)());
    this.worker.start();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  /** Drops mirror rows superseded longer ago than any walk keeps reading them. */
  async purge(): Promise<void> {
    try {
      await this.deps.repos.mirror.purgeSuperseded((this.deps.now ?? Date.now)() - SNAPSHOT_RETENTION_MS);
    } catch (err) {
      this.deps.log.warn({ err }, 'purging superseded mirror rows failed; the next run retries');
    }
  }

  /** Makes an account's job due now and wakes this instance's worker (push notifications, writes). */
  async syncSoon(accountId: string): Promise<void> {
    await this.deps.repos.jobs.requestNow(accountId, (this.deps.now ?? Date.now)());
    this.worker.kick();
  }

  async stop(graceMs?: number): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.worker.stop(graceMs);
  }
}
