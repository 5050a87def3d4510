/**
 * Reads served from the local mirror, as ratios against baselines measured in the same
 * run (see bench/run.ts):
 *
 * M1  a month of 50 events from the mirror over HTTP (bearer check, plan, keyset query,
 *     decryption, JSON) against a bare Fastify route returning the same JSON: p50 latency
 *     and throughput at concurrency 8.
 * M2  walking 5,000 events in pages of 50: total time, provider requests (none: every
 *     account points at an address that refuses connections), and the cost of the last
 *     pages against the first.
 * M3  one page of 1,000 events from 4 accounts and 12 calendars: p50.
 * M5  the same read as M1 with the mirror's encryption replaced by a pass-through box:
 *     what encryption at rest costs a read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/config.js';
import type { CalendarEvent } from '../src/domain/calendar.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import type { SecretBox } from '../src/crypto/secret-box.js';
import { MirrorRepository } from '../src/storage/repositories/mirror.repo.js';
import { desiredWindow } from '../src/sync/sync-window.js';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const HOUR = 3_600_000;

export interface MirrorFixture {
  runtime: Runtime;
  url: string;
  token: string;
  /** Keeps every seeded calendar fresh (a sync that just succeeded). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** A server whose user has `accounts` × `calendarsPerAccount` mirrored calendars holding `events` events each. */
export async function mirrorFixture(options: { accounts: number; calendarsPerAccount: number; eventsPerCalendar: number; start: number; spacingMs: number }): Promise<MirrorFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-bench-'));
  const config = loadConfig({
    ALMANAC_DATA_DIR: dir,
    ALMANAC_SECRET_KEY: SECRET,
    LOG_LEVEL: 'silent',
    ALMANAC_DEMO_CLIENT: 'false',
    ALMANAC_RATE_LIMIT_PER_TOKEN: '1000000',
    ALMANAC_RATE_LIMIT_PER_CLIENT: '10000000',
    ALMANAC_ROLE: 'api',
  });
  const runtime = await createRuntime(config);
  const { services } = runtime;
  const { client } = await services.clients.create({ name: 'bench', redirectUris: ['https://b.example/cb'] });
  const user = await services.users.findOrCreate(client.clientId, 'bench-user');
  const code = await services.tokens.issueCode({ clientId: client.clientId, userId: user.id, sessionId: 'bench', scope: 'read-write', redirectUri: 'https://b.example/cb', redirectUriExplicit: false, codeChallenge: null });
  const { access_token } = await services.tokens.exchangeCode(client, { code });
  const window = desiredWindow(Date.now(), config.sync);
  const calendarRows: string[] = [];
  for (let a = 0; a < options.accounts; a++) {
    // Port 9 (discard) on loopback refuses connections: any provider request would fail loudly.
    const account = await services.accounts.upsert({
      userId: user.id,
      provider: 'caldav',
      accountId: `user${a}`,
      identity: `http://127.0.0.1:9/ user${a}`,
      display: null,
      credentials: { kind: 'basic', serverUrl: 'http://127.0.0.1:9/', username: `user${a}`, password: 'x', calendarHomeUrl: `http://127.0.0.1:9/user${a}/` },
      grantedScopes: [],
      calendarPermissionGranted: true,
    });
    const calendars = Array.from({ length: options.calendarsPerAccount }, (_, c) => ({
      provider: 'caldav' as const,
      id: `http://127.0.0.1:9/user${a}/cal${c}/`,
      title: `Calendar ${c}`,
      timeZone: 'UTC',
      color: '#3366CC',
      description: '',
      readOnly: false,
      original: { href: `http://127.0.0.1:9/user${a}/cal${c}/` },
    }));
    const { records } = await services.calendars.reconcile(account.id, calendars);
    for (const [c, record] of records.entries()) {
      calendarRows.push(record.id);
      const generation = await services.calendarSync.startRelisting(record.id, window);
      const units = Array.from({ length: options.eventsPerCalendar }, (_, i) => {
        const start = options.start + (i * options.accounts * options.calendarsPerAccount + a * options.calendarsPerAccount + c) * options.spacingMs;
        const event: CalendarEvent = {
          provider: 'caldav',
          id: `a${a}c${c}e${i}`,
          calendarId: record.calendar.id,
          title: `Planning session ${i} with the team`,
          description: 'Agenda: review last week, plan the next, decide on open questions.',
          location: 'Room 4.12',
          start: new Date(start).toISOString(),
          end: new Date(start + HOUR).toISOString(),
          allDay: false,
          attendees: [{ email: 'ana@example.com', status: 'accepted' }, { email: 'ben@example.com', status: 'tentative', organizer: true }],
          availability: 'busy',
          original: { href: `${record.calendar.id}e${i}.ics`, etag: `"etag-${i}"` },
        };
        return { key: `e${i}.ics`, version: `"etag-${i}"`, instances: [event], masters: [event] };
      });
      await services.mirror.replaceUnits(record.id, units, generation);
      await services.calendarSync.completePass(record.id, { at: Date.now(), changeMarker: null, writeGenerationSeen: 0, relisted: { window, longest: HOUR } });
    }
    await runtime.storage.db.updateTable('sync_jobs').set({ calendars_listed_at: Date.now(), last_success_at: Date.now() }).where('account_id', '=', account.id).execute();
  }
  const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    runtime,
    url,
    token: access_token,
    async refresh() {
      await runtime.storage.db.updateTable('calendar_sync').set({ last_success_at: Date.now() }).execute();
      await runtime.storage.db.updateTable('sync_jobs').set({ calendars_listed_at: Date.now() }).execute();
    },
    async close() {
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const agent = new Agent({ connections: 16, pipelining: 1 });

async function get(url: string, token?: string): Promise<{ status: number; body: string; source: string | undefined }> {
  const res = await request(url, { dispatcher: agent, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.body.text();
  const source = res.headers['almanac-source'];
  return { status: res.statusCode, body, source: typeof source === 'string' ? source : undefined };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** p50 of sequential requests, in ms. */
async function p50(url: string, token: string | undefined, rounds: number): Promise<number> {
  for (let i = 0; i < Math.max(20, rounds / 10); i++) await get(url, token);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    const res = await get(url, token);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  }
  return percentile(samples, 50);
}

/** Requests per second with `concurrency` clients for `total` requests. */
async function throughput(url: string, token: string | undefined, concurrency: number, total: number): Promise<number> {
  let left = total;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const res = await get(url, token);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      }
    }),
  );
  return total / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** A bare Fastify route that returns `body` (serialised per request, as any route would). */
