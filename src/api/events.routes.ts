/** GET /api/events, POST/PUT/DELETE /api/event (API.md), over every connected account. */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { EventRef } from '../domain/calendar.js';
import { ValidationError } from '../domain/errors.js';
import { requireAuth, type Access } from '../http/bearer-guard.js';
import { canReadDetails } from '../oauth/scopes.js';
import type { EventReader } from '../application/event-reader.js';
import type { EventWriter } from '../application/event-writer.js';
import { deleteResponse, listResponse, writeResponse } from './events/event-response.js';
import { parseCreateEventBody, parseDeleteEventParams, parseUpdateEventBody } from './events/parse-event-body.js';
import { parseListQuery } from './events/parse-list-query.js';
import { sanitizeFreeBusy } from './events/sanitize-free-busy.js';
import { eventSchemas } from './events.schemas.js';

export interface EventsDeps {
  guard: (a: Access) => preHandlerAsyncHookHandler;
  reader: EventReader;
  writer: EventWriter;
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

/** `Cache-Control: no-cache` (or `no-store`) asks for the providers' own answer, not the mirror's. */
function wantsFresh(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return /(^|,)\s*(no-cache|no-store|max-age=0)\s*(,|$)/i.test(value);
}

/**
 * The list's events keep every field they have (`additionalProperties`), which makes the
 * schema-compiled serializer walk each event's keys twice; JSON.stringify writes the same
 * body in less time (a sixth of a mirror read of 50 events went to serialising). Every
 * value is a domain CalendarEvent, so there is nothing for the schema to coerce.
 */
const plainJson = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) } as const;

export function registerEventsRoutes(app: FastifyInstance, deps: EventsDeps): void {
  app.get('/api/events', { preHandler: deps.guard('any'), schema: eventSchemas.list, ...noValidation, ...plainJson }, async (request, reply) => {
    const auth = requireAuth(request);
    const q = parseListQuery(request.query as Record<string, unknown>);
    const result = await deps.reader.list(auth.userId, q, { noCache: wantsFresh(request.headers['cache-control']), log: request.log });
    // Almanac extra: where the page came from and how old its mirrored part is.
    reply.header('Almanac-Source', result.source).header('Almanac-Data-Age', String(result.ageSeconds));
    const events = canReadDetails(auth.scope) ? result.events : sanitizeFreeBusy(result.events);
    return listResponse(events, q.pageSize, result.nextPageToken, result.errors);
  });

  app.post('/api/event', { preHandler: deps.guard('write'), schema: eventSchemas.create, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const { provider, input } = parseCreateEventBody(request.body);
    return writeResponse(await deps.writer.create(auth.userId, provider, input, request.log));
  });

  app.put('/api/event', { preHandler: deps.guard('write'), schema: eventSchemas.update, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const { provider, ref: parsedRef, patch, mode } = parseUpdateEventBody(request.body);
    const ref = withIfMatch(parsedRef, request.headers['if-match']);
    return writeResponse(await deps.writer.update(auth.userId, provider, ref, patch, mode, request.log));
  });

  app.delete('/api/event', { preHandler: deps.guard('write'), schema: eventSchemas.remove, ...noValidation }, async (request) => {
    const auth = requireAuth(request);
    const { provider, ref: parsedRef, mode } = parseDeleteEventParams(request.query, request.body);
    const ref = withIfMatch(parsedRef, request.headers['if-match']);
    await deps.writer.remove(auth.userId, provider, ref, mode, request.log);
    return deleteResponse();
  });
}
