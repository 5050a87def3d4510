/**
 * GET /api/events as one use case: which calendars, read from where, one page.
 *
 * Each selected calendar is read either from the local mirror (when MirrorFreshness
 * allows) or live from its provider. The choice is made on the first page and carried in
 * the cursor, so a walk never switches a calendar between the two. When every calendar
 * comes from the mirror the page is one keyset query (cost proportional to the page);
 * otherwise the mirror takes part in the k-way merge as one more source.
 *
 * Mid-walk changes: a walk reads the mirror as it was at its first page (the mirror
 * clock value is carried in the cursor), so it returns every event of that moment exactly
 * once, in order, whatever syncs land meanwhile; the next walk sees the changes. This
 * holds while superseded rows are kept (an hour); an older cursor reads what is left.
 * Calendars read live page through their providers' own cursors, as before.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CalendarEvent, ProviderId } from '../domain/calendar.js';
import { queryFingerprint, type CursorCodec, type CursorState } from '../api/events/cursor-codec.js';
import { mergeEventPages, sourceId, toErrorEntries, type EventSource, type EventsErrorEntry } from '../api/events/merge-event-pages.js';
import { selectCalendarIds, type ListEventsQuery } from '../api/events/parse-list-query.js';
import type { AccountContexts } from './account-contexts.js';
import type { CalendarDirectory } from './calendar-directory.js';
import { ProviderError } from '../providers/types.js';
import type { CalendarSyncRecord, CalendarSyncRepository } from '../storage/repositories/calendar-sync.repo.js';
import type { MirrorPosition, MirrorRepository, MirrorView } from '../storage/repositories/mirror.repo.js';
import type { MirrorFreshness } from './mirror-freshness.js';

export type ReadSource = 'mirror' | 'live' | 'mixed';

export interface ListResult {
  events: CalendarEvent[];
  nextPageToken?: string;
  errors: EventsErrorEntry[];
  source: ReadSource;
  /** Age of the oldest mirrored data on this page, in seconds (0 when all live). */
  ageSeconds: number;
}

export interface EventReaderDeps {
  directory: CalendarDirectory;
  contexts: AccountContexts;
  mirror: MirrorRepository;
  calendarSync: CalendarSyncRepository;
  freshness: MirrorFreshness;
  cursors: CursorCodec;
  now?: () => number;
}

/** The one source key of the mirror in a cursor. */
const MIRROR_KEY = 'almanac:mirror';

function encodePosition(p: MirrorPosition): string {
  return JSON.stringify([p.startMs, p.calendarId, p.eventId]);
}

function decodePosition(token: string): MirrorPosition {
  try {
    const [startMs, calendarId, eventId] = JSON.parse(token) as unknown[];
    if (typeof startMs === 'number' && typeof calendarId === 'string' && typeof eventId === 'string') return { startMs, calendarId, eventId };
  } catch {
    // fall through
  }
  throw new ProviderError('CURSOR_INVALID', 'Unreadable mirror position');
}

interface Selected {
  provider: ProviderId;
  accountLabel: string;
  calendarId: string;
  rowId?: string;
  source: () => EventSource;
}

export class EventReader {
  constructor(private readonly deps: EventReaderDeps) {}