async function bareRoute(body: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/events', async () => body);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/events`, close: () => app.close() };
}

function line(name: string, subject: string, baseline: string, ratio: string, note: string): void {
  console.log(`${name.padEnd(34)} ${subject.padStart(14)} vs ${baseline.padStart(14)}  ratio ${ratio.padStart(6)}  (${note})`);
}


async function withMonthOf50(fn: (fixture: MirrorFixture, monthUrl: string) => Promise<void>): Promise<void> {
  // Far enough ahead to be inside any default window for years.
  const start = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1);
  const fixture = await mirrorFixture({ accounts: 1, calendarsPerAccount: 1, eventsPerCalendar: 50, start: start + 9 * HOUR, spacingMs: 13 * HOUR });
  try {
    const monthUrl = `${fixture.url}/api/events?start=${new Date(start).toISOString()}&end=${new Date(start + 31 * 24 * HOUR).toISOString()}`;
    await fn(fixture, monthUrl);
  } finally {
    await fixture.close();
  }
}

/**
 * Alternating rounds, median ratio: other load on the machine drifts over seconds and
 * would otherwise land on one side of the comparison.
 */
async function alternating(rounds: number, subject: () => Promise<number>, baseline: () => Promise<number>): Promise<{ subject: number; baseline: number }> {
  const results: { subject: number; baseline: number }[] = [];
  for (let i = 0; i < rounds; i++) results.push({ subject: await subject(), baseline: await baseline() });
  results.sort((a, b) => a.subject / a.baseline - b.subject / b.baseline);
  return results[Math.floor(results.length / 2)]!;
}

