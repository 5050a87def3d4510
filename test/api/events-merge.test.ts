import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CalendarEvent, ProviderId } from '../../src/domain/calendar.js';
import { ProviderError, type EventPage } from '../../src/providers/types.js';
import { createCursorCodec, type CursorState } from '../../src/api/events/cursor-codec.js';
import {
  mergeEventPages,
  sourceId,
  toErrorEntries,
  type EventSource,
  type MergeResult,
} from '../../src/api/events/merge-event-pages.js';

// ---- fixtures ---------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(...parts: Array<string | number>): number {
  let h = 2166136261;
  for (const ch of parts.join('|')) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

const BASE = Date.parse('2025-01-01T00:00:00Z');

function event(key: string, i: number, startMs: number): CalendarEvent {
  return {
    provider: 'google',
    id: `${key}#${i}`,
    calendarId: key,
    title: `e${i}`,
    start: new Date(startMs).toISOString(),
    end: new Date(startMs + 3_600_000).toISOString(),
    allDay: false,
    original: null,
  };
}

/** `n` events in start order, drawn from only `distinct` start times (many ties). */
function events(key: string, n: number, distinct: number, seed: number): CalendarEvent[] {
  const r = rng(seed);
  const starts = Array.from({ length: n }, () => BASE + Math.floor(r() * distinct) * 1_800_000).sort((a, b) => a - b);
  return starts.map((s, i) => event(key, i, s));
}

interface Awkward {
  /** Largest page returned (the hint is mostly ignored, as the contract allows). */
  maxPage?: number;
  /** Fraction of calls that answer an empty page with a nextPageToken. */
  emptyRate?: number;
  /** End some walks with an empty last page after a nextPageToken. */
  trailingEmpty?: boolean;
}

interface MemorySource extends EventSource {
  calls: Array<{ token: string | undefined; size: number }>;
}

/**
 * An in-memory calendar that honours the EventPage contract with awkward paging: page
 * lengths vary (1..maxPage, never more than the hint allows twice over), some pages are
 * empty but carry a nextPageToken, and the same (token, size) always gives the same page.
 * Token `offset.salt`: `salt` lets an empty page point at the same offset again.
 */
function memorySource(key: string, list: CalendarEvent[], awkward: Awkward = {}, provider: ProviderId = 'google'): MemorySource {
  const { maxPage = 13, emptyRate = 0.15, trailingEmpty = true } = awkward;
  const calls: MemorySource['calls'] = [];
  return {
    key,
    provider,
    account: `${key}@example.com`,
    calls,
    async fetchPage(token, size): Promise<EventPage> {
      calls.push({ token, size });
      await Promise.resolve();
      const [offsetText = '0', saltText = '0'] = (token ?? '0.0').split('.');
      const offset = Number(offsetText);
      const salt = Number(saltText);
      if (!Number.isInteger(offset) || offset < 0 || offset > list.length) throw new ProviderError('CURSOR_INVALID', 'bad token');
      const h = hash(key, offset, salt, size);
      if (offset < list.length && salt < 3 && (h % 1000) / 1000 < emptyRate) {
        return { events: [], nextPageToken: `${offset}.${salt + 1}` };
      }
      const n = Math.min(list.length - offset, 1 + (h % Math.min(maxPage, size * 2)));
      const end = offset + n;
      const page: EventPage = { events: list.slice(offset, end) };
      if (end < list.length || (trailingEmpty && end === list.length && h % 3 === 0 && n > 0)) page.nextPageToken = `${end}.0`;
      return page;
    },
  };
}

const codec = createCursorCodec(randomBytes(32));
const FP = 'fingerprint';

/** Walks every page, passing the cursor through the real codec like the route will. */
async function walk(sources: EventSource[], pageSizes: number | number[], limit = 100_000): Promise<MergeResult[]> {
  const pages: MergeResult[] = [];
  let token: string | undefined;
  for (let i = 0; i < limit; i++) {
    const size = typeof pageSizes === 'number' ? pageSizes : pageSizes[i % pageSizes.length]!;
    const state = token === undefined ? undefined : codec.decode(token, FP);
    const page = await mergeEventPages(sources, state, size);
    assert.ok(page.events.length <= size, 'page over size');
    pages.push(page);
    if (!page.nextState) return pages;
    token = codec.encode(page.nextState, FP);
  }
  throw new Error('walk did not end');
}

