/**
 * One run of an account's sync job: list its calendars (the listing also carries each
 * calendar's change marker), reconcile the stored list, then bring each calendar's
 * mirror up to date. One failing calendar does not stop the others; credentials the
 * provider rejects stop the run and mark the account. The lease is renewed by a
 * heartbeat while the run waits on the provider and checked again by every commit.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { ProviderId } from '../domain/calendar.js';
import type { AccountContexts } from '../application/account-contexts.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { ProviderError, type ProviderContext } from '../providers/types.js';
import type { Storage } from '../storage/db.js';
import type { AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { CalendarsRepository } from '../storage/repositories/calendars.repo.js';
import type { CalendarSyncRepository } from '../storage/repositories/calendar-sync.repo.js';
import type { ClaimedJob, SyncJobsRepository } from '../storage/repositories/sync-jobs.repo.js';
import type { Database } from '../storage/schema.js';
import { LeaseLostError, type CalendarSyncer, type MirrorObserver } from './calendar-syncer.js';
import type { PushChannelKeeper } from './push-channel-keeper.js';
import { failurePolicy, retryDelayMs } from '../application/provider-failure-policy.js';
import { desiredWindow, type WindowSettings } from './sync-window.js';

export interface SyncSchedule {
  /** How often an account of each provider is polled. */
  pollMs: Record<ProviderId, number>;
  /** How often an account is polled while every calendar of it has a push channel (the safety net). */
  pushedPollMs: number;
  window: WindowSettings;
  /** How often a calendar is relisted to move its window (and catch anything a feed missed). */
  relistEveryMs: number;
  leaseMs: number;
}

export interface AccountSyncerDeps {
  storage: Storage;
  accounts: AccountsRepository;
  calendars: CalendarsRepository;
  calendarSync: CalendarSyncRepository;
  jobs: SyncJobsRepository;
  contexts: AccountContexts;
  registry: ProviderRegistry;
  schedule: SyncSchedule;
  syncer: (holdLease: HoldLease) => CalendarSyncer;
  /** Push channels of providers that have them; absent: polling only. */
  push?: PushChannelKeeper;
  /** Told when a run finds the account's grant refused or working again. */
  observer?: Pick<MirrorObserver, 'grantChanged'>;
  now(): number;
  random?: () => number;
}

/** Renews the account's lease inside a unit of work; false when another worker took it. */
export type HoldLease = (tx: Kysely<Database>) => Promise<boolean>;

export class AccountSyncer {
  constructor(private readonly deps: AccountSyncerDeps) {}

  /** Next poll: the provider's interval with ±10 % jitter, so accounts connected together spread out. */
  private nextPoll(provider: ProviderId, now: number, pushed = false): number {
    const interval = pushed ? Math.max(this.deps.schedule.pushedPollMs, this.deps.schedule.pollMs[provider]) : this.deps.schedule.pollMs[provider];
    const random = this.deps.random ?? Math.random;
    return now + Math.round(interval * (0.9 + 0.2 * random()));
  }

  private async tellGrant(accountId: string, state: 'reauth_required' | 'ok', log: FastifyBaseLogger): Promise<void> {
    try {
      await this.deps.observer?.grantChanged?.(accountId, state);
    } catch (err) {
      log.warn({ err }, 'could not queue the grant notice');
    }
  }