export async function benchMirrorMonth(): Promise<void> {
  await withMonthOf50(async (fixture, monthUrl) => {
    const first = await get(monthUrl, fixture.token);
    const parsed = JSON.parse(first.body) as { events: unknown[] };
    if (first.source !== 'mirror' || parsed.events.length !== 50) throw new Error(`expected 50 events from the mirror, got ${parsed.events.length} from ${first.source}`);
    const bare = await bareRoute(parsed);
    try {
      await fixture.refresh();
      const latency = await alternating(7, () => p50(monthUrl, fixture.token, 300), () => p50(bare.url, undefined, 300));
      line('M1 month of 50, p50', `${latency.subject.toFixed(3)} ms`, `${latency.baseline.toFixed(3)} ms`, `${(latency.subject / latency.baseline).toFixed(2)}x`, 'mirror read vs bare route, same JSON, median of 7 rounds; target ≤ 3x');
      await fixture.refresh();
      const rate = await alternating(7, () => throughput(monthUrl, fixture.token, 8, 800), () => throughput(bare.url, undefined, 8, 800));
      // For throughput a higher number is better: the share is subject / baseline.
      line('M1 month of 50, concurrency 8', `${rate.subject.toFixed(0)} req/s`, `${rate.baseline.toFixed(0)} req/s`, `${((rate.subject / rate.baseline) * 100).toFixed(0)}%`, 'throughput share of the bare route, median of 7 rounds; target ≥ 30%');
    } finally {
      await bare.close();
    }
  });
}

export async function benchMirrorEncryption(): Promise<void> {
  await withMonthOf50(async (fixture, monthUrl) => {
    const { storage, services } = fixture.runtime;
    await fixture.refresh();
    const read = await p50(monthUrl, fixture.token, 1000);
    // The same 50 rows stored twice, sealed (as the server stores them) and plain, read the way the server reads them.
    const calendarId = (await storage.db.selectFrom('calendars').select('id').executeTakeFirstOrThrow()).id;
    const state = (await services.calendarSync.get(calendarId))!;
    const keys = Array.from({ length: 50 }, (_, i) => `e${i}.ics`);
    const events = await services.mirror.unitEvents(calendarId, 'instances', keys);
    const accountId = (await storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    const listed = (await services.calendars.listForAccounts([accountId])).map((r) => r.calendar);
    const plainListed = { ...listed[0]!, id: 'http://127.0.0.1:9/plain/' };
    const { records } = await services.calendars.reconcile(accountId, [...listed, plainListed]);
    const plainCalendar = records.find((r) => r.calendar.id === plainListed.id)!.id;
    const plainBox = { seal: (text: string) => text, open: (text: string) => text } as unknown as SecretBox;
    const plain = new MirrorRepository(storage.db, plainBox);
    await plain.replaceUnits(plainCalendar, events.map((e, i) => ({ key: keys[i]!, version: 'v', instances: [e], masters: [e] })), 1);
    const query = (id: string) => ({ calendarIds: [id], view: 'instances' as const, start: Date.parse(events[0]!.start), end: Date.parse(events.at(-1)!.end), maxDurationMs: state.maxDurationMs, limit: 250 });
    const timeIt = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 200; i++) await fn();
      const t = process.hrtime.bigint();
      for (let i = 0; i < 2000; i++) await fn();
      return Number(process.hrtime.bigint() - t) / 1e6 / 2000;
    };
    const plainPage = await timeIt(() => plain.page(query(plainCalendar)));
    // As the server reads: decrypted rows stay in the process's cache between reads.
    const sealedWarm = await timeIt(() => services.mirror.page(query(calendarId)));
    // No row seen before: a fresh repository (and cache) for each read, so every row is
    // decrypted (sealed) or only parsed (plain); the difference is what decryption costs.
    const sealedCold = await timeIt(() => new MirrorRepository(storage.db, (services.mirror as unknown as { box: SecretBox }).box).page(query(calendarId)));
    const plainCold = await timeIt(() => new MirrorRepository(storage.db, plainBox).page(query(plainCalendar)));
    const warm = (sealedWarm - plainPage) / read;
    const cold = (sealedCold - plainCold) / read;
    line('M5 encryption share, steady state', `${(sealedWarm - plainPage).toFixed(3)} ms`, `${read.toFixed(3)} ms`, `${(warm * 100).toFixed(1)}%`, 'sealed vs plain rows, decrypted rows cached, of the HTTP read (p50); target ≤ 20%');
    line('M5 encryption share, first read', `${(sealedCold - plainCold).toFixed(3)} ms`, `${read.toFixed(3)} ms`, `${(cold * 100).toFixed(1)}%`, 'no row cached: all 50 decrypted vs all 50 parsed from plain text');
  });
}