/** The order the merge must produce: by start, then source order, then position in source. */
function expectedOrder(lists: CalendarEvent[][]): string[] {
  return lists
    .flatMap((list, s) => list.map((e, p) => ({ e, s, p, t: Date.parse(e.start) })))
    .sort((a, b) => a.t - b.t || a.s - b.s || a.p - b.p)
    .map((x) => x.e.id);
}

function ids(pages: MergeResult[]): string[] {
  return pages.flatMap((p) => p.events.map((e) => e.id));
}

// ---- the walk ---------------------------------------------------------------------------

const lists = [events('a', 520, 40, 1), events('b', 333, 40, 2), events('c', 301, 15, 3)];

for (const pageSize of [1, 7, 250, 1000]) {
  test(`3 awkward sources, ${lists.flat().length} events, pageSize ${pageSize}: every event once, in order`, async () => {
    const sources = [memorySource('a', lists[0]!), memorySource('b', lists[1]!), memorySource('c', lists[2]!, { maxPage: 4, emptyRate: 0.3 })];
    const pages = await walk(sources, pageSize);
    assert.deepEqual(ids(pages), expectedOrder(lists));
    // Every page but the last is full, and no page is empty: no spurious trailing page.
    pages.slice(0, -1).forEach((p, i) => assert.equal(p.events.length, pageSize, `page ${i}`));
    assert.ok(pages.at(-1)!.events.length > 0);
    assert.ok(pages.every((p) => p.failures.length === 0));
  });
}

test('page size changing from page to page still yields every event once', async () => {
  const sources = lists.map((l, i) => memorySource('abc'[i]!, l));
  const pages = await walk(sources, [7, 250, 1, 13, 1000, 2]);
  assert.deepEqual(ids(pages), expectedOrder(lists));
});

test('all events at one instant: source order then position', async () => {
  const same = ['x', 'y', 'z'].map((k) => Array.from({ length: 50 }, (_, i) => event(k, i, BASE)));
  const sources = same.map((l, i) => memorySource('xyz'[i]!, l, { maxPage: 3 }));
  const pages = await walk(sources, 7);
  assert.deepEqual(ids(pages), expectedOrder(same));
  assert.deepEqual(ids(pages).slice(0, 3), ['x#0', 'x#1', 'x#2']);
});

test('a later page of one source can hold events before other heads', async () => {
  // a: pages of 1; its 2nd page (09:00) must come before b's head (10:00).
  const a = [event('a', 0, BASE + 8 * 3_600_000), event('a', 1, BASE + 9 * 3_600_000), event('a', 2, BASE + 11 * 3_600_000)];
  const b = [event('b', 0, BASE + 10 * 3_600_000)];
  const pages = await walk([memorySource('a', a, { maxPage: 1, emptyRate: 0 }), memorySource('b', b)], 10);
  assert.deepEqual(ids(pages), ['a#0', 'a#1', 'b#0', 'a#2']);
});

test('empty sources, only-empty pages, and no sources at all', async () => {
  assert.deepEqual(await mergeEventPages([], undefined, 10), { events: [], failures: [] });
  const empty = memorySource('e', []);
  const res = await mergeEventPages([empty], undefined, 10);
  assert.deepEqual(res, { events: [], failures: [] });
  // Empty pages with a next token before the data.
  let n = 0;
  const lazy: EventSource = {
    key: 'lazy',
    provider: 'caldav',
    account: 'me',
    async fetchPage(token) {
      n++;
      const step = Number(token ?? 0);
      return step < 5 ? { events: [], nextPageToken: String(step + 1) } : { events: [event('lazy', 0, BASE)] };
    },
  };
  const page = await mergeEventPages([lazy], undefined, 10);
  assert.deepEqual(page.events.map((e) => e.id), ['lazy#0']);
  assert.equal(page.nextState, undefined);
  assert.equal(n, 6);
});

test('a provider that breaks the ordering contract still gets each event out once', async () => {
  const shuffled = events('s', 100, 100, 9).reverse();
  const pages = await walk([memorySource('s', shuffled), memorySource('t', events('t', 50, 10, 4))], 9);
  const got = ids(pages);
  assert.equal(got.length, 150);
  assert.equal(new Set(got).size, 150);
});

// ---- parallelism ------------------------------------------------------------------------

