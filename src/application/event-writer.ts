/**
 * Writes through to the provider. Once the provider has answered, the calendar is marked
 * as written: reads of it go to the provider until a sync pass that started after the
 * write has completed, so the application always reads its own writes. (Marking before
 * the write would let a pass that starts in between, and reads the old state, count as
 * caught up.) The account's sync is then made due at once, so the mirror catches up
 * within a tick rather than a poll.
 *
 * The version each write leaves behind (event id and resulting ETag; the event id alone
 * for a deletion) is recorded in storage, so the sync pass that later finds the change
 * does not send it back to the application as a webhook. Recorded only for calendars
 * with a subscription, and never allowed to fail the write.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CalendarEvent, EditMode, EventInput, EventPatch, EventRef, ProviderId } from '../domain/calendar.js';
import type { AccountContexts, AccountHandle } from './account-contexts.js';
import type { CalendarDirectory } from './calendar-directory.js';
import type { ProviderContext } from '../providers/types.js';
import type { CalendarSyncRepository } from '../storage/repositories/calendar-sync.repo.js';

export interface EventWriterDeps {
  directory: CalendarDirectory;
  contexts: AccountContexts;
  calendarSync: CalendarSyncRepository;
  /** Makes an account's sync due now. */
  syncSoon(accountId: string): Promise<void>;
  /** Where the application's own writes are remembered (webhook echo suppression). */
  echoes?: EchoRecorder;
}

export interface EchoRecorder {
  isWatched(accountId: string, calendarId: string): Promise<boolean>;
  recordEcho(accountId: string, calendarId: string, eventId: string, etag: string, now: number): Promise<void>;
}

/** The provider's version tag of a written event, when it reports one. */
function etagOf(event: CalendarEvent): string | undefined {
  const etag = (event.original as { etag?: unknown } | null | undefined)?.etag;
  return typeof etag === 'string' && etag !== '' ? etag : undefined;
}

export class EventWriter {
  constructor(private readonly deps: EventWriterDeps) {}

  private async write<T>(
    userId: string,
    provider: ProviderId,
    calendarId: string,
    log: FastifyBaseLogger,
    call: (handle: AccountHandle, ctx: ProviderContext) => Promise<T>,
    written: (result: T) => { eventId: string; etag: string }[],
  ): Promise<T> {
    const { handle, rowId } = await this.deps.directory.resolve(userId, provider, calendarId, log);
    try {
      const result = await this.deps.contexts.run(handle, (ctx) => call(handle, ctx));
      await this.remember(handle.account.id, calendarId, written(result), log);
      return result;
    } finally {
      // Even a failed write may have changed something at the provider (a split series half done).
      try {
        if (rowId) await this.deps.calendarSync.markWritten(rowId);
        await this.deps.syncSoon(handle.account.id);
      } catch (err) {
        log.warn({ err }, 'could not record a write for the mirror');
      }
    }
  }

  private async remember(accountId: string, calendarId: string, versions: { eventId: string; etag: string }[], log: FastifyBaseLogger): Promise<void> {
    const echoes = this.deps.echoes;
    if (!echoes || versions.length === 0) return;
    try {
      if (!(await echoes.isWatched(accountId, calendarId))) return;
      const now = Date.now();
      for (const v of versions) await echoes.recordEcho(accountId, calendarId, v.eventId, v.etag, now);
    } catch (err) {
      log.warn({ err }, 'could not record a write for webhook echo suppression');
    }
  }

  private static written(event: CalendarEvent): { eventId: string; etag: string }[] {
    const etag = etagOf(event);
    return etag ? [{ eventId: event.id, etag }, ...(event.recurringEventId ? [{ eventId: event.recurringEventId, etag }] : [])] : [];
  }

  create(userId: string, provider: ProviderId, input: EventInput, log: FastifyBaseLogger): Promise<CalendarEvent> {
    return this.write(userId, provider, input.calendarId, log, (h, ctx) => h.entry.adapter.createEvent(ctx, input), EventWriter.written);
  }

  update(userId: string, provider: ProviderId, ref: EventRef, patch: EventPatch, mode: EditMode | undefined, log: FastifyBaseLogger): Promise<CalendarEvent> {
    return this.write(userId, provider, ref.calendarId, log, (h, ctx) => h.entry.adapter.updateEvent(ctx, ref, patch, mode), EventWriter.written);
  }

  remove(userId: string, provider: ProviderId, ref: EventRef, mode: EditMode | undefined, log: FastifyBaseLogger): Promise<void> {
    // A deletion leaves no version: the empty tag marks the event id (and its series, for a whole-series delete) as removed by the application.
    const removed = [{ eventId: ref.eventId, etag: '' }, ...(ref.recurringEventId && mode !== 'this' ? [{ eventId: ref.recurringEventId, etag: '' }] : [])];
    return this.write(userId, provider, ref.calendarId, log, (h, ctx) => h.entry.adapter.deleteEvent(ctx, ref, mode), () => removed);
  }
}