export async function benchMirrorWalk(): Promise<void> {
  const start = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1);
  const fixture = await mirrorFixture({ accounts: 1, calendarsPerAccount: 1, eventsPerCalendar: 5000, start, spacingMs: 2 * HOUR });
  try {
    const base = `${fixture.url}/api/events?start=${new Date(start).toISOString()}&end=${new Date(start + 5000 * 2 * HOUR).toISOString()}&pageSize=50`;
    await fixture.refresh();
    const pageTimes: number[] = [];
    let seen = 0;
    let token: string | undefined;
    const t0 = process.hrtime.bigint();
    do {
      const t = process.hrtime.bigint();
      const res = await get(token ? `${base}&nextPageToken=${token}` : base, fixture.token);
      pageTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (res.status !== 200 || res.source !== 'mirror') throw new Error(`HTTP ${res.status} from ${res.source}`);
      const body = JSON.parse(res.body) as { events: unknown[]; nextPageToken?: string };
      seen += body.events.length;
      token = body.nextPageToken;
    } while (token);
    const total = Number(process.hrtime.bigint() - t0) / 1e6;
    if (seen !== 5000) throw new Error(`walk saw ${seen} events`);
    const first = pageTimes.slice(1, 21).reduce((a, b) => a + b, 0) / 20;
    const last = pageTimes.slice(-20).reduce((a, b) => a + b, 0) / 20;
    line('M2 walk 5,000 in pages of 50', `${total.toFixed(0)} ms`, '2000 ms', `${(total / 2000).toFixed(2)}x`, `${pageTimes.length} pages, 0 provider requests (accounts point at a closed port); target < 2 s`);
    line('M2 last 20 pages vs first 20', `${last.toFixed(3)} ms`, `${first.toFixed(3)} ms`, `${(last / first).toFixed(2)}x`, 'a page costs the same wherever it is in the walk; ~1x');
  } finally {
    await fixture.close();
  }
}

export async function benchMirrorWidePage(): Promise<void> {
  const start = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1);
  // 4 accounts × 3 calendars × 100 events = 1,200 events over the month.
  const fixture = await mirrorFixture({ accounts: 4, calendarsPerAccount: 3, eventsPerCalendar: 100, start, spacingMs: 35 * 60_000 });
  try {
    const url = `${fixture.url}/api/events?start=${new Date(start).toISOString()}&end=${new Date(start + 31 * 24 * HOUR).toISOString()}&pageSize=1000`;
    await fixture.refresh();
    const check = await get(url, fixture.token);
    const body = JSON.parse(check.body) as { events: unknown[] };
    if (check.source !== 'mirror' || body.events.length !== 1000) throw new Error(`expected a full page from the mirror, got ${body.events.length} from ${check.source}`);
    const subject = await p50(url, fixture.token, 100);
    line('M3 1,000 events, 12 calendars, p50', `${subject.toFixed(1)} ms`, '50 ms', `${(subject / 50).toFixed(2)}x`, 'one page across 4 accounts; target ≤ 50 ms');
  } finally {
    await fixture.close();
  }
}