  async run(job: ClaimedJob, log: FastifyBaseLogger): Promise<void> {
    const { deps } = this;
    const now = deps.now();
    const account = await deps.accounts.get(job.accountId);
    if (!account) return;
    const entry = deps.registry.get(account.provider);
    const feed = entry?.changes;
    const jobLog = log.child({ provider: account.provider, account: account.id });
    if (!entry || !feed) {
      // Not configured on this deployment (or no feed): nothing is stored, reads stay live; look again later.
      await deps.jobs.finish(job, { kind: 'success', at: now, nextRunAt: this.nextPoll(account.provider, now) });
      return;
    }

    const abort = new AbortController();
    const heartbeat = setInterval(() => {
      void deps.jobs.renew(job, deps.now() + deps.schedule.leaseMs).then(
        (held) => held || abort.abort(new LeaseLostError()),
        () => undefined,
      );
    }, Math.max(1000, Math.floor(deps.schedule.leaseMs / 3)));
    heartbeat.unref();
    const holdLease: HoldLease = (tx) => deps.jobs.in(tx).renew(job, deps.now() + deps.schedule.leaseMs);

    try {
      // Write counters are read before anything from the provider: data read afterwards is at least that new.
      const known = await deps.calendars.listForAccounts([account.id]);
      const writesSeen = new Map((await deps.calendarSync.listFor(known.map((r) => r.id))).map((s) => [s.calendarId, s.writeGeneration]));
      const handle = await deps.contexts.open(account, jobLog, abort.signal);
      const listed = await deps.contexts.run(handle, (ctx) => entry.adapter.listCalendars(ctx));
      const run = <T>(call: (ctx: ProviderContext) => Promise<T>): Promise<T> => deps.contexts.run(handle, call);
      if (deps.push && entry.push) {
        // Channels of calendars about to be forgotten are stopped while their rows still say which.
        const listedIds = new Set(listed.map((c) => c.id));
        await deps.push.stopForCalendars(known.filter((r) => !listedIds.has(r.calendar.id)).map((r) => r.id), run, jobLog);
      }
      const reconciled = await deps.storage.transaction(async (tx) => {
        if (!(await holdLease(tx))) throw new LeaseLostError();
        return deps.calendars.in(tx).reconcile(account.id, listed, now);
      });
      // Channels are opened before the calendars are read: a change made before a channel is
      // stored (and its notification refused) is then still found by this run's passes.
      // With a channel on every calendar the provider says when something changed; polling stays as a slower safety net.
      const pushed = deps.push && entry.push ? await deps.push.maintain(handle, reconciled.records, run, jobLog) : false;
      const states = new Map((await deps.calendarSync.listFor(reconciled.records.map((r) => r.id))).map((s) => [s.calendarId, s]));
      const desired = desiredWindow(now, deps.schedule.window);
      const syncer = deps.syncer(holdLease);
      let yielded = false;
      for (const record of reconciled.records) {
        const state = states.get(record.id);
        if (!state) continue;
        const relistDue = state.lastRelistedAt === null || now - state.lastRelistedAt >= deps.schedule.relistEveryMs;
        try {
          const result = await deps.contexts.run(handle, (ctx) =>
            syncer.run({ accountId: account.id, record, state, writeGenerationSeen: writesSeen.get(record.id) ?? 0, feed, ctx, desired, relistDue, listed: record.calendar }),
          );
          if (result === 'yielded') yielded = true;
        } catch (err) {
          if (!(err instanceof ProviderError) || failurePolicy(err).scope === 'account') throw err;
          jobLog.warn({ calendar: record.id, code: err.code }, 'calendar sync failed');
          await deps.calendarSync.recordFailure(record.id, err.code, err.message);
        }
      }
      const nextRunAt = yielded ? deps.now() : this.nextPoll(account.provider, deps.now(), pushed && reconciled.records.length > 0);
      await deps.jobs.finish(job, { kind: 'success', at: deps.now(), nextRunAt, calendarsListedAt: now });
      if (account.syncState === 'reauth_required') await this.tellGrant(account.id, 'ok', jobLog);
    } catch (err) {
      if (err instanceof LeaseLostError || abort.signal.reason instanceof LeaseLostError) {
        jobLog.warn('sync lease lost; another worker continues');
        return;
      }
      const record = await deps.jobs.get(job.accountId);
      const code = err instanceof ProviderError ? err.code : 'INTERNAL';
      const message = err instanceof ProviderError ? err.message : 'Internal error during sync';
      if (!(err instanceof ProviderError)) jobLog.error({ err }, 'sync run failed');
      else jobLog.warn({ code }, 'sync run failed');
      const at = deps.now();
      await deps.jobs.finish(job, { kind: 'failure', at, code, message, nextRunAt: at + retryDelayMs(err, record?.failures ?? 0, deps.random) });
      if (failurePolicy(err).needsReconnect) await this.tellGrant(account.id, 'reauth_required', jobLog);
    } finally {
      clearInterval(heartbeat);
    }
  }
}
