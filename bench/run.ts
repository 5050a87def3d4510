/**
 * Benchmarks as ratios against a baseline measured in the same run, so results compare
 * across machines and loads (never timed assertions in tests). `npm run bench`.
 *
 * 1. Merge: Almanac's k-way merge of 3 calendars × 2,000 events into 250-event pages,
 *    walking every page, against the naive baseline of concatenating and sorting all
 *    events once (what a merge without cursors would do for one page).
 * 2. Bearer check: the full per-request authentication (HS256 verify + the token
 *    family's live state in SQLite) against the bare JWT verification, i.e. the price
 *    of "revocation takes effect on the next request on every instance".
 * 3. Token refresh over HTTP: POST /api/oauth/token (client authentication, rotation in
 *    SQLite, two JWTs) at concurrency 8 against a bare Fastify route taking the same
 *    form body, both driven by the same client in this process: the price of the whole
 *    token endpoint per request (the target is within 3×).
 * 4. CalDAV listing page on a real server (Radicale, Xandikos when installed) with 100
 *    weekly series begun a year earlier and 200 single events: a page with the series
 *    known (same calendar version), and a first page (cold cache: prop-filter REPORTs
 *    and multigets), against the one time-range REPORT a listing that trusted the
 *    server's filter would send (which misses the series on Xandikos).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import { jwtVerify } from 'jose';
import { mergeEventPages, type EventSource } from '../src/api/events/merge-event-pages.js';
import { loadConfig } from '../src/config/config.js';
import type { CalendarEvent } from '../src/domain/calendar.js';
import { createRuntime } from '../src/runtime.js';
import { deriveKeys } from '../src/crypto/keys.js';
import { createGuardedFetch } from '../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../src/providers/caldav/index.js';
import { createDavClient } from '../src/providers/caldav/dav-client.js';
import { calendarQueryBody } from '../src/providers/caldav/dav-xml.js';
import type { BasicCredentials, ProviderContext } from '../src/providers/types.js';
import { CALDAV_SERVERS } from '../test/support/caldav-servers.js';
import { benchMirrorEncryption, benchMirrorMonth, benchMirrorWalk, benchMirrorWidePage } from './mirror-bench.js';
import { benchPolling } from './poll-bench.js';

async function time(fn: () => Promise<void>, rounds: number): Promise<number> {
  for (let i = 0; i < Math.max(1, rounds / 10); i++) await fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}

function report(name: string, subject: number, baseline: number, note: string): void {
  console.log(`${name.padEnd(28)} ${subject.toFixed(3).padStart(9)} ms vs baseline ${baseline.toFixed(3).padStart(9)} ms  ratio ${(subject / baseline).toFixed(2)}x  (${note})`);
}

async function benchMerge(): Promise<void> {
  const perSource = 2000;
  const sources: EventSource[] = [0, 1, 2].map((s) => {
    const events: CalendarEvent[] = Array.from({ length: perSource }, (_, i) => {
      const start = Date.UTC(2027, 0, 1) + (i * 3 + s) * 1_800_000;
      return { provider: 'caldav', id: `${s}-${i}`, calendarId: `c${s}`, title: '', start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), allDay: false, original: null };
    });
    return {
      key: `caldav:a:c${s}`,
      provider: 'caldav',
      account: 'a',
      async fetchPage(token, size) {
        const offset = token ? Number(token) : 0;
        const next = offset + size;
        return { events: events.slice(offset, next), ...(next < events.length ? { nextPageToken: String(next) } : {}) };
      },
    };
  });
  const all = await Promise.all(sources.map((s) => s.fetchPage(undefined, perSource)));
  const walk = async () => {
    let state;
    do {
      const page = await mergeEventPages(sources, state, 250);
      state = page.nextState;
    } while (state);
  };
  const baseline = async () => {
    const merged = all.flatMap((p) => p.events).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    if (merged.length !== perSource * 3) throw new Error('bad baseline');
  };
  report('merge (walk all pages)', await time(walk, 20), await time(baseline, 20), '6,000 events, 24 pages vs one sort');
}

async function benchBearer(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-bench-'));
  const secret = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  try {
    const runtime = await createRuntime(loadConfig({ ALMANAC_DATA_DIR: dir, ALMANAC_SECRET_KEY: secret, LOG_LEVEL: 'silent', ALMANAC_DEMO_CLIENT: 'false' }));
    const { client } = await runtime.services.clients.create({ name: 'bench', redirectUris: ['https://b.example/cb'] });
    const user = await runtime.services.users.findOrCreate(client.clientId, 'u');
    const code = await runtime.services.tokens.issueCode({ clientId: client.clientId, userId: user.id, sessionId: 'bench-session', scope: 'read', redirectUri: 'https://b.example/cb', redirectUriExplicit: false, codeChallenge: null });
    const { access_token } = await runtime.services.tokens.exchangeCode(client, { code });
    const key = deriveKeys(secret).jwt;
    const full = () => runtime.services.tokens.authenticate(access_token).then(() => undefined);
    const bare = () => jwtVerify(access_token, key, { algorithms: ['HS256'] }).then(() => undefined);
    report('bearer check (SQLite)', await time(full, 2000), await time(bare, 2000), 'verify + family lookup vs verify');
    await runtime.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mean wall time per request with `workers` requests in flight, each worker running `next` in a loop. */