test('first pages of all sources are requested in parallel', async () => {
  const n = 4;
  let started = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const sources: EventSource[] = Array.from({ length: n }, (_, i) => ({
    key: `s${i}`,
    provider: 'google' as const,
    account: 'acct',
    async fetchPage(): Promise<EventPage> {
      if (++started === n) open();
      // Each first fetch waits until every source's first fetch has started; a sequential
      // merge would never get there and fail on the timer.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        gate,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`only ${started} of ${n} first fetches started`)), 2000);
        }),
      ]).finally(() => clearTimeout(timer));
      return { events: [event(`s${i}`, 0, BASE + i)] };
    },
  }));
  const res = await mergeEventPages(sources, undefined, 10);
  assert.deepEqual(res.events.map((e) => e.id), ['s0#0', 's1#0', 's2#0', 's3#0']);
});

test('resumed pages also fetch every source in parallel', async () => {
  const data = [events('p', 30, 30, 1), events('q', 30, 30, 2), events('r', 30, 30, 3)];
  const inner = data.map((l, i) => memorySource('pqr'[i]!, l, { emptyRate: 0 }));
  const first = await mergeEventPages(inner, undefined, 10);
  assert.ok(first.nextState);
  let inFlight = 0;
  let peak = 0;
  const wrapped: EventSource[] = inner.map((s) => ({
    ...s,
    async fetchPage(token, size) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return s.fetchPage(token, size);
    },
  }));
  await mergeEventPages(wrapped, first.nextState, 10);
  assert.equal(peak, 3);
});

// ---- failures ---------------------------------------------------------------------------

function failing(key: string, error: unknown, provider: ProviderId = 'microsoft'): MemorySource {
  const calls: MemorySource['calls'] = [];
  return {
    key,
    provider,
    account: `${key}@example.com`,
    calls,
    async fetchPage(token, size) {
      calls.push({ token, size });
      throw error;
    },
  };
}

test('a failing source yields an error entry; the others are served; it is not retried', async () => {
  const a = memorySource('a', lists[0]!);
  const bad = failing('bad', new ProviderError('AUTH_REVOKED', 'The account must be reconnected'));
  const c = memorySource('c', lists[2]!);
  const pages = await walk([a, bad, c], 100);
  assert.deepEqual(ids(pages), expectedOrder([lists[0]!, [], lists[2]!]));
  assert.equal(pages[0]!.failures.length, 1);
  assert.equal(pages[0]!.failures[0]!.sourceKey, 'bad');
  assert.ok(pages.slice(1).every((p) => p.failures.length === 0));
  assert.equal(bad.calls.length, 1, 'the failed source is out of the walk');
  assert.deepEqual(toErrorEntries(pages[0]!.failures), [
    { provider: 'microsoft', account: 'bad@example.com', code: 'AUTH_REVOKED', message: 'The account must be reconnected' },
  ]);
});

test('a source failing mid-walk keeps what it gave and leaves the walk', async () => {
  const list = events('m', 200, 50, 5);
  const inner = memorySource('m', list, { emptyRate: 0 });
  let calls = 0;
  const flaky: EventSource = {
    ...inner,
    async fetchPage(token, size) {
      if (++calls > 4) throw new ProviderError('RATE_LIMITED', 'Slow down', { retryAfterMs: 1000 });
      return inner.fetchPage(token, size);
    },
  };
  const other = events('o', 150, 50, 6);
  const pages = await walk([flaky, memorySource('o', other)], 10);
  const got = ids(pages);
  assert.equal(new Set(got).size, got.length, 'no duplicates');
  assert.ok(other.every((e) => got.includes(e.id)), 'the healthy source is complete');
  const fromFlaky = got.filter((id) => id.startsWith('m#'));
  assert.deepEqual(fromFlaky, list.slice(0, fromFlaky.length).map((e) => e.id), 'a prefix of the flaky source');
  assert.equal(pages.flatMap((p) => p.failures).length, 1);
});

test('all sources failing: no events, one failure each, no next page', async () => {
  const res = await mergeEventPages(
    [failing('x', new ProviderError('TEMPORARY', 'down')), failing('y', new ProviderError('TEMPORARY', 'down'), 'google')],
    undefined,
    10,
  );
  assert.deepEqual(res.events, []);
  assert.equal(res.nextState, undefined);
  assert.deepEqual(res.failures.map((f) => f.sourceKey), ['x', 'y']);
});

test('a non-provider error rejects the whole merge', async () => {
  await assert.rejects(mergeEventPages([memorySource('a', lists[0]!), failing('bug', new TypeError('boom'))], undefined, 10), TypeError);
});

