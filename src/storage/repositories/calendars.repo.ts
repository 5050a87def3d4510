import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { Calendar } from '../../domain/calendar.js';
import type { Database } from '../schema.js';
import { pushUntil, toCalendarSyncRecord, type CalendarSyncRecord, type CalendarSyncRow } from './calendar-sync.repo.js';
import { forEachChunk, selectInChunks } from './in-chunks.js';
import { OpenedCache } from './opened-cache.js';

/** Decrypted calendars kept per process (see OpenedCache). */
const OPENED_CACHE_CALENDARS = 5_000;

export interface CalendarRecord {
  /** Almanac's row id (mirror rows and sync state hang off it). */
  id: string;
  accountId: string;
  calendar: Calendar;
  position: number;
  updatedAt: number;
}

export interface Reconciled {
  records: CalendarRecord[];
  /** Row ids of calendars that appeared in this listing. */
  added: string[];
  /** Row ids of calendars that are gone (their mirror went with them). */
  removed: string[];
}

/**
 * The calendars of each account as the sync engine last listed them. The whole API
 * Calendar is sealed (AES-256-GCM, bound to its row); only ids and order are in clear.
 */
export class CalendarsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly opened = new OpenedCache<Calendar>(OPENED_CACHE_CALENDARS),
  ) {}

  /** The same repository inside a unit of work. */
  in(tx: Kysely<Database>): CalendarsRepository {
    return new CalendarsRepository(tx, this.box, this.opened);
  }

  private aad(id: string): string {
    return `calendar:${id}`;
  }

  private toRecord(row: { id: string; account_id: string; payload: string; position: number; updated_at: number }): CalendarRecord {
    return {
      id: row.id,
      accountId: row.account_id,
      calendar: this.opened.get(this.aad(row.id), row.payload, () => JSON.parse(this.box.open(row.payload, this.aad(row.id))) as Calendar),
      position: row.position,
      updatedAt: row.updated_at,
    };
  }

  async listForAccounts(accountIds: readonly string[]): Promise<CalendarRecord[]> {
    const rows = await selectInChunks(accountIds, (chunk) =>
      this.db.selectFrom('calendars').select(['id', 'account_id', 'payload', 'position', 'updated_at']).where('account_id', 'in', chunk).execute(),
    );
    return rows
      .sort((a, b) => (a.account_id < b.account_id ? -1 : a.account_id > b.account_id ? 1 : a.position - b.position))
      .map((row) => this.toRecord(row));
  }

  /**
   * The stored calendars of these accounts, each with its sync state (absent when it has
   * none), in one query per slice: reads need both on every request.
   */
  async listForAccountsWithSync(accountIds: readonly string[]): Promise<{ record: CalendarRecord; sync?: CalendarSyncRecord }[]> {
    const rows = await selectInChunks(accountIds, (chunk) =>
      this.db
        .selectFrom('calendars')
        .leftJoin('calendar_sync', 'calendar_sync.calendar_id', 'calendars.id')
        .select(['calendars.id', 'calendars.account_id', 'calendars.payload', 'calendars.position', 'calendars.updated_at'])
        .selectAll('calendar_sync')
        .select(pushUntil('calendars.id'))
        .where('calendars.account_id', 'in', chunk)
        .execute(),
    );
    return rows
      .sort((a, b) => (a.account_id < b.account_id ? -1 : a.account_id > b.account_id ? 1 : a.position - b.position))
      .map((row) => {
        const { id, account_id, payload, position, updated_at, ...sync } = row;
        const record = this.toRecord({ id, account_id, payload, position, updated_at });
        return sync.calendar_id === null ? { record } : { record, sync: toCalendarSyncRecord(sync as CalendarSyncRow) };
      });
  }

  async find(accountId: string, providerCalendarId: string): Promise<CalendarRecord | undefined> {
    const row = await this.db
      .selectFrom('calendars')
      .select(['id', 'account_id', 'payload', 'position', 'updated_at'])
      .where('account_id', '=', accountId)
      .where('provider_calendar_id', '=', providerCalendarId)
      .executeTakeFirst();
    return row && this.toRecord(row);
  }

  /**
   * Makes the stored list equal to `calendars` (a complete listing of the account):
   * new ones are added with a pending sync state, changed ones rewritten, missing ones
   * deleted together with their mirror.
   */
  async reconcile(accountId: string, calendars: readonly Calendar[], now = Date.now()): Promise<Reconciled> {
    const existing = await this.db.selectFrom('calendars').select(['id', 'provider_calendar_id']).where('account_id', '=', accountId).execute();
    const byProviderId = new Map(existing.map((r) => [r.provider_calendar_id, r.id]));
    const listed = new Set<string>();
    const added: string[] = [];
    const records: CalendarRecord[] = [];
    for (const [position, calendar] of calendars.entries()) {
      // A provider listing the same calendar twice must not make two rows.
      if (listed.has(calendar.id)) continue;
      listed.add(calendar.id);
      let id = byProviderId.get(calendar.id);
      const isNew = id === undefined;
      id ??= randomUUID();
      const payload = this.box.seal(JSON.stringify(calendar), this.aad(id));
      if (isNew) {
        await this.db
          .insertInto('calendars')
          .values({ id, account_id: accountId, provider_calendar_id: calendar.id, position, payload, created_at: now, updated_at: now })
          .execute();
        await this.db.insertInto('calendar_sync').values({ calendar_id: id }).execute();
        added.push(id);
      } else {
        await this.db.updateTable('calendars').set({ position, payload, updated_at: now }).where('id', '=', id).execute();
      }
      records.push({ id, accountId, calendar, position, updatedAt: now });
    }
    const removed = existing.filter((r) => !listed.has(r.provider_calendar_id)).map((r) => r.id);
    await forEachChunk(removed, (chunk) => this.db.deleteFrom('calendars').where('id', 'in', chunk).execute());
    return { records, added, removed };
  }
}
