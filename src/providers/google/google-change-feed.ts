/**
 * The Google change feed, after Google's "synchronize resources efficiently" guide. A
 * relisting pages through `events.list` with `singleEvents=false` and no time range (a
 * sync token is only issued for, and only valid with, an unrestricted listing); its last
 * page carries the `nextSyncToken` the following passes list changes from, deletions
 * included. A token Google no longer accepts is answered 410, which map-google-error
 * turns into CURSOR_INVALID, and the engine relists.
 *
 * A unit is one single event (keyed by its id) or one series (keyed by the master's id):
 * the master, its exceptions and its occurrences together. An occurrence whose series the
 * account cannot read (the user was invited to that occurrence alone) is a unit of its
 * own, keyed by its id. Occurrences come from
 * `events.instances` rather than from expanding the RRULE here: the mirror must hold
 * exactly what a live `singleEvents=true` read returns, and those instances are resources
 * Google builds (their ids, ETags, inherited fields and exceptions), which only Google can
 * reproduce faithfully. It costs one request per changed series (more for very long
 * ones); an unchanged series costs nothing.
 *
 * Versions: a single event's version is its ETag and whether it overlaps the window, so a
 * relisting re-reads nothing for an unchanged single. A series is read again by every
 * relisting (see readChanges) and by any pass whose sync token reports a change to its
 * master or to one of its exceptions.
 */
import type { CalendarEvent } from '../../domain/calendar.js';
import type { ChangeFeed, ChangePage, MirrorUnit, OAuthCredentials, SyncWindow } from '../types.js';
import { ProviderError } from '../types.js';
import type { GoogleCalendarApi } from './google-calendar-api.js';
import { eventEndMs, eventStartMs, toCalendarEvent } from './google-event-mapper.js';
import type { GoogleContext } from './google-http.js';
import type { GoogleEvent } from './google-wire-types.js';

/** UTC offsets run from -12 h to +14 h: Google files all-day events under the calendar's zone. */
const MAX_ZONE_SKEW_MS = 14 * 3_600_000;
/** Google's largest page. */
const MAX_RESULTS = 2500;
/** Against a server that never stops handing out page tokens for one series. */
const MAX_INSTANCE_PAGES = 1000;

interface FeedCursor {
  v: 1;
  /** The sync token this pass lists changes from (absent while relisting). */
  token?: string;
  /** Where the pass continues inside Google's listing. */
  pageToken?: string;
  /** This pass is a relisting of the whole calendar. */
  full?: boolean;
}

function encodeCursor(c: FeedCursor): string {
  return JSON.stringify(c);
}

function decodeCursor(text: string): FeedCursor {
  try {
    const c = JSON.parse(text) as FeedCursor;
    if (c && c.v === 1 && (c.full === true ? c.token === undefined : typeof c.token === 'string')) return c;
  } catch {
    // fall through
  }
  throw new ProviderError('CURSOR_INVALID', 'Unreadable Google sync cursor');
}

/** Almanac's range rule (types.ts): end > start of range and start < end of range. */
function overlaps(window: SyncWindow, startMs: number, endMs: number): boolean {
  return endMs > window.start.getTime() && startMs < window.end.getTime();
}

function singleVersion(event: GoogleEvent, window: SyncWindow): string {
  return `s:${overlaps(window, eventStartMs(event), eventEndMs(event)) ? 1 : 0}:${event.etag ?? ''}`;
}

function seriesVersion(master: GoogleEvent, window: SyncWindow): string {
  return `r:${window.start.getTime()}:${window.end.getTime()}:${master.etag ?? ''}`;
}

const isSeries = (event: GoogleEvent): boolean => Array.isArray(event.recurrence) && event.recurrence.length > 0;
/** The unit an item belongs to: its series for exceptions, itself otherwise. */
const unitKeyOf = (event: GoogleEvent): string => event.recurringEventId ?? event.id ?? '';

