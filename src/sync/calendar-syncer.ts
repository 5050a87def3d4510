/**
 * Brings one calendar's mirror up to date with the provider's change feed, one page at a
 * time. Each page is applied in one unit of work together with the cursor that follows
 * it (and whatever the observer appends, such as webhook outbox rows), after checking
 * that this worker still holds the account's lease. A crash between pages therefore
 * resumes at the last committed cursor: the uncommitted page is read again and applied
 * once, nothing is lost and nothing is applied twice.
 */
import type { Kysely } from 'kysely';
import type { Calendar } from '../domain/calendar.js';
import { ProviderError, type ChangeFeed, type ChangePage, type ProviderContext, type ProviderCredentials } from '../providers/types.js';
import type { Storage } from '../storage/db.js';
import type { CalendarRecord } from '../storage/repositories/calendars.repo.js';
import type { CalendarSyncRecord, CalendarSyncRepository } from '../storage/repositories/calendar-sync.repo.js';
import type { MirrorRepository } from '../storage/repositories/mirror.repo.js';
import type { Database } from '../storage/schema.js';
import type { Window } from './sync-window.js';

/** Thrown when the account's lease was lost mid-pass: another worker owns it now. */
export class LeaseLostError extends Error {
  constructor() {
    super('The sync lease was lost to another worker');
    this.name = 'LeaseLostError';
  }
}

/** What one committed page changed, for observers that must act in the same unit of work. */
export interface MirrorPageChange {
  accountId: string;
  calendar: CalendarRecord;
  page: ChangePage;
  /** Units a completed relisting found gone (deleted in this unit of work). */
  swept: string[];
  /** The first pass of a calendar: everything in it is new to the mirror. */
  initial: boolean;
  /** The window this pass expands into. */
  window: Window;
  /** The window the mirror held before this pass (null before the first completed relisting). */
  previousWindow: Window | null;
}

export interface MirrorObserver {
  /** Runs inside the page's unit of work, before the mirror changes (so it can read the old state). */
  pageApplying(tx: Kysely<Database>, change: MirrorPageChange): Promise<void>;
  /**
   * A run found the account's credentials refused (`reauth_required`), or working again
   * after they had been (`ok`). Called after the run; failures are logged, never fatal.
   */
  grantChanged?(accountId: string, state: 'reauth_required' | 'ok'): Promise<void>;
  /** The page's unit of work committed: what pageApplying wrote for this calendar (row id) is visible to other connections now. */
  pageCommitted?(calendarRowId: string): void;
}

export interface CalendarSyncerDeps {
  storage: Storage;
  mirror: MirrorRepository;
  calendarSync: CalendarSyncRepository;
  /** Renews the account's lease inside a unit of work; false when it was lost. */
  holdLease(tx: Kysely<Database>): Promise<boolean>;
  observer?: MirrorObserver;
  /** Units per page asked of the feed. */
  pageSize: number;
  /** Pages one pass may read before yielding (a calendar that never stops changing cannot hold a worker). */
  maxPagesPerPass: number;
  now(): number;
}

export interface CalendarPassRequest<C extends ProviderCredentials> {
  accountId: string;
  record: CalendarRecord;
  state: CalendarSyncRecord;
  /**
   * The calendar's write counter as read before the provider was first asked anything in
   * this run: everything the pass reads is at least as new as those writes.
   */
  writeGenerationSeen: number;
  feed: ChangeFeed<C>;
  ctx: ProviderContext<C>;
  /** The window the mirror should hold now. */
  desired: Window;
  /** Whether the stored window is old enough to be re-expanded into `desired`. */
  relistDue: boolean;
  /** The calendar as this run's listing described it (for the change marker). */
  listed: Calendar;
}

export type PassResult = 'unchanged' | 'synced' | 'yielded';

export class CalendarSyncer {
  constructor(private readonly deps: CalendarSyncerDeps) {}

  async run<C extends ProviderCredentials>(req: CalendarPassRequest<C>): Promise<PassResult> {
    const { deps } = this;
    const { record, state, feed } = req;
    const marker = feed.changeMarker?.(req.listed);
    const writesPending = state.writeGeneration > state.syncedGeneration;
    const midPass = state.cursor !== null && state.relisting;
    if (state.status === 'ready' && !req.relistDue && !midPass && !writesPending && marker !== undefined && marker === state.changeMarker) {
      await deps.calendarSync.confirmUnchanged(record.id, deps.now(), req.writeGenerationSeen);
      return 'unchanged';
    }

    const { writeGenerationSeen } = req;
    const initial = state.status === 'pending';
    let generation = state.generation;
    let relisting = state.relisting;
    let passWindow: Window = state.passWindow ?? state.window ?? req.desired;
    let cursor: string | undefined = state.cursor ?? undefined;
    // A relisting in progress (after a crash or a yield) is finished first, in its own window.
    if (!relisting && (initial || req.relistDue || cursor === undefined)) {
      passWindow = initial || req.relistDue || !state.window ? req.desired : state.window;
      generation = await deps.calendarSync.startRelisting(record.id, passWindow);
      relisting = true;
      cursor = undefined;
    }

    let restarted = false;
    for (let pages = 0; pages < deps.maxPagesPerPass; pages += 1) {
      let page: ChangePage;
      try {
        page = await feed.readChanges(req.ctx, {
          calendarId: record.calendar.id,
          ...(cursor !== undefined ? { cursor } : {}),
          window: { start: new Date(passWindow.start), end: new Date(passWindow.end) },
          pageSize: deps.pageSize,
          knownVersions: (keys) => deps.mirror.knownVersions(record.id, keys),
        });
      } catch (err) {
        // The provider forgot our place: relist once, keeping what the mirror has until the sweep.
        if (err instanceof ProviderError && err.code === 'CURSOR_INVALID' && !restarted) {
          restarted = true;
          passWindow = state.window ?? req.desired;
          generation = await deps.calendarSync.startRelisting(record.id, passWindow);
          relisting = true;
          cursor = undefined;
          continue;
        }
        throw err;
      }
      if (page.full && !relisting) {
        // The feed relists on its own (a CalDAV server without sync-collection): same window, new generation.
        generation = await deps.calendarSync.startRelisting(record.id, passWindow);
        relisting = true;
      }
      const completes = !page.more;
      await deps.storage.transaction(async (tx) => {
        if (!(await deps.holdLease(tx))) throw new LeaseLostError();
        const mirror = deps.mirror.in(tx);
        const sync = deps.calendarSync.in(tx);
        const swept = page.full && completes ? await mirror.staleUnits(record.id, generation, [...page.upserts.map((u) => u.key), ...page.unchanged]) : [];
        await deps.observer?.pageApplying(tx, { accountId: req.accountId, calendar: record, page, swept, initial, window: passWindow, previousWindow: state.window });
        const longest = await mirror.replaceUnits(record.id, page.upserts, generation);
        await mirror.deleteUnits(record.id, [...page.deletions, ...swept]);
        if (page.full) await mirror.markSeen(record.id, page.unchanged, generation);
        await sync.advance(record.id, { cursor: page.cursor, longestWritten: longest });
        if (completes) {
          await sync.completePass(record.id, {
            at: deps.now(),
            changeMarker: marker ?? null,
            writeGenerationSeen,
            ...(relisting ? { relisted: { window: passWindow, longest: await mirror.longestDuration(record.id) } } : {}),
          });
        }
      });
      deps.observer?.pageCommitted?.(record.id);
      cursor = page.cursor;
      if (completes) return 'synced';
    }
    return 'yielded';
  }
}
