import { sql, type AliasedRawBuilder, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Database } from '../schema.js';
import { selectInChunks } from './in-chunks.js';

/** The larger of a column and a value, in SQL both dialects speak (SQLite has no GREATEST). */
function greatest(column: 'max_duration_ms' | 'synced_generation', value: number): RawBuilder<number> {
  return sql<number>`CASE WHEN ${sql.ref(column)} > ${value} THEN ${sql.ref(column)} ELSE ${value} END`;
}

export type CalendarSyncStatus = 'pending' | 'ready';

export interface CalendarSyncRecord {
  calendarId: string;
  status: CalendarSyncStatus;
  cursor: string | null;
  changeMarker: string | null;
  generation: number;
  relisting: boolean;
  /** The window the pass in progress expands into. */
  passWindow: { start: number; end: number } | null;
  /** The window the mirror holds (null until the first relisting completed). */
  window: { start: number; end: number } | null;
  maxDurationMs: number;
  lastSuccessAt: number | null;
  lastRelistedAt: number | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  writeGeneration: number;
  syncedGeneration: number;
  pushedAt: number | null;
  /** Until when a push channel on this calendar is open (the latest expiry), or null without one. */
  pushUntil: number | null;
}

/** The latest expiry of a calendar's push channels, as a column `push_until` of a query over calendar_sync. */
export function pushUntil(calendarIdColumn: string): AliasedRawBuilder<number | string | null, 'push_until'> {
  return sql<number | string | null>`(select max(pc.expires_at) from push_channels pc where pc.calendar_id = ${sql.ref(calendarIdColumn)})`.as('push_until');
}

/** A calendar_sync row, with the latest expiry of the calendar's push channels when the query asked for it. */
export type CalendarSyncRow = Selectable<Database['calendar_sync']> & { push_until?: number | string | null };

export function toCalendarSyncRecord(row: CalendarSyncRow): CalendarSyncRecord {
  return {
    calendarId: row.calendar_id,
    status: row.status as CalendarSyncStatus,
    cursor: row.cursor,
    changeMarker: row.change_marker,
    generation: row.generation,
    relisting: row.relisting === 1,
    passWindow: row.pass_window_start !== null && row.pass_window_end !== null ? { start: row.pass_window_start, end: row.pass_window_end } : null,
    window: row.window_start !== null && row.window_end !== null ? { start: row.window_start, end: row.window_end } : null,
    maxDurationMs: Number(row.max_duration_ms),
    lastSuccessAt: row.last_success_at,
    lastRelistedAt: row.last_relisted_at,
    lastErrorCode: row.last_error_code,
    lastErrorMessage: row.last_error_message,
    writeGeneration: row.write_generation,
    syncedGeneration: row.synced_generation,
    pushedAt: row.pushed_at,
    pushUntil: row.push_until === null || row.push_until === undefined ? null : Number(row.push_until),
  };
}

/** What a page of changes moves forward, written in the same unit of work as the page. */
export interface PageProgress {
  cursor: string;
  /** The longest event the page wrote (the scan bound only grows between relistings). */
  longestWritten: number;
}

/** How a completed pass leaves the calendar. */
export interface PassCompletion {
  at: number;
  changeMarker: string | null;
  /** The write_generation seen when the pass began: writes after it still need a pass. */
  writeGenerationSeen: number;
  /** Set when the pass was a relisting: the mirror now holds exactly this window. */
  relisted?: { window: { start: number; end: number }; longest: number };
}

/**
 * Per-calendar sync state: the change feed's cursor, the window the mirror holds, the
 * generation counter of relistings, freshness, and the write counter that tells reads
 * when the mirror is behind the application's own writes.
 */
