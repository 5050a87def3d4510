import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { CalendarEvent } from '../../domain/calendar.js';
import type { Database } from '../schema.js';
import { forEachChunk, selectInChunks } from './in-chunks.js';
import { OpenedCache } from './opened-cache.js';

/** `instances`: as singleEvents=true lists events; `masters`: as singleEvents=false does. */
export type MirrorView = 'instances' | 'masters';

const VIEW_CODE: Record<MirrorView, string> = { instances: 'i', masters: 'm' };

/** A unit of change as the mirror stores it (the provider seam's MirrorUnit). */
export interface StoredUnit {
  key: string;
  version: string;
  instances: readonly CalendarEvent[];
  masters: readonly CalendarEvent[];
}

/** Where a page of mirror reads resumes: after this (start, calendar row, event id). */
export interface MirrorPosition {
  startMs: number;
  calendarId: string;
  eventId: string;
}

export interface MirrorPageQuery {
  calendarIds: readonly string[];
  /** Read the mirror as it was at this clock value (see `clock`); absent: as it is now. */
  snapshot?: number;
  view: MirrorView;
  /** Events overlapping [start, end). */
  start: number;
  end: number;
  /** No event in these calendars lasts longer: bounds the scan for overlapping events. */
  maxDurationMs: number;
  after?: MirrorPosition;
  limit: number;
}

export interface MirrorEntry {
  position: MirrorPosition;
  event: CalendarEvent;
}

export interface MirrorPage {
  entries: MirrorEntry[];
  /** Whether more rows follow the last entry. */
  more: boolean;
  /**
   * For a read without a snapshot: the clock value the rows were read at (same statement),
   * so later pages can continue at it. Absent when no row came back.
   */
  clock?: number;
}

const INSERT_BATCH = 100;

/** Decrypted events kept per process (see OpenedCache): a few tens of MB at most. */
const OPENED_CACHE_EVENTS = 20_000;

function startMsOf(event: CalendarEvent): number {
  return Date.parse(event.start);
}

function endMsOf(event: CalendarEvent): number {
  const end = Date.parse(event.end);
  return Number.isNaN(end) ? startMsOf(event) : end;
}

/**
 * The encrypted event mirror. Each event's API form is sealed whole (AES-256-GCM, bound
 * to its calendar, view and id); ids, times and status stay in clear for indexing. A
 * unit's events are always replaced together, so a changed series never leaves stale
 * instances behind.
 *
 * Rows are versions: a change marks the current rows superseded at the mirror clock's
 * next value and adds new ones, so a reader holding a clock value (a walk of pages) sees
 * the mirror as it was then, every event exactly once, however it changes meanwhile.
 * Superseded versions are purged after a while (`purgeSuperseded`).
 */
