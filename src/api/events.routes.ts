/** GET /api/events, POST/PUT/DELETE /api/event (API.md), over every connected account. */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { EventRef } from '../domain/calendar.js';
import { ValidationError } from '../domain/errors.js';
import { requireAuth, type Access } from '../http/bearer-guard.js';
import { canReadDetails } from '../oauth/scopes.js';
import type { AccountContexts } from './account-contexts.js';
import type { CalendarDirectory } from './calendar-directory.js';
import { queryFingerprint, type CursorCodec } from './events/cursor-codec.js';
import { deleteResponse, listResponse, writeResponse } from './events/event-response.js';
import { mergeEventPages, toErrorEntries, type EventSource } from './events/merge-event-pages.js';
import { parseCreateEventBody, parseDeleteEventParams, parseUpdateEventBody } from './events/parse-event-body.js';
import { parseListQuery, selectCalendarIds } from './events/parse-list-query.js';
import { sanitizeFreeBusy } from './events/sanitize-free-busy.js';
import { eventSchemas } from './events.schemas.js';

export interface EventsDeps {
  guard: (a: Access) => preHandlerAsyncHookHandler;
  directory: CalendarDirectory;
  contexts: AccountContexts;
  cursors: CursorCodec;
}

/**
 * Almanac extra: `If-Match: <original.etag>` makes a write conditional on the version
 * the application last read, so a concurrent change is a 409 instead of being overwritten.
 */
function withIfMatch(ref: EventRef, header: string | string[] | undefined): EventRef {
  if (header === undefined) return ref;
  if (Array.isArray(header) || header.length === 0 || header.length > 512 || header === '*') throw new ValidationError('If-Match must be one ETag from the event\'s original.etag');
  return { ...ref, etag: header };
}

// The body parsers below validate by hand (every problem listed in `details`); the schemas document.
const noValidation = { validatorCompiler: () => () => true } as const;

export function registerEventsRoutes(app: FastifyInstance, deps: EventsDeps): void {
  app.get('/api/events', { preHandler: deps.guard('any'), schema: eventSchemas.list, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const q = parseListQuery(request.query as Record<string, unknown>);
    const dir = await deps.directory.list(auth.userId, request.log);
    const sources: EventSource[] = dir.listed.flatMap(({ handle, calendars }) =>
      selectCalendarIds(q.calendarIds, handle.account.provider, calendars.map((c) => c.id)).map((calendarId) => ({
        key: `${handle.account.provider}:${handle.account.id}:${calendarId}`,
        provider: handle.account.provider,
        account: handle.account.accountId,
        fetchPage: (pageToken: string | undefined, pageSize: number) =>
          deps.contexts.run(handle, (ctx) => handle.entry.adapter.listEvents(ctx, { calendarId, start: q.start, end: q.end, singleEvents: q.singleEvents, pageToken, pageSize })),
      })),
    );
    const fingerprint = queryFingerprint({ userId: auth.userId, start: q.start, end: q.end, singleEvents: q.singleEvents, calendarIds: q.calendarIds });
    const state = q.nextPageToken !== undefined ? deps.cursors.decode(q.nextPageToken, fingerprint) : undefined;
    const merged = await mergeEventPages(sources, state, q.pageSize);
    const errors = [
      ...dir.failures.map((f) => ({ provider: f.account.provider, account: f.account.accountId, code: f.error.code, message: f.error.message })),
      ...toErrorEntries(merged.failures),
    ];
    // Everything failed: that is a provider failure, not an empty calendar.
    const everyAccountFailed = dir.listed.length === 0 && dir.failures.length > 0;
    if (everyAccountFailed) throw dir.failures[0]!.error;
    const events = canReadDetails(auth.scope) ? merged.events : sanitizeFreeBusy(merged.events);
    return listResponse(events, q.pageSize, merged.nextState ? deps.cursors.encode(merged.nextState, fingerprint) : undefined, errors);
  });

  app.post('/api/event', { preHandler: deps.guard('write'), schema: eventSchemas.create, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const { provider, input } = parseCreateEventBody(request.body);
    const handle = await deps.directory.resolve(auth.userId, provider, input.calendarId, request.log);
    const event = await deps.contexts.run(handle, (ctx) => handle.entry.adapter.createEvent(ctx, input));
    return writeResponse(event);
  });

  app.put('/api/event', { preHandler: deps.guard('write'), schema: eventSchemas.update, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const { provider, ref: parsedRef, patch, mode } = parseUpdateEventBody(request.body);
    const ref = withIfMatch(parsedRef, request.headers['if-match']);
    const handle = await deps.directory.resolve(auth.userId, provider, ref.calendarId, request.log);
    const event = await deps.contexts.run(handle, (ctx) => handle.entry.adapter.updateEvent(ctx, ref, patch, mode));
    return writeResponse(event);
  });

  app.delete('/api/event', { preHandler: deps.guard('write'), schema: eventSchemas.remove, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const { provider, ref: parsedRef, mode } = parseDeleteEventParams(request.query, request.body);
    const ref = withIfMatch(parsedRef, request.headers['if-match']);
    const handle = await deps.directory.resolve(auth.userId, provider, ref.calendarId, request.log);
    await deps.contexts.run(handle, (ctx) => handle.entry.adapter.deleteEvent(ctx, ref, mode));
    return deleteResponse();
  });
}
