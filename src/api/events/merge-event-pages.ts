/**
 * One page of GET /api/events across every calendar: a k-way merge of per-calendar
 * provider pages on event start (EventPage's ordering contract), resumable from a
 * CursorState.
 *
 * Guarantees, given providers that return the same page for the same (token, size):
 * - walking pages returns every event exactly once, whatever the providers' page sizes,
 *   empty pages, equal start times, or where our page ends inside a provider page;
 * - within a page, events come by (start instant, source order, position in source);
 * - `nextState` is absent only when nothing remains (a source whose buffer ran out is
 *   read ahead before answering, so a walk never ends on a spurious empty page).
 * A provider that breaks the ordering contract still gets every event returned once;
 * only the global order suffers.
 *
 * Failures: a ProviderError from one source (including CURSOR_INVALID for an expired
 * provider token, and a source stuck returning empty pages) is collected in `failures`
 * and the source leaves the walk: it is left out of this page and out of `nextState`, so
 * later pages neither retry it endlessly nor slip its events in out of order. The client
 * sees the failure once, in the `errors` of the page where it happened, and restarts
 * the walk to retry. Anything else thrown (a bug, an abort) rejects the whole merge.
 */
import { createHash } from 'node:crypto';
import type { CalendarEvent, ProviderId } from '../../domain/calendar.js';
import { ProviderError, type EventPage } from '../../providers/types.js';
import type { CursorState, SourceCursor } from './cursor-codec.js';

export interface EventSource {
  /** Stable across requests and unique in the list, e.g. `${provider}:${accountRowId}:${calendarId}`. */
  key: string;
  provider: ProviderId;
  /** The account as API.md's `errors` name it (usually the email). */
  account: string;
  /** One provider page; `pageToken` absent for the first. Throws ProviderError on failure. */
  fetchPage(pageToken: string | undefined, pageSize: number): Promise<EventPage>;
}

export interface SourceFailure {
  sourceKey: string;
  provider: ProviderId;
  account: string;
  error: ProviderError;
}

export interface MergeResult {
  /** At most `pageSize` events. */
  events: CalendarEvent[];
  /** Where the next page starts; absent when the walk is complete. */
  nextState?: CursorState;
  /** Sources that failed during this call (they are out of the rest of the walk). */
  failures: SourceFailure[];
}

export interface MergeOptions {
  /** Consecutive empty pages (with a next token) after which a source counts as failed. */
  maxEmptyPages?: number;
}

/** One entry of API.md's `errors` array. */
export interface EventsErrorEntry {
  provider: ProviderId;
  account: string;
  code: string;
  message: string;
}

/** The cursor's short, stable name for a source key: 64 bits of SHA-256, base64url. */
export function sourceId(key: string): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

const DEFAULT_MAX_EMPTY_PAGES = 100;

type Status = 'active' | 'done' | 'failed';

interface Reader {
  readonly order: number;
  readonly source: EventSource;
  readonly id: string;
  status: Status;
  /** Token of the page in `buffer` (undefined: the first page). */
  pageToken: string | undefined;
  buffer: CalendarEvent[];
  /** Next unread index in `buffer`. */
  pos: number;
  /** nextPageToken of the page in `buffer`. */
  next: string | undefined;
  /** Cached start instant of buffer[pos]. */
  headStart: number;
}