async function throughput(workers: number, perWorker: number, next: (worker: number) => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; i < perWorker; i++) await next(w);
  }));
  return Number(process.hrtime.bigint() - start) / 1e6 / (workers * perWorker);
}

async function benchTokenRefresh(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-bench-'));
  const secret = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  const workers = 8;
  try {
    const runtime = await createRuntime(
      loadConfig({ ALMANAC_DATA_DIR: dir, ALMANAC_SECRET_KEY: secret, LOG_LEVEL: 'silent', ALMANAC_DEMO_CLIENT: 'false', ALMANAC_RATE_LIMIT_PER_IP: '1000000' }),
    );
    const almanac = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const bare = Fastify();
    await bare.register(formbody);
    bare.post('/bare', async (request) => ({ ok: typeof (request.body as Record<string, unknown>).grant_type === 'string' }));
    const bareUrl = `${await bare.listen({ port: 0, host: '127.0.0.1' })}/bare`;

    const { client, clientSecret } = await runtime.services.clients.create({ name: 'bench', redirectUris: ['https://b.example/cb'] });
    const user = await runtime.services.users.findOrCreate(client.clientId, 'u');
    const refreshTokens: string[] = [];
    for (let w = 0; w < workers; w++) {
      const code = await runtime.services.tokens.issueCode({ clientId: client.clientId, userId: user.id, sessionId: `bench-refresh-${w}`, scope: 'read', redirectUri: 'https://b.example/cb', redirectUriExplicit: false, codeChallenge: null });
      refreshTokens.push((await runtime.services.tokens.exchangeCode(client, { code })).refresh_token);
    }
    const post = (url: string, form: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    const refresh = async (w: number) => {
      const res = await post(`${almanac}/api/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshTokens[w]!, client_id: client.clientId, client_secret: clientSecret });
      if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${await res.text()}`);
      refreshTokens[w] = ((await res.json()) as { refresh_token: string }).refresh_token;
    };
    const baseline = async () => {
      const res = await post(bareUrl, { grant_type: 'refresh_token', refresh_token: refreshTokens[0]!, client_id: client.clientId, client_secret: clientSecret });
      await res.json();
    };
    await throughput(workers, 25, refresh); // warm-up
    await throughput(workers, 25, baseline);
    // Alternating rounds, median ratio: other load on the machine drifts over seconds and
    // would otherwise land on one side of the comparison.
    const rounds: Array<{ subject: number; base: number }> = [];
    for (let round = 0; round < 7; round++) rounds.push({ subject: await throughput(workers, 60, refresh), base: await throughput(workers, 60, baseline) });
    rounds.sort((a, b) => a.subject / a.base - b.subject / b.base);
    const { subject, base } = rounds[Math.floor(rounds.length / 2)]!;
    report('token refresh (HTTP, SQLite)', subject, base, `concurrency ${workers}, median of ${rounds.length} alternating rounds: ${Math.round(1000 / subject)} vs ${Math.round(1000 / base)} requests/s`);
    await bare.close();
    await runtime.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchCaldavListing(): Promise<void> {
  for (const choice of CALDAV_SERVERS) {
    if (choice.skip) {
      console.log(`caldav listing (${choice.name}): skipped, ${choice.skip}`);
      continue;
    }
    const server = await choice.start({ users: { bench: 'pw' } });
    try {
      const calendarId = await server.mkcalendar('bench', 'bench', { displayName: 'Bench' });
      const ics = (uid: string, lines: string[]) =>
        ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'SUMMARY:bench', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const puts: Array<[string, string]> = [];
      for (let i = 0; i < 100; i++) {
        const start = Date.UTC(2026, 2, 2 + (i % 7), 6 + (i % 10));
        puts.push([`series-${i}`, ics(`series-${i}`, [`DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 3_600_000)}`, 'RRULE:FREQ=WEEKLY'])]);
      }
      for (let i = 0; i < 200; i++) {
        const start = Date.UTC(2027, 2, 1) + i * 3 * 3_600_000;
        puts.push([`single-${i}`, ics(`single-${i}`, [`DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 1_800_000)}`])]);
      }
      for (const [uid, body] of puts) await server.put('bench', `${calendarId}${uid}.ics`, body);
      const fetch = createGuardedFetch({ allowPrivateNetworks: true });
      const ctx: ProviderContext<BasicCredentials> = {
        credentials: { kind: 'basic', serverUrl: server.url, username: 'bench', password: 'pw', calendarHomeUrl: server.homeUrl('bench') },
        fetch,
        log: { debug() {}, info() {}, warn() {}, error() {} },
      };
      const week = { start: new Date('2027-03-08T00:00:00Z'), end: new Date('2027-03-15T00:00:00Z') };
      const query = { calendarId, ...week, singleEvents: true, pageSize: 250 };
      const warm = createCaldavProvider();
      const page = await warm.listEvents(ctx, query);
      if (page.events.length !== 156) throw new Error(`bench listing found ${page.events.length} events, expected 156`);
      const client = createDavClient({ fetch, username: 'bench', password: 'pw' });
      const trusting = () => client.report(calendarId, calendarQueryBody(week), 1).then(() => undefined);
      const baseline = await time(trusting, 20);
      report(`caldav page, warm (${choice.name})`, await time(() => warm.listEvents(ctx, query).then(() => undefined), 20), baseline, '156 events of 100 series + 56 singles vs one time-range REPORT');
      report(`caldav page, cold (${choice.name})`, await time(() => createCaldavProvider().listEvents(ctx, query).then(() => undefined), 5), baseline, 'fresh cache: + prop-filter REPORTs and multiget of 100 series');
    } finally {
      await server.stop();
    }
  }
}

// `npm run bench -- mirror` runs only the benchmarks whose name contains one of the given words.
const only = process.argv.slice(2);
const benches: [string, () => Promise<void>][] = [
  ['merge', benchMerge],
  ['bearer', benchBearer],
  ['token-refresh', benchTokenRefresh],
  ['caldav-listing', benchCaldavListing],
  ['mirror-month', benchMirrorMonth],
  ['mirror-encryption', benchMirrorEncryption],
  ['mirror-walk', benchMirrorWalk],
  ['mirror-wide-page', benchMirrorWidePage],
  ['poll', benchPolling],
];
for (const [name, run] of benches) if (only.length === 0 || only.some((w) => name.includes(w))) await run();
