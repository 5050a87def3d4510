/**
 * The sync engine with several instances on one PostgreSQL, and through a hard kill:
 * both instances share the work, no account is synced by two at once, and a server
 * killed in the middle of a multi-page pass is resumed by the next one with nothing
 * lost or doubled.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresAvailable, PG_SKIP_MESSAGE, type TestDatabase } from '../support/databases.js';
import { connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { freePort, startChild } from '../support/spawn-server.js';
import { loadConfig } from '../../src/config/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';

const hasPg = await postgresAvailable();

function ics(uid: string, start: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, 'DURATION:PT30M', `SUMMARY:${uid}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

function user(auth: string | undefined): string {
  return Buffer.from((auth ?? '').replace(/^Basic /, ''), 'base64').toString().split(':')[0] ?? '';
}

/**
 * Forwards to Radicale and records, per CalDAV user, the most requests ever in flight at
 * once: a sync of one account sends its requests one after another, so two at once means
 * two workers synced the same account at the same time.
 */
async function concurrencyProbe(rad: RadicaleServer, options: { delayMs?: number; hold?: (body: string) => Promise<void> } = {}) {
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const who = user(req.headers.authorization);
    inFlight.set(who, (inFlight.get(who) ?? 0) + 1);
    peak.set(who, Math.max(peak.get(who) ?? 0, inFlight.get(who)!));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    await options.hold?.(body.toString());
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    const upstream = httpRequest({ host: '127.0.0.1', port: rad.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${rad.port}` } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('end', () => inFlight.set(who, inFlight.get(who)! - 1));
    });
    upstream.on('error', () => {
      inFlight.set(who, inFlight.get(who)! - 1);
      res.destroy();
    });
    upstream.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    peak,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('two instances on one PostgreSQL share the sync work', { skip: RADICALE_SKIP || (!hasPg && PG_SKIP_MESSAGE) }, () => {
  const users = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`user${i}`, `pw${i}`]));
  let rad: RadicaleServer;
  let probe: Awaited<ReturnType<typeof concurrencyProbe>>;
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    rad = await startRadicale({ users });
    for (const name of Object.keys(users)) {
      for (const cal of ['one', 'two']) {
        await rad.mkcalendar(name, cal);
        for (let i = 0; i < 5; i++) await rad.put(name, `/${name}/${cal}/e${i}.ics`, ics(`${name}-${cal}-${i}`, `2027011${i}T090000Z`));
      }
    }
    // Slow answers widen the window in which two workers would overlap on one account.
    probe = await concurrencyProbe(rad, { delayMs: 20 });
    db = await createTestDatabase('postgres');
    a = await startServer({ db, sync: true });
    b = await startServer({ db, sync: true });
    const client = await a.createClient();
    for (const [name, password] of Object.entries(users)) {
      const s = await openConnect(a.url, { client_id: client.clientId, user_id: name });
      assert.equal((await connectCaldav(a.url, s, { server_url: probe.url, username: name, password })).status, 303);
      await finishConnect(a.url, s, client);
    }
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await probe?.close();
    await rad?.stop();
  });

  test('every calendar is mirrored, both instances run jobs, and no account is ever synced twice at once', async () => {
    const storage = a.runtime.storage.db;
    await waitFor('all calendars ready', async () => {
      const rows = await storage.selectFrom('calendar_sync').select('status').execute();
      return rows.length === 12 && rows.every((r) => r.status === 'ready');
    });
    const owners = new Set<string>();
    // Keep both instances busy: every account due again, many times over.
    for (let round = 0; round < 8; round++) {
      const accounts = await storage.selectFrom('accounts').select('id').execute();
      await Promise.all(accounts.map((acc, i) => (i % 2 ? a : b).runtime.sync.syncSoon(acc.id)));
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        for (const row of await storage.selectFrom('sync_jobs').select('lease_owner').where('lease_owner', 'is not', null).execute()) owners.add(row.lease_owner!.split('.')[0]!);
        const busy = await storage.selectFrom('sync_jobs').select('account_id').where('next_run_at', '<=', Date.now()).execute();
        if (busy.length === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.equal(owners.size, 2, `jobs ran on both instances (saw ${[...owners].join(', ')})`);
    for (const [name, peak] of probe.peak) assert.equal(peak, 1, `${name} was synced by two workers at once`);
    const counts = await storage.selectFrom('mirror_events').select((eb) => ['calendar_id', eb.fn.countAll<number>().as('n')]).where('view', '=', 'i').groupBy('calendar_id').execute();
    assert.equal(counts.length, 12);
    for (const c of counts) assert.equal(Number(c.n), 5);
  });
});

describe('a server killed in the middle of a sync pass', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let admin: Runtime | undefined;
  let releaseSecondPage: () => void = () => undefined;
  let secondPageAsked: () => void = () => undefined;
  const secondPage = new Promise<void>((r) => (secondPageAsked = r));
  let multigets = 0;
  const EVENTS = 250;

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    await rad.mkcalendar('alice', 'big');
    for (let i = 0; i < EVENTS; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      await rad.put('alice', `/alice/big/e${i}.ics`, ics(`e${i}`, `202703${day}T${String(6 + (i % 12)).padStart(2, '0')}0000Z`));
    }
    db = await createTestDatabase(hasPg ? 'postgres' : 'sqlite');
  });

  after(async () => {
    releaseSecondPage();
    child?.kill('SIGKILL');
    await admin?.close();
    await db?.drop();
    await rad?.stop();
  });

  test('the next server resumes at the last committed page: every event once, none lost', async () => {
    // The first server's second page of objects never gets its answer: it is killed waiting for it.
    let holding = true;
    const probe = await concurrencyProbe(rad, {
      hold: async (body) => {
        if (!body.includes('calendar-multiget')) return;
        multigets += 1;
        // 200 objects a page, 100 per multiget: the third multiget belongs to the second page.
        if (holding && multigets === 3) {
          secondPageAsked();
          await new Promise<void>((r) => (releaseSecondPage = r));
        }
      },
    });
    try {
      const port = await freePort();
      const env = { ...db.env, PORT: String(port), HOST: '127.0.0.1', ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}`, ALMANAC_SECRET_KEY: TEST_SECRET, ALMANAC_DEMO_CLIENT: 'false', ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'warn', ALMANAC_TEST_SYNC: '1' };
      const first = await startChild(env);
      child = first.child;
      // Another (API-only) instance in the test process, on the same database, to register the client and look inside.
      admin = await createRuntime(loadConfig({ ...env, ALMANAC_ROLE: 'api' }));
      const storage = admin.storage;
      const { client, clientSecret } = await admin.services.clients.create({ name: 'kill test', redirectUris: ['https://app.example/callback'] });
      const s = await openConnect(first.url, { client_id: client.clientId, user_id: 'alice' });
      assert.equal((await connectCaldav(first.url, s, { server_url: probe.url, username: 'alice', password: 'alice-pw' })).status, 303);
      await finishConnect(first.url, s, { clientId: client.clientId, clientSecret });
      await secondPage;
      const committed = await storage.db.selectFrom('mirror_units').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(committed.n), 200, 'the first page (200 objects) committed before the kill');
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      holding = false;
      releaseSecondPage();

      const second = await startChild(env);
      child = second.child;
      await waitFor('the calendar to be ready', async () => (await storage.db.selectFrom('calendar_sync').select('status').executeTakeFirst())?.status === 'ready', 60_000);
      const units = await storage.db.selectFrom('mirror_units').select('unit_key').execute();
      assert.equal(units.length, EVENTS);
      assert.equal(new Set(units.map((u) => u.unit_key)).size, EVENTS);
      const events = await storage.db.selectFrom('mirror_events').select('event_id').where('view', '=', 'i').execute();
      assert.deepEqual(events.map((e) => e.event_id).sort(), Array.from({ length: EVENTS }, (_, i) => `e${i}`).sort());
    } finally {
      await probe.close();
    }
  });
});