  async list(userId: string, q: ListEventsQuery, options: { noCache: boolean; log: FastifyBaseLogger }): Promise<ListResult> {
    const { deps } = this;
    const now = (deps.now ?? Date.now)();
    // Only a page that reads or writes a cursor needs the digest (a single-page read does not).
    let digest: string | undefined;
    const fingerprint = (): string => (digest ??= queryFingerprint({ userId, start: q.start, end: q.end, singleEvents: q.singleEvents, calendarIds: q.calendarIds }));
    const state: CursorState | undefined = q.nextPageToken !== undefined ? deps.cursors.decode(q.nextPageToken, fingerprint()) : undefined;
    const dir = await deps.directory.list(userId, options.log, { noCache: options.noCache && !state?.mirror?.length });
    // Everything failed: that is a provider failure, not an empty calendar.
    if (dir.listed.length === 0 && dir.failures[0]) throw dir.failures[0].error;

    const selected: Selected[] = dir.listed.flatMap((listing) =>
      // A provider that names one calendar twice must not make the merge see two sources with one key.
      [...new Set(selectCalendarIds(q.calendarIds, listing.account.provider, listing.calendars.map((c) => c.id)))].map((calendarId) => ({
        provider: listing.account.provider,
        accountLabel: listing.account.accountId,
        calendarId,
        ...(listing.rowIds?.get(calendarId) ? { rowId: listing.rowIds.get(calendarId) } : {}),
        source: (): EventSource => ({
          key: `${listing.account.provider}:${listing.account.id}:${calendarId}`,
          provider: listing.account.provider,
          account: listing.account.accountId,
          fetchPage: async (pageToken, pageSize) => {
            const handle = await listing.handle();
            return deps.contexts.run(handle, (ctx) =>
              handle.entry.adapter.listEvents(ctx, { calendarId, start: q.start, end: q.end, singleEvents: q.singleEvents, pageToken, pageSize }),
            );
          },
        }),
      })),
    );

    // The plan: fixed by the cursor after the first page.
    const candidates = selected.filter((s) => s.rowId !== undefined);
    // The directory read the sync states with a stored listing; a cursor's mirrored calendars are all stored ones.
    const states = new Map(dir.listed.flatMap((l) => [...(l.syncStates ?? new Map<string, CalendarSyncRecord>())]));
    const wanted = state?.mirror ?? candidates.map((s) => s.rowId!);
    const missing = wanted.filter((id) => !states.has(id));
    if (missing.length > 0) for (const st of await deps.calendarSync.listFor(missing)) states.set(st.calendarId, st);
    const range = { start: q.start.getTime(), end: q.end.getTime() };
    const mirrorIds = state
      ? (state.mirror ?? [])
      : options.noCache
        ? []
        : candidates.filter((s) => deps.freshness.canServe(s.provider, states.get(s.rowId!), range, now)).map((s) => s.rowId!);
    const inMirror = new Set(mirrorIds);
    const live = selected.filter((s) => s.rowId === undefined || !inMirror.has(s.rowId));
    const oldest = Math.min(...mirrorIds.map((id) => states.get(id)?.lastSuccessAt ?? now), now);
    const ageSeconds = Math.max(0, Math.round((now - oldest) / 1000));
    const source: ReadSource = mirrorIds.length === 0 ? 'live' : live.length === 0 ? 'mirror' : 'mixed';
    const failures = dir.failures.map((f) => ({ provider: f.account.provider, account: f.account.accountId, code: f.error.code, message: f.error.message }));
    const view: MirrorView = q.singleEvents ? 'instances' : 'masters';
    const maxDurationMs = Math.max(0, ...mirrorIds.map((id) => states.get(id)?.maxDurationMs ?? 0));
    if (source === 'mirror') {
      const after = state?.sources[sourceId(MIRROR_KEY)]?.token;
      if (state && after === undefined) return { events: [], errors: failures, source, ageSeconds };
      // A first page reads the mirror as it is now and learns the clock from the same query.
      const page = await deps.mirror.page({ calendarIds: mirrorIds, snapshot: state?.snapshot, view, ...range, maxDurationMs, limit: q.pageSize, ...(after ? { after: decodePosition(after) } : {}) });
      const snapshot = state?.snapshot ?? page.clock;
      const last = page.entries.at(-1);
      const next: CursorState | undefined =
        page.more && last
          ? { providerPageSize: q.pageSize, sources: { [sourceId(MIRROR_KEY)]: { token: encodePosition(last.position), skip: 0 } }, mirror: mirrorIds, ...(snapshot !== undefined ? { snapshot } : {}) }
          : undefined;
      return {
        events: page.entries.map((e) => e.event),
        ...(next ? { nextPageToken: deps.cursors.encode(next, fingerprint()) } : {}),
        errors: failures,
        source,
        ageSeconds,
      };
    }

    const snapshot = mirrorIds.length === 0 ? undefined : (state?.snapshot ?? (await deps.mirror.clock()));
    const mirrorState = mirrorIds.length > 0 ? { mirror: mirrorIds, ...(snapshot !== undefined ? { snapshot } : {}) } : {};
    const sources: EventSource[] = live.map((s) => s.source());
    if (mirrorIds.length > 0) {
      sources.unshift({
        key: MIRROR_KEY,
        provider: live[0]?.provider ?? 'caldav',
        account: 'mirror',
        fetchPage: async (token, pageSize) => {
          const page = await deps.mirror.page({ calendarIds: mirrorIds, snapshot, view, ...range, maxDurationMs, limit: pageSize, ...(token ? { after: decodePosition(token) } : {}) });
          const last = page.entries.at(-1);
          return { events: page.entries.map((e) => e.event), ...(page.more && last ? { nextPageToken: encodePosition(last.position) } : {}) };
        },
      });
    }
    // A first page of a mixed walk starts every source; a later one only those its cursor still lists.
    const merged = await mergeEventPages(sources, state && { ...state }, q.pageSize);
    const nextState = merged.nextState && { ...merged.nextState, ...mirrorState };
    return {
      events: merged.events,
      ...(nextState ? { nextPageToken: deps.cursors.encode(nextState, fingerprint()) } : {}),
      errors: [...failures, ...toErrorEntries(merged.failures)],
      source,
      ageSeconds,
    };
  }
}
