import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db.js';
import type { Database } from '../schema.js';

export interface SyncJobRecord {
  accountId: string;
  nextRunAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  failures: number;
  lastSuccessAt: number | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  lastErrorAt: number | null;
  calendarsListedAt: number | null;
}

/** A claimed job: only the holder of `lease` may finish it. */
export interface ClaimedJob {
  accountId: string;
  lease: string;
}

export type JobOutcome =
  /** `calendarsListedAt` only when the run stored a fresh calendar list. */
  | { kind: 'success'; at: number; nextRunAt: number; calendarsListedAt?: number }
  | { kind: 'failure'; at: number; nextRunAt: number; code: string; message: string };

function toRecord(row: Selectable<Database['sync_jobs']>): SyncJobRecord {
  return {
    accountId: row.account_id,
    nextRunAt: row.next_run_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    failures: row.failures,
    lastSuccessAt: row.last_success_at,
    lastErrorCode: row.last_error_code,
    lastErrorMessage: row.last_error_message,
    lastErrorAt: row.last_error_at,
    calendarsListedAt: row.calendars_listed_at,
  };
}

/**
 * One sync job per connected account: when it is next due and which worker holds it.
 * A worker claims due jobs with a lease (a random token and an expiry); every later
 * write by that worker is conditional on still holding the lease, so a worker that
 * stalled past its lease cannot overwrite the one that took over. On PostgreSQL the
 * claim skips rows other instances are claiming (FOR UPDATE SKIP LOCKED); SQLite has
 * one writer, so a plain conditional UPDATE is already exclusive.
 */
export class SyncJobsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  in(tx: Kysely<Database>): SyncJobsRepository {
    return new SyncJobsRepository(tx, this.dialect);
  }

  /** Gives every account without a job one, due now (accounts that predate the sync engine). */
  async ensureForAllAccounts(now = Date.now()): Promise<void> {
    const missing = await this.db
      .selectFrom('accounts')
      .leftJoin('sync_jobs', 'sync_jobs.account_id', 'accounts.id')
      .select('accounts.id')
      .where('sync_jobs.account_id', 'is', null)
      .where('accounts.pending_session', 'is', null)
      .execute();
    for (const { id } of missing) {
      await this.db.insertInto('sync_jobs').values({ account_id: id, next_run_at: now }).onConflict((oc) => oc.column('account_id').doNothing()).execute();
    }
  }

  /**
   * The state of the sync schedule across every instance, for metrics: jobs waiting past
   * their time with no worker on them, jobs running, and how late the most overdue one is.
   */
  async scheduleStats(now: number): Promise<{ due: number; running: number; oldestDueMs: number }> {
    const row = await this.db
      .selectFrom('sync_jobs')
      .select((eb) => [
        sql<number | string>`sum(case when next_run_at <= ${now} and (lease_until is null or lease_until < ${now}) then 1 else 0 end)`.as('due'),
        sql<number | string>`sum(case when lease_until is not null and lease_until >= ${now} then 1 else 0 end)`.as('running'),
        eb.fn.min(sql<number>`case when next_run_at <= ${now} and (lease_until is null or lease_until < ${now}) then next_run_at end`).as('oldest'),
      ])
      .executeTakeFirst();
    const oldest = row?.oldest == null ? now : Number(row.oldest);
    return { due: Number(row?.due ?? 0), running: Number(row?.running ?? 0), oldestDueMs: Math.max(0, now - oldest) };
  }

  async get(accountId: string): Promise<SyncJobRecord | undefined> {
    const row = await this.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Brings a job forward (a push notification, a write): any worker picks it up on its
   * next tick. Asked while the job is running, it runs again as soon as that run ends,
   * since the run may have read the provider before the change it is asked about.
   */
  async requestNow(accountId: string, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('sync_jobs')
      .set({
        rerun: sql<number>`CASE WHEN lease_until IS NOT NULL AND lease_until >= ${now} THEN 1 ELSE rerun END`,
        next_run_at: sql<number>`CASE WHEN next_run_at > ${now} THEN ${now} ELSE next_run_at END`,
      })
      .where('account_id', '=', accountId)
      .execute();
  }

  /** Claims up to `limit` due jobs whose lease is free or expired. */
  async claimDue(lease: (accountId: string) => string, options: { now: number; leaseMs: number; limit: number }): Promise<ClaimedJob[]> {
    const { now, leaseMs, limit } = options;
    return this.db.transaction().execute(async (trx) => {
      let due = trx
        .selectFrom('sync_jobs')
        .select('account_id')
        .where('next_run_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .orderBy('next_run_at')
        .limit(limit);
      if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
      const rows = await due.execute();
      const claimed: ClaimedJob[] = [];
      for (const row of rows) {
        const token = lease(row.account_id);
        const result = await trx
          .updateTable('sync_jobs')
          .set({ lease_owner: token, lease_until: now + leaseMs, claimed_at: now, rerun: 0 })
          .where('account_id', '=', row.account_id)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) claimed.push({ accountId: row.account_id, lease: token });
      }
      return claimed;
    });
  }

  /** Extends a held lease; false when it was lost (expired and taken, or the account is gone). */
  async renew(job: ClaimedJob, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sync_jobs')
      .set({ lease_until: until })
      .where('account_id', '=', job.accountId)
      .where('lease_owner', '=', job.lease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records how a run ended and releases the lease; false when the lease was no longer held. */
  async finish(job: ClaimedJob, outcome: JobOutcome): Promise<boolean> {
    // Asked for again while running: due now rather than at the next poll.
    // Literal integers: PostgreSQL cannot infer a type for parameters that are only CASE results.
    const nextRunAt = sql<number>`CASE WHEN rerun = 1 THEN ${sql.lit(Math.round(outcome.at))} ELSE ${sql.lit(Math.round(outcome.nextRunAt))} END`;
    const base = { lease_owner: null, lease_until: null, next_run_at: nextRunAt, rerun: 0 };
    const set =
      outcome.kind === 'success'
        ? {
            ...base,
            failures: 0,
            last_success_at: outcome.at,
            last_error_code: null,
            last_error_message: null,
            ...(outcome.calendarsListedAt !== undefined ? { calendars_listed_at: outcome.calendarsListedAt } : {}),
          }
        : { ...base, last_error_code: outcome.code, last_error_message: outcome.message, last_error_at: outcome.at };
    let query = this.db.updateTable('sync_jobs').set(set).where('account_id', '=', job.accountId).where('lease_owner', '=', job.lease);
    if (outcome.kind === 'failure') query = query.set((eb) => ({ failures: eb('failures', '+', 1) }));
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Jobs that are due and unclaimed: the backlog (for health and metrics). */
  async countOverdue(now: number, graceMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('sync_jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('next_run_at', '<', now - graceMs)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