export class MirrorRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly opened = new OpenedCache<CalendarEvent>(OPENED_CACHE_EVENTS),
  ) {}

  in(tx: Kysely<Database>): MirrorRepository {
    return new MirrorRepository(tx, this.box, this.opened);
  }

  private aad(calendarId: string, view: string, eventId: string): string {
    return `event:${calendarId}:${view}:${eventId}`;
  }

  /** The event in a sealed row (shared and frozen: copy before changing it). */
  private openEvent(calendarId: string, view: string, eventId: string, payload: string): CalendarEvent {
    const aad = this.aad(calendarId, view, eventId);
    return this.opened.get(aad, payload, () => JSON.parse(this.box.open(payload, aad)) as CalendarEvent);
  }

  /** The mirror clock now: a snapshot to read at. */
  async clock(): Promise<number> {
    const row = await this.db.selectFrom('mirror_clock').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  /** Advances the clock; inside a transaction its row lock orders commits by clock value. */
  private async tick(): Promise<number> {
    const row = await this.db
      .updateTable('mirror_clock')
      .set((eb) => ({ seq: eb('seq', '+', 1) }))
      .where('id', '=', 1)
      .returning('seq')
      .executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  /** Marks the current rows of these units superseded at `seq`. */
  private async supersede(calendarId: string, keys: readonly string[], seq: number, now: number): Promise<void> {
    await forEachChunk(keys, (chunk) =>
      this.db
        .updateTable('mirror_events')
        .set({ deleted_seq: seq, deleted_at: now })
        .where('calendar_id', '=', calendarId)
        .where('unit_key', 'in', chunk)
        .where('deleted_seq', 'is', null)
        .execute(),
    );
  }

  async knownVersions(calendarId: string, keys: readonly string[]): Promise<Map<string, string>> {
    const rows = await selectInChunks(keys, (chunk) =>
      this.db.selectFrom('mirror_units').select(['unit_key', 'version']).where('calendar_id', '=', calendarId).where('unit_key', 'in', chunk).execute(),
    );
    return new Map(rows.map((r) => [r.unit_key, r.version]));
  }

  /**
   * Replaces the mirrored events of each unit and records its version. Returns the
   * longest event duration written, for the calendar's scan bound.
   */
  async replaceUnits(calendarId: string, units: readonly StoredUnit[], generation: number, now = Date.now()): Promise<number> {
    if (units.length === 0) return 0;
    const seq = await this.tick();
    await this.supersede(calendarId, units.map((u) => u.key), seq, now);
    let maxDuration = 0;
    const rows: Database['mirror_events'][] = [];
    for (const unit of units) {
      for (const [view, events] of [['i', unit.instances], ['m', unit.masters]] as const) {
        for (const event of events) {
          const startMs = startMsOf(event);
          if (Number.isNaN(startMs)) continue;
          const endMs = Math.max(startMs, endMsOf(event));
          maxDuration = Math.max(maxDuration, endMs - startMs);
          const json = JSON.stringify(event);
          const aad = this.aad(calendarId, view, event.id);
          const payload = this.box.seal(json, aad);
          // The instance that syncs a calendar serves the reads that follow without decrypting
          // what it just wrote (the value is what opening the row would give: the JSON parsed).
          this.opened.remember(aad, payload, () => JSON.parse(json) as CalendarEvent);
          rows.push({
            calendar_id: calendarId,
            view,
            event_id: event.id,
            unit_key: unit.key,
            start_ms: startMs,
            end_ms: endMs,
            status: event.status ?? null,
            payload,
            created_seq: seq,
            deleted_seq: null,
            deleted_at: null,
          });
        }
      }
    }
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('mirror_events')
        .values(rows.slice(i, i + INSERT_BATCH))
        // Two units claiming one event id (a provider quirk): the later one wins instead of failing the page.
        .onConflict((oc) =>
          oc.columns(['calendar_id', 'view', 'event_id', 'created_seq']).doUpdateSet((eb) => ({
            unit_key: eb.ref('excluded.unit_key'),
            start_ms: eb.ref('excluded.start_ms'),
            end_ms: eb.ref('excluded.end_ms'),
            status: eb.ref('excluded.status'),
            payload: eb.ref('excluded.payload'),
          })),
        )
        .execute();
    }
    for (const unit of units) {
      await this.db
        .insertInto('mirror_units')
        .values({ calendar_id: calendarId, unit_key: unit.key, version: unit.version, generation })
        .onConflict((oc) => oc.columns(['calendar_id', 'unit_key']).doUpdateSet({ version: unit.version, generation }))
        .execute();
    }
    return maxDuration;
  }

  async deleteUnits(calendarId: string, keys: readonly string[], now = Date.now()): Promise<void> {
    if (keys.length === 0) return;
    await this.supersede(calendarId, keys, await this.tick(), now);
    await forEachChunk(keys, (chunk) => this.db.deleteFrom('mirror_units').where('calendar_id', '=', calendarId).where('unit_key', 'in', chunk).execute());
  }

  /** Versions superseded before `before` (ms): no walk that started since then needs them. */
  async purgeSuperseded(before: number): Promise<number> {
    const result = await this.db.deleteFrom('mirror_events').where('deleted_seq', 'is not', null).where('deleted_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Units a relisting saw unchanged join its generation, so the sweep keeps them. */
  async markSeen(calendarId: string, keys: readonly string[], generation: number): Promise<void> {
    await forEachChunk(keys, (chunk) =>
      this.db.updateTable('mirror_units').set({ generation }).where('calendar_id', '=', calendarId).where('unit_key', 'in', chunk).execute(),
    );
  }

  /**
   * After a relisting: the units it did not see (older generation), apart from `seenNow`
   * (the last page's units, not yet marked). The caller deletes them.
   */
  async staleUnits(calendarId: string, generation: number, seenNow: readonly string[]): Promise<string[]> {
    const rows = await this.db
      .selectFrom('mirror_units')
      .select('unit_key')
      .where('calendar_id', '=', calendarId)
      .where('generation', '<', generation)
      .execute();
    const seen = new Set(seenNow);
    return rows.map((r) => r.unit_key).filter((key) => !seen.has(key));
  }

  /** The longest mirrored event of a calendar, recomputed (after a relisting shrank it). */
  async longestDuration(calendarId: string): Promise<number> {
    const row = await this.db
      .selectFrom('mirror_events')
      .select(sql<number>`max(end_ms - start_ms)`.as('longest'))
      .where('calendar_id', '=', calendarId)
      .where('deleted_seq', 'is', null)
      .executeTakeFirst();
    return Number(row?.longest ?? 0);
  }

  /** The mirrored events a unit holds in one view (for change notifications and tests). */
  async unitEvents(calendarId: string, view: MirrorView, keys: readonly string[]): Promise<CalendarEvent[]> {
    const code = VIEW_CODE[view];
    const rows = await selectInChunks(keys, (chunk) =>
      this.db
        .selectFrom('mirror_events')
        .select(['event_id', 'payload'])
        .where('calendar_id', '=', calendarId)
        .where('view', '=', code)
        .where('unit_key', 'in', chunk)
        .where('deleted_seq', 'is', null)
        .orderBy('start_ms')
        .orderBy('event_id')
        .execute(),
    );
    return rows.map((r) => this.openEvent(calendarId, code, r.event_id, r.payload));
  }

  /**
   * One page of events across calendars, ordered by (start, calendar row, event id): a
   * keyset walk, so each page costs what it returns, whatever its position. Only
   * returned rows are decrypted.
   *
   * Instances overlap [start, end) themselves. A master (or single event) is listed when
   * its unit has an instance in the range — exactly the rule of a live singleEvents=false
   * read — while it sorts by its own start, which for a series is its first occurrence.
   */
  async page(q: MirrorPageQuery): Promise<MirrorPage> {
    if (q.calendarIds.length === 0 || q.limit < 1) return { entries: [], more: false };
    // The limit is written into the statement, not bound: SQLite plans an ORDER BY … LIMIT
    // with the limit's value, so a bound one made it re-prepare the statement on every
    // run (parsing and planning were a fifth of the query). Page sizes are few.
    if (!Number.isSafeInteger(q.limit)) throw new TypeError('A mirror page limit is a whole number');
    const code = VIEW_CODE[q.view];
    const after = q.after;
    const scanFrom = q.start - q.maxDurationMs;
    // Written as SQL rather than with the query builder: this runs on every mirror read, and
    // building and compiling the equivalent builder chain cost more than executing it.
    const visible = (alias: 'e' | 'i'): RawBuilder<unknown> =>
      q.snapshot === undefined
        ? sql`${sql.raw(`${alias}.deleted_seq`)} is null`
        : sql`${sql.raw(`${alias}.created_seq`)} <= ${q.snapshot} and (${sql.raw(`${alias}.deleted_seq`)} is null or ${sql.raw(`${alias}.deleted_seq`)} > ${q.snapshot})`;
    const inRange =
      q.view === 'instances'
        ? sql`e.start_ms >= ${scanFrom} and e.start_ms < ${q.end} and e.end_ms > ${q.start}`
        : sql`exists (select 1 from mirror_events as i where i.calendar_id = e.calendar_id and i.view = ${VIEW_CODE.instances}
            and i.unit_key = e.unit_key and ${visible('i')} and i.start_ms >= ${scanFrom} and i.start_ms < ${q.end} and i.end_ms > ${q.start})`;
    const resume = after
      ? sql` and e.start_ms >= ${after.startMs} and (e.start_ms > ${after.startMs} or e.calendar_id > ${after.calendarId} or (e.calendar_id = ${after.calendarId} and e.event_id > ${after.eventId}))`
      : sql``;
    // A read "as now" returns the clock from the same statement, which sees one state of
    // both tables: saves a round trip on every first page. One row beyond the page tells
    // whether more follow; it is not decrypted.
    const { rows } = await sql<{ calendar_id: string; event_id: string; start_ms: number | string; payload: string; clock: number | string | null }>`
      select e.calendar_id, e.event_id, e.start_ms, e.payload, (select seq from mirror_clock where id = 1) as clock
      from mirror_events as e
      where e.calendar_id in (${sql.join([...q.calendarIds])}) and e.view = ${code} and ${visible('e')} and ${inRange}${resume}
      order by e.start_ms, e.calendar_id, e.event_id
      limit ${sql.lit(q.limit + 1)}`.execute(this.db);
    const entries = rows.slice(0, q.limit).map((r) => ({
      position: { startMs: Number(r.start_ms), calendarId: r.calendar_id, eventId: r.event_id },
      event: this.openEvent(r.calendar_id, code, r.event_id, r.payload),
    }));
    const clock = q.snapshot === undefined && rows[0]?.clock != null ? Number(rows[0].clock) : undefined;
    return { entries, more: rows.length > q.limit, ...(clock !== undefined ? { clock } : {}) };
  }
}