function startOf(event: CalendarEvent): number {
  const ms = Date.parse(event.start);
  // An unparsable start must not wedge the merge: let it out first.
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** (start instant, source order); position in source is implicit: one head per source. */
function before(a: Reader, b: Reader): boolean {
  return a.headStart < b.headStart || (a.headStart === b.headStart && a.order < b.order);
}

/** A binary min-heap of readers by head. */
class ReaderHeap {
  private readonly items: Reader[] = [];

  get size(): number {
    return this.items.length;
  }

  push(r: Reader): void {
    const a = this.items;
    a.push(r);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Reader | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Builds one page of at most `pageSize` events from `sources` (in their display order),
 * starting where `state` says (undefined: the first page).
 */
export async function mergeEventPages(
  sources: readonly EventSource[],
  state: CursorState | undefined,
  pageSize: number,
  options: MergeOptions = {},
): Promise<MergeResult> {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  const maxEmptyPages = options.maxEmptyPages ?? DEFAULT_MAX_EMPTY_PAGES;
  const providerPageSize = state?.providerPageSize ?? pageSize;
  const failures: SourceFailure[] = [];

  const seen = new Set<string>();
  const readers: Reader[] = [];
  sources.forEach((source, order) => {
    const id = sourceId(source.key);
    if (seen.has(id)) throw new TypeError(`duplicate event source key: ${source.key}`);
    seen.add(id);
    // With a cursor, a source it does not list is finished or new since the walk began.
    let start: SourceCursor | undefined;
    if (!state) start = { skip: 0 };
    else if (Object.prototype.hasOwnProperty.call(state.sources, id)) start = state.sources[id];
    if (!start) return;
    readers.push({
      order,
      source,
      id,
      status: 'active',
      pageToken: start.token,
      buffer: [],
      pos: start.skip,
      next: undefined,
      headStart: 0,
    });
  });

  const fail = (r: Reader, error: ProviderError): void => {
    r.status = 'failed';
    r.buffer = [];
    failures.push({ sourceKey: r.source.key, provider: r.source.provider, account: r.source.account, error });
  };

  /** Fetches the page `token` names into the reader. False when the source failed. */
  const load = async (r: Reader, token: string | undefined): Promise<boolean> => {
    let page: EventPage;
    try {
      page = await r.source.fetchPage(token, providerPageSize);
    } catch (err) {
      if (err instanceof ProviderError) {
        fail(r, err);
        return false;
      }
      throw err;
    }
    if (!page || !Array.isArray(page.events)) {
      fail(r, new ProviderError('UNKNOWN', 'The provider returned a malformed page'));
      return false;
    }
    r.pageToken = token;
    r.buffer = page.events;
    r.next = page.nextPageToken;
    return true;
  };

  /** Moves forward until the reader has an unread event, or marks it done or failed. */
  const fill = async (r: Reader): Promise<void> => {
    let empty = 0;
    while (r.status === 'active' && r.pos >= r.buffer.length) {
      if (r.next === undefined) {
        r.status = 'done';
        return;
      }
      if (++empty > maxEmptyPages) {
        fail(r, new ProviderError('UNKNOWN', `The provider returned more than ${maxEmptyPages} empty pages in a row`));
        return;
      }
      if (!(await load(r, r.next))) return;
      r.pos = 0;
    }
    if (r.status === 'active') r.headStart = startOf(r.buffer[r.pos]!);
  };

  // First pages of every source in parallel: the page each cursor points into.
  const settled = await Promise.allSettled(
    readers.map(async (r) => {
      if (await load(r, r.pageToken)) await fill(r);
    }),
  );
  for (const s of settled) if (s.status === 'rejected') throw s.reason;

  const heap = new ReaderHeap();
  for (const r of readers) if (r.status === 'active') heap.push(r);

  const events: CalendarEvent[] = [];
  while (events.length < pageSize) {
    const r = heap.pop();
    if (!r) break;
    events.push(r.buffer[r.pos]!);
    r.pos += 1;
    // Refill before comparing again (its next page may start before other heads), and
    // also after the last event of the page, so `nextState` never promises an empty page.
    if (r.pos >= r.buffer.length) await fill(r);
    else r.headStart = startOf(r.buffer[r.pos]!);
    if (r.status === 'active') heap.push(r);
  }

  const remaining: Record<string, SourceCursor> = {};
  let any = false;
  for (const r of readers) {
    if (r.status !== 'active') continue;
    any = true;
    remaining[r.id] = r.pageToken === undefined ? { skip: r.pos } : { token: r.pageToken, skip: r.pos };
  }
  return any ? { events, nextState: { providerPageSize, sources: remaining }, failures } : { events, failures };
}

/**
 * API.md's `errors` entries for the failures of one page, one per (provider, account,
 * code, message): ten calendars of one revoked account make one entry, not ten.
 */
export function toErrorEntries(failures: readonly SourceFailure[]): EventsErrorEntry[] {
  const seen = new Set<string>();
  const out: EventsErrorEntry[] = [];
  for (const f of failures) {
    const entry = { provider: f.provider, account: f.account, code: f.error.code, message: f.error.message };
    const k = JSON.stringify([entry.provider, entry.account, entry.code, entry.message]);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(entry);
  }
  return out;
}