test('a malformed page or endless empty pages count as a provider failure', async () => {
  const malformed: EventSource = { key: 'm', provider: 'apple', account: 'x', fetchPage: async () => ({}) as EventPage };
  const endless: EventSource = {
    key: 'e',
    provider: 'caldav',
    account: 'y',
    fetchPage: async (token) => ({ events: [], nextPageToken: `${Number(token ?? 0) + 1}` }),
  };
  const res = await mergeEventPages([malformed, endless, memorySource('ok', lists[2]!)], undefined, 5, { maxEmptyPages: 20 });
  assert.equal(res.events.length, 5);
  assert.deepEqual(res.failures.map((f) => [f.sourceKey, f.error.code]), [['m', 'UNKNOWN'], ['e', 'UNKNOWN']]);
  assert.deepEqual(Object.keys(res.nextState!.sources), [sourceId('ok')]);
});

test('toErrorEntries: one entry per account and error', () => {
  const err = new ProviderError('AUTH_REVOKED', 'reconnect');
  const f = (key: string, account: string) => ({ sourceKey: key, provider: 'google' as const, account, error: err });
  assert.deepEqual(toErrorEntries([f('g:1:a', 'me'), f('g:1:b', 'me'), f('g:2:a', 'you')]), [
    { provider: 'google', account: 'me', code: 'AUTH_REVOKED', message: 'reconnect' },
    { provider: 'google', account: 'you', code: 'AUTH_REVOKED', message: 'reconnect' },
  ]);
});

// ---- cursor semantics -------------------------------------------------------------------

/** Fixed pages of `pageLen` events, token = offset. */
function fixedSource(key: string, list: CalendarEvent[], pageLen: number): MemorySource {
  const calls: MemorySource['calls'] = [];
  return {
    key,
    provider: 'google',
    account: key,
    calls,
    async fetchPage(token, size) {
      calls.push({ token, size });
      const offset = Number(token ?? 0);
      const end = offset + pageLen;
      return end < list.length ? { events: list.slice(offset, end), nextPageToken: String(end) } : { events: list.slice(offset) };
    },
  };
}

test('nextState points into the provider page; sources absent from a cursor are skipped', async () => {
  const list = events('a', 20, 20, 1);
  const a = fixedSource('a', list, 8);
  const first = await mergeEventPages([a], undefined, 5);
  assert.deepEqual(first.nextState, { providerPageSize: 5, sources: { [sourceId('a')]: { skip: 5 } } });
  const second = await mergeEventPages([a], first.nextState, 5);
  assert.deepEqual(second.nextState, { providerPageSize: 5, sources: { [sourceId('a')]: { token: '8', skip: 2 } } });

  // A calendar connected after the walk began is not part of it; a removed one is dropped.
  const late = fixedSource('late', events('late', 5, 5, 2), 10);
  const state: CursorState = { ...second.nextState!, sources: { ...second.nextState!.sources, [sourceId('gone')]: { skip: 0 } } };
  const third = await mergeEventPages([a, late], state, 100);
  assert.deepEqual(third.events.map((e) => e.id), list.slice(10).map((e) => e.id));
  assert.equal(late.calls.length, 0);
  assert.equal(third.nextState, undefined);
});

test('a page ending exactly at a provider page end reads ahead instead of promising an empty page', async () => {
  const list = events('a', 8, 8, 1);
  // Provider pages of 4 where the second one is followed by an empty last page.
  const source: EventSource = {
    key: 'a',
    provider: 'google',
    account: 'a',
    async fetchPage(token) {
      if (token === undefined) return { events: list.slice(0, 4), nextPageToken: '4' };
      if (token === '4') return { events: list.slice(4), nextPageToken: 'end' };
      return { events: [] };
    },
  };
  const first = await mergeEventPages([source], undefined, 4);
  assert.deepEqual(first.nextState?.sources, { [sourceId('a')]: { token: '4', skip: 0 } });
  const second = await mergeEventPages([source], first.nextState, 4);
  assert.equal(second.events.length, 4);
  assert.equal(second.nextState, undefined);
});

test('the provider page-size hint stays that of the first page', async () => {
  const a = memorySource('a', events('a', 60, 60, 1), { emptyRate: 0 });
  const first = await mergeEventPages([a], undefined, 7);
  await mergeEventPages([a], first.nextState, 1000);
  assert.ok(a.calls.every((c) => c.size === 7));
});

test('duplicate source keys are a programming error', async () => {
  await assert.rejects(mergeEventPages([memorySource('a', []), memorySource('a', [])], undefined, 5), TypeError);
});