export class CalendarSyncRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): CalendarSyncRepository {
    return new CalendarSyncRepository(tx);
  }

  /**
   * For metrics: calendars by sync status, those whose last pass failed, and the age of the
   * oldest successful pass among synced calendars (how stale the stalest mirror is).
   */
  async freshnessStats(now: number): Promise<{ byStatus: Record<string, number>; failing: number; oldestSuccessAgeMs: number }> {
    const rows = await this.db
      .selectFrom('calendar_sync')
      .select((eb) => [
        'status',
        eb.fn.countAll<number | string>().as('n'),
        sql<number | string>`sum(case when last_error_code is not null then 1 else 0 end)`.as('failing'),
        eb.fn.min('last_success_at').as('oldest'),
      ])
      .groupBy('status')
      .execute();
    const byStatus: Record<string, number> = {};
    let failing = 0;
    let oldest = now;
    for (const row of rows) {
      byStatus[row.status] = Number(row.n);
      failing += Number(row.failing ?? 0);
      if (row.status === 'ready' && row.oldest != null) oldest = Math.min(oldest, Number(row.oldest));
    }
    return { byStatus, failing, oldestSuccessAgeMs: Math.max(0, now - oldest) };
  }

  /** The state with the latest expiry of the calendar's push channels (freshness lasts longer under push). */
  private states() {
    return this.db
      .selectFrom('calendar_sync as s')
      .selectAll('s')
      .select(pushUntil('s.calendar_id'));
  }

  async get(calendarId: string): Promise<CalendarSyncRecord | undefined> {
    const row = await this.states().where('s.calendar_id', '=', calendarId).executeTakeFirst();
    return row && toCalendarSyncRecord(row);
  }

  async listFor(calendarIds: readonly string[]): Promise<CalendarSyncRecord[]> {
    const rows = await selectInChunks(calendarIds, (chunk) => this.states().where('s.calendar_id', 'in', chunk).execute());
    return rows.map((row) => toCalendarSyncRecord(row));
  }

  /** Starts a relisting: a new generation, no cursor, and the window it expands into. */
  async startRelisting(calendarId: string, window: { start: number; end: number }): Promise<number> {
    await this.db
      .updateTable('calendar_sync')
      .set((eb) => ({
        generation: eb('generation', '+', 1),
        relisting: 1,
        cursor: null,
        pass_window_start: window.start,
        pass_window_end: window.end,
      }))
      .where('calendar_id', '=', calendarId)
      .execute();
    const row = await this.db.selectFrom('calendar_sync').select('generation').where('calendar_id', '=', calendarId).executeTakeFirstOrThrow();
    return row.generation;
  }

  /** Records a page's progress (call inside the page's unit of work). */
  async advance(calendarId: string, progress: PageProgress): Promise<void> {
    await this.db
      .updateTable('calendar_sync')
      .set({ cursor: progress.cursor, max_duration_ms: greatest('max_duration_ms', progress.longestWritten) })
      .where('calendar_id', '=', calendarId)
      .execute();
  }

  async completePass(calendarId: string, done: PassCompletion): Promise<void> {
    const relisted = done.relisted
      ? {
          relisting: 0,
          status: 'ready',
          window_start: done.relisted.window.start,
          window_end: done.relisted.window.end,
          max_duration_ms: done.relisted.longest,
          last_relisted_at: done.at,
          pass_window_start: null,
          pass_window_end: null,
        }
      : {};
    await this.db
      .updateTable('calendar_sync')
      .set({
        ...relisted,
        change_marker: done.changeMarker,
        last_success_at: done.at,
        last_error_code: null,
        last_error_message: null,
        synced_generation: greatest('synced_generation', done.writeGenerationSeen),
      })
      .where('calendar_id', '=', calendarId)
      .execute();
  }

  /** An unchanged calendar (same change marker): fresh without reading anything. */
  async confirmUnchanged(calendarId: string, at: number, writeGenerationSeen: number): Promise<void> {
    await this.db
      .updateTable('calendar_sync')
      .set({
        last_success_at: at,
        last_error_code: null,
        last_error_message: null,
        synced_generation: greatest('synced_generation', writeGenerationSeen),
      })
      .where('calendar_id', '=', calendarId)
      .execute();
  }

  async recordFailure(calendarId: string, code: string, message: string): Promise<void> {
    await this.db.updateTable('calendar_sync').set({ last_error_code: code, last_error_message: message }).where('calendar_id', '=', calendarId).execute();
  }

  /** The cursor the provider refused: the next pass relists. */
  async dropCursor(calendarId: string): Promise<void> {
    await this.db.updateTable('calendar_sync').set({ cursor: null, relisting: 0 }).where('calendar_id', '=', calendarId).execute();
  }

  /** A write through the API: reads of this calendar go live until a pass has caught up. */
  async markWritten(calendarId: string): Promise<void> {
    await this.db.updateTable('calendar_sync').set((eb) => ({ write_generation: eb('write_generation', '+', 1) })).where('calendar_id', '=', calendarId).execute();
  }

  /**
   * The provider said the calendar changed: like a write through the API, the mirror is
   * behind until a sync that starts after this has completed, so reads go live meanwhile.
   */
  async markPushed(calendarId: string, at: number): Promise<void> {
    await this.db
      .updateTable('calendar_sync')
      .set((eb) => ({ pushed_at: at, write_generation: eb('write_generation', '+', 1) }))
      .where('calendar_id', '=', calendarId)
      .execute();
  }
}