export function createGoogleChangeFeed(api: GoogleCalendarApi): ChangeFeed<OAuthCredentials> {
  function singleUnit(event: GoogleEvent, calendarId: string, window: SyncWindow): MirrorUnit {
    const mapped = toCalendarEvent(event, calendarId);
    const inWindow = overlaps(window, eventStartMs(event), eventEndMs(event));
    return { key: event.id ?? '', version: singleVersion(event, window), instances: inWindow ? [mapped] : [], masters: inWindow ? [mapped] : [] };
  }

  /**
   * An occurrence listed without its series because the account cannot see the series: the
   * user was invited to this occurrence only. It is a unit of its own, as a live
   * singleEvents=true read lists it; like there, it is no series master.
   */
  function orphanUnit(event: GoogleEvent, calendarId: string, window: SyncWindow): MirrorUnit {
    const single = singleUnit(event, calendarId, window);
    return { ...single, masters: [] };
  }

  /** Whether the account can read the series `masterId` (an orphan occurrence's series cannot be read). */
  async function seriesVisible(ctx: GoogleContext, calendarId: string, masterId: string): Promise<boolean> {
    try {
      return (await api.getEvent(ctx, calendarId, masterId)).status !== 'cancelled';
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }

  /** A series with its occurrences in the window; undefined when Google no longer has it. */
  async function seriesUnit(ctx: GoogleContext, calendarId: string, master: GoogleEvent, window: SyncWindow): Promise<MirrorUnit | undefined> {
    const masterId = master.id ?? '';
    const instances: CalendarEvent[] = [];
    let listed = false;
    let pageToken: string | undefined;
    let pages = 0;
    try {
      do {
        if (++pages > MAX_INSTANCE_PAGES) throw new ProviderError('UNKNOWN', 'Google kept returning more pages of occurrences');
        const response = await api.listInstances(ctx, calendarId, masterId, {
          timeMin: new Date(window.start.getTime() - MAX_ZONE_SKEW_MS).toISOString(),
          timeMax: new Date(window.end.getTime() + MAX_ZONE_SKEW_MS).toISOString(),
          maxResults: MAX_RESULTS,
          pageToken,
        });
        for (const event of response.items ?? []) {
          if (event.status === 'cancelled') continue;
          // Google listed it for the widened range: what a live read of the series would find.
          listed = true;
          if (overlaps(window, eventStartMs(event), eventEndMs(event))) instances.push(toCalendarEvent(event, calendarId));
        }
        pageToken = response.nextPageToken;
      } while (pageToken);
    } catch (err) {
      // Deleted since it was listed (410 `deleted` is NOT_FOUND too): the unit is gone.
      if (err instanceof ProviderError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
    // As a live singleEvents=false read: listed when Google has an occurrence for the range.
    const keepMaster = listed && eventStartMs(master) < window.end.getTime();
    return {
      key: masterId,
      version: seriesVersion(master, window),
      instances,
      masters: keepMaster ? [toCalendarEvent(master, calendarId)] : [],
    };
  }

  return {
    async readChanges(ctx, request): Promise<ChangePage> {
      const cursor = request.cursor === undefined ? { v: 1 as const, full: true } : decodeCursor(request.cursor);
      const { calendarId, window } = request;
      const response = await api.listEvents(ctx, calendarId, {
        singleEvents: false,
        maxResults: Math.min(Math.max(1, Math.floor(request.pageSize)), MAX_RESULTS),
        ...(cursor.token !== undefined ? { syncToken: cursor.token } : {}),
        ...(cursor.pageToken !== undefined ? { pageToken: cursor.pageToken } : {}),
      });
      const items = (response.items ?? []).filter((e) => e.id);
      const full = cursor.full === true;
      const upserts: MirrorUnit[] = [];
      const deletions: string[] = [];
      const unchanged: string[] = [];

      if (full) {
        // Exceptions come with their series' occurrences; only masters and singles name units here.
        const heads = items.filter((e) => e.recurringEventId === undefined && e.status !== 'cancelled');
        const known = await request.knownVersions(heads.filter((e) => !isSeries(e)).map((e) => e.id!));
        for (const event of heads) {
          if (!isSeries(event)) {
            if (known.get(event.id!) === singleVersion(event, window)) unchanged.push(event.id!);
            else upserts.push(singleUnit(event, calendarId, window));
            continue;
          }
          // A series is always read again here: its exceptions may sit on other pages, so the
          // listing cannot tell whether one changed (after a 410 the sync token that would have
          // said so is gone), and a relisting usually follows a move of the window anyway.
          const unit = await seriesUnit(ctx, calendarId, event, window);
          if (unit) upserts.push(unit);
        }
        // Occurrences whose series is not on this page: the series is elsewhere in the
        // listing (and mirrored with it there), or the account cannot see it at all.
        const headIds = new Set(heads.map((e) => e.id));
        const loose = new Map<string, GoogleEvent[]>();
        for (const event of items) {
          const masterId = event.recurringEventId;
          if (masterId === undefined || event.status === 'cancelled' || headIds.has(masterId)) continue;
          loose.set(masterId, [...(loose.get(masterId) ?? []), event]);
        }
        for (const [masterId, events] of loose) {
          if (await seriesVisible(ctx, calendarId, masterId)) continue;
          for (const event of events) upserts.push(orphanUnit(event, calendarId, window));
        }
      } else {
        // Every changed item, cancelled ones included: group them by the unit they belong to.
        const byUnit = new Map<string, GoogleEvent[]>();
        for (const event of items) byUnit.set(unitKeyOf(event), [...(byUnit.get(unitKeyOf(event)) ?? []), event]);
        for (const [key, changed] of byUnit) {
          let head = changed.find((e) => e.id === key);
          if (head?.status === 'cancelled') {
            deletions.push(key);
            continue;
          }
          if (head && !isSeries(head)) {
            upserts.push(singleUnit(head, calendarId, window));
            continue;
          }
          if (!head) {
            // Only exceptions changed (a moved or cancelled occurrence): the series is read again whole.
            try {
              head = await api.getEvent(ctx, calendarId, key);
            } catch (err) {
              if (err instanceof ProviderError && err.code === 'NOT_FOUND') {
                // The series is gone, or the account never could see it: what changed are
                // occurrences it was invited to on their own, each a unit of its own.
                deletions.push(key);
                for (const event of changed) {
                  if (event.status === 'cancelled') deletions.push(event.id!);
                  else upserts.push(orphanUnit(event, calendarId, window));
                }
                continue;
              }
              throw err;
            }
            if (head.status === 'cancelled') {
              deletions.push(key);
              continue;
            }
          }
          const unit = isSeries(head) ? await seriesUnit(ctx, calendarId, head, window) : singleUnit(head, calendarId, window);
          if (unit) upserts.push(unit);
          else deletions.push(key);
          if (unit && isSeries(head)) {
            // Occurrences mirrored on their own while the series could not be read (the user
            // has since been invited to all of it) now belong to the series unit.
            const alone = await request.knownVersions(unit.instances.map((e) => e.id).filter((id) => id !== key));
            deletions.push(...alone.keys());
          }
        }
      }

      if (response.nextPageToken) {
        const next: FeedCursor = { v: 1, ...(full ? { full: true } : { token: cursor.token }), pageToken: response.nextPageToken };
        return { upserts, deletions, unchanged, full, cursor: encodeCursor(next), more: true };
      }
      if (!response.nextSyncToken) throw new ProviderError('UNKNOWN', 'Google ended a listing without a sync token');
      return { upserts, deletions, unchanged, full, cursor: encodeCursor({ v: 1, token: response.nextSyncToken }), more: false };
    },
  };
}
