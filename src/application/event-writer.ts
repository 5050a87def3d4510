/**
 * Writes through to the provider. Once the provider has answered, the calendar is marked
 * as written: reads of it go to the provider until a sync pass that started after the
 * write has completed, so the application always reads its own writes. (Marking before
 * the write would let a pass that starts in between, and reads the old state, count as
 * caught up.) The account's sync is then made due at once, so the mirror catches up
 * within a tick rather than a poll.
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
}

export class EventWriter {
  constructor(private readonly deps: EventWriterDeps) {}

  private async write<T>(userId: string, provider: ProviderId, calendarId: string, log: FastifyBaseLogger, call: (handle: AccountHandle, ctx: ProviderContext) => Promise<T>): Promise<T> {
    const { handle, rowId } = await this.deps.directory.resolve(userId, provider, calendarId, log);
    try {
      return await this.deps.contexts.run(handle, (ctx) => call(handle, ctx));
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

  create(userId: string, provider: ProviderId, input: EventInput, log: FastifyBaseLogger): Promise<CalendarEvent> {
    return this.write(userId, provider, input.calendarId, log, (h, ctx) => h.entry.adapter.createEvent(ctx, input));
  }

  update(userId: string, provider: ProviderId, ref: EventRef, patch: EventPatch, mode: EditMode | undefined, log: FastifyBaseLogger): Promise<CalendarEvent> {
    return this.write(userId, provider, ref.calendarId, log, (h, ctx) => h.entry.adapter.updateEvent(ctx, ref, patch, mode));
  }

  remove(userId: string, provider: ProviderId, ref: EventRef, mode: EditMode | undefined, log: FastifyBaseLogger): Promise<void> {
    return this.write(userId, provider, ref.calendarId, log, (h, ctx) => h.entry.adapter.deleteEvent(ctx, ref, mode));
  }
}
