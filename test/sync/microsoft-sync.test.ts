/**
 * The sync engine with Microsoft on the Graph emulator, through the real server: the
 * mirror is filled through calendarView delta and answers like a live read, changes made
 * at Microsoft reach it, an expired delta link starts a relisting, and nothing of an
 * event's contents is stored in clear.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { dialects } from '../support/databases.js';
import { connectMicrosoft, microsoftEnv } from '../support/microsoft-connect.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';

const SECRET = 'Board-offsite-4b1d';
type Event = { id: string; title: string; start: string };

for (const { dialect, skip } of await dialects()) describe(`sync engine with Microsoft on ${dialect}`, { skip }, () => {
  let ms: MicrosoftEmulator;
  let server: TestServer;
  let a: ReturnType<typeof api>;
  let accountRowId: string;
  let calendarId: string;
  const email = 'sync@contoso.onmicrosoft.com';
  const base = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
  const month = { start: new Date(base).toISOString(), end: new Date(base + 31 * 86_400_000).toISOString() };
  const wall = (days: number, hour: number): string => new Date(base + days * 86_400_000 + hour * 3_600_000).toISOString().slice(0, 19);
  const syncNow = () => syncNowFor(server.runtime, accountRowId);

  before(async () => {
    ms = await startMicrosoftEmulator();
    calendarId = ms.addUser(email).defaultCalendar.id;
    for (let i = 0; i < 12; i++) ms.seedEvent(calendarId, { subject: i === 0 ? SECRET : `Event ${i}`, start: { dateTime: wall(i, 9), timeZone: 'UTC' }, end: { dateTime: wall(i, 10), timeZone: 'UTC' } });
    ms.seedEvent(calendarId, {
      subject: 'Standup',
      start: { dateTime: wall(2, 8), timeZone: 'UTC' },
      end: { dateTime: wall(2, 8.25), timeZone: 'UTC' },
      recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: wall(2, 0).slice(0, 10), numberOfOccurrences: 10 } },
    });
    ms.knobs.maxPageSize = 5;
    server = await startServer({ dialect, sync: true, env: microsoftEnv(ms) });
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'sync' });
    ms.setConsent({ action: 'grant-all' }, email);
    assert.equal((await connectMicrosoft(server, s)).status, 303);
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow();
  });
  after(async () => {
    await server?.close();
    await ms?.close();
  });

  const titles = (events: Event[]): string[] => events.map((e) => e.title);

  test('the mirror answers as a live read does', async () => {
    const mirrored = await a.events({ ...month, pageSize: '1000' });
    assert.equal(mirrored.status, 200, JSON.stringify(mirrored.body));
    assert.equal(mirrored.headers.get('almanac-source'), 'mirror');
    await server.runtime.storage.db.updateTable('calendar_sync').set({ last_success_at: Date.now() - 3_600_000 }).execute();
    await server.runtime.storage.db.updateTable('sync_jobs').set({ calendars_listed_at: Date.now() - 3_600_000 }).execute();
    const live = await a.events({ ...month, pageSize: '1000' });
    assert.equal(live.headers.get('almanac-source'), 'live');
    assert.deepEqual(mirrored.body.events, live.body.events);
    assert.equal(titles(live.body.events).filter((t) => t === 'Standup').length, 10);
    await syncNow();
  });

  test('changes made at Microsoft reach the mirror; an expired delta link starts a relisting', async () => {
    const added = ms.seedEvent(calendarId, { subject: 'Added at Microsoft', start: { dateTime: wall(20, 9), timeZone: 'UTC' }, end: { dateTime: wall(20, 10), timeZone: 'UTC' } });
    const series = [...ms.store.events.values()].find((e) => e.subject === 'Standup')!;
    ms.store.update(ms.store.find(series.id)!, { subject: 'Daily sync' });
    const occurrence = ms.store.expand(series, Date.parse(month.end)).filter((i) => i.type === 'occurrence')[3]!;
    ms.store.delete(occurrence);
    await syncNow();
    const after = await a.events({ ...month, pageSize: '1000' });
    assert.equal(after.headers.get('almanac-source'), 'mirror');
    assert.ok(titles(after.body.events).includes('Added at Microsoft'));
    assert.equal(titles(after.body.events).filter((t) => t === 'Daily sync').length, 9);
    assert.equal(titles(after.body.events).filter((t) => t === 'Standup').length, 0);

    ms.expireDeltaTokens();
    ms.store.delete(ms.store.find(added.id)!);
    await syncNow();
    await syncNow();
    const relisted = await a.events({ ...month, pageSize: '1000' });
    assert.equal(relisted.headers.get('almanac-source'), 'mirror');
    assert.ok(!titles(relisted.body.events).includes('Added at Microsoft'));
  });

  test('event contents are not stored in clear', async () => {
    const tables = ['mirror_events', 'mirror_units'];
    for (const table of tables) {
      const rows = await server.runtime.storage.db.selectFrom(table as 'accounts').selectAll().execute();
      assert.ok(rows.length > 0, `${table} holds the mirror`);
      for (const row of rows) assert.doesNotMatch(JSON.stringify(row), new RegExp(SECRET), `${table} holds the title in clear`);
    }
  });
});
