/**
 * End to end over CalDAV: a user connects CalDAV accounts on the connect page and the
 * application uses every calendars and events endpoint against a real server (one
 * file per server runs this suite). What the API says it did is checked on the server
 * with plain HTTP, not through Almanac.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { CaldavServerChoice } from '../support/caldav-servers.js';
import type { CaldavTestServer } from '../support/caldav-test-server.js';
import { startServer, type TestServer } from '../support/server.js';
import { dialects } from '../support/databases.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';

type Api = ReturnType<typeof api>;
const RANGE = { start: '2027-03-01T00:00:00Z', end: '2027-04-30T00:00:00Z' };

/** All pages of a listing. */
async function walk(a: Api, params: Record<string, string>): Promise<{ events: any[]; pages: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const events = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const res = await a.events({ ...params, ...(token ? { nextPageToken: token } : {}) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    events.push(...res.body.events);
    token = res.body.nextPageToken;
    pages++;
    assert.ok(pages < 500, 'paging terminates');
  } while (token);
  return { events, pages };
}

/** The whole suite on both storage engines (accounts, sealed credentials and tokens live there), against one server. */
export async function caldavApiSuite(choice: CaldavServerChoice): Promise<void> {
  for (const { dialect, skip } of await dialects()) describe(`CalDAV through the API on ${choice.name}, ${dialect}`, { skip: choice.skip || skip }, () => {
    let rad: CaldavTestServer;
    let server: TestServer;
    let client: { clientId: string; clientSecret: string };
    let a: Api;
    let work: string;
    let home: string;
    let team: string;

    before(async () => {
      rad = await choice.start({ users: { alice: 'alice-pw', bob: 'bob-pw' } });
      const described = rad.capabilities.calendarDescription === true ? { description: 'Work things' } : {};
      work = await rad.mkcalendar('alice', 'work', { displayName: 'Work', color: '#3366CCFF', ...described });
      home = await rad.mkcalendar('alice', 'home', { displayName: 'Home', color: '#F0A' });
      if (rad.capabilities.componentSets === true) await rad.mkcalendar('alice', 'tasks', { displayName: 'Reminders', components: ['VTODO'] });
      team = await rad.mkcalendar('bob', 'team', { displayName: 'Team' });
      server = await startServer({ dialect });
      client = await server.createClient();
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'cal-user' });
      for (const [username, password] of [['alice', 'alice-pw'], ['bob', 'bob-pw']] as const) {
        const res = await connectCaldav(server.url, s, { server_url: rad.url, username, password });
        assert.equal(res.status, 303, await res.text());
      }
      // The same account again updates, it does not duplicate.
      assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'alice', password: 'alice-pw' })).status, 303);
      const tokens = await finishConnect(server.url, s, client);
      a = api(server.url, tokens.access_token);
    });
    after(async () => {
      await server?.close();
      await rad?.stop();
    });

    test('connection-status lists both accounts once', async () => {
      const res = await a.get('/api/oauth/connection-status');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.connections.caldav.map((c: { id: string }) => c.id).sort(), ['alice', 'bob']);
      for (const c of res.body.connections.caldav) assert.equal(c.syncState, 'ok');
    });

    test('credentials are stored encrypted', async () => {
      const rows = await server.runtime.storage.db.selectFrom('accounts').select(['credentials']).execute();
      assert.equal(rows.length, 2);
      for (const r of rows) {
        assert.ok(!r.credentials.includes('alice-pw') && !r.credentials.includes('bob-pw'));
        assert.match(r.credentials, /^v1\./);
      }
    });

    test('GET /api/calendars: every account, normalised colours, VTODO-only collections skipped', async () => {
      const res = await a.get('/api/calendars');
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(res.body));
      const byId = new Map(res.body.map((c: { id: string }) => [c.id, c]));
      assert.deepEqual([...byId.keys()].sort(), [home, team, work].sort());
      const w = byId.get(work) as Record<string, unknown>;
      assert.equal(w.title, 'Work');
      assert.equal(w.color, '#3366CC');
      if (rad.capabilities.calendarDescription === true) assert.equal(w.description, 'Work things');
      assert.equal(w.provider, 'caldav');
      assert.ok(w.original);
      assert.equal((byId.get(home) as Record<string, unknown>).color, '#FF00AA');
    });

    test('create a single event: response shapes and the .ics on the server', async () => {
      const res = await a.post('/api/event', {
        provider: 'caldav', calendarId: work, title: 'Planning', description: 'Quarterly', location: 'Room 1',
        start: '2027-03-02T09:00:00Z', end: '2027-03-02T10:00:00Z', attendees: ['carol@example.com'],
        custom: { crm: { id: 42, tags: ['a', 'b'] } }, conference: 'https://meet.example/abc', availability: 'busy', privacy: 'private', status: 'tentative',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      assert.equal(res.body.title, 'Planning');
      assert.equal(res.body.event.title, 'Planning');
      assert.equal(res.body.event.id, res.body.id);
      assert.deepEqual(res.body.custom, { crm: { id: 42, tags: ['a', 'b'] } });
      assert.equal(res.body.start, '2027-03-02T09:00:00.000Z');
      // Unfold RFC 5545 continuation lines before matching.
      const ics = (await rad.get('alice', res.body.original.href)).body.replace(/\r\n[ \t]/g, '');
      assert.match(ics, /SUMMARY:Planning/);
      assert.match(ics, /LOCATION:Room 1/);
      assert.match(ics, /CLASS:PRIVATE/);
      assert.match(ics, /STATUS:TENTATIVE/);
      assert.match(ics, /ATTENDEE[^\r\n]*carol@example\.com/i);
      // And read back through the list, custom round-tripped.
      const list = await a.events({ ...RANGE, calendarIds: JSON.stringify({ caldav: [work] }) });
      const found = list.body.events.find((e: { id: string }) => e.id === res.body.id);
      assert.deepEqual(found.custom, { crm: { id: 42, tags: ['a', 'b'] } });
      assert.equal(found.conference, 'https://meet.example/abc');
      assert.equal(found.privacy, 'private');
    });

    test('all-day events: DATE values with exclusive end, midnight UTC on the wire', async () => {
      const res = await a.post('/api/event', { provider: 'caldav', calendarId: home, title: 'Holiday', start: '2027-03-15', end: '2027-03-16', allDay: true });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.allDay, true);
      assert.equal(res.body.start, '2027-03-15T00:00:00.000Z');
      assert.equal(res.body.end, '2027-03-16T00:00:00.000Z');
      const ics = (await rad.get('alice', res.body.original.href)).body;
      assert.match(ics, /DTSTART;VALUE=DATE:20270315/);
      assert.match(ics, /DTEND;VALUE=DATE:20270316/);
    });

    test('a weekly series in Europe/Berlin keeps 09:00 local across the DST change', async () => {
      const res = await a.post('/api/event', {
        provider: 'caldav', calendarId: work, title: 'Standup', start: '2027-03-22T08:00:00Z', end: '2027-03-22T08:15:00Z', timeZone: 'Europe/Berlin',
        recurrence: { frequency: 'WEEKLY', count: 3 },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const ics = (await rad.get('alice', res.body.original.href)).body;
      assert.match(ics, /DTSTART;TZID=Europe\/Berlin:20270322T090000/);
      assert.match(ics, /BEGIN:VTIMEZONE/);
      const list = await a.events({ ...RANGE, calendarIds: JSON.stringify({ caldav: [work] }) });
      const starts = list.body.events.filter((e: { recurringEventId?: string }) => e.recurringEventId === res.body.id).map((e: { start: string }) => e.start);
      // Berlin moves to summer time on 28 March 2027: 09:00 local is 08:00Z before, 07:00Z after.
      assert.deepEqual(starts, ['2027-03-22T08:00:00.000Z', '2027-03-29T07:00:00.000Z', '2027-04-05T07:00:00.000Z']);
      const masters = await a.events({ ...RANGE, singleEvents: 'false', calendarIds: JSON.stringify({ caldav: [work] }) });
      const master = masters.body.events.find((e: { id: string }) => e.id === res.body.id);
      assert.ok(master, 'singleEvents=false returns the master');
      assert.equal(masters.body.events.filter((e: { recurringEventId?: string }) => e.recurringEventId === res.body.id).length, 0);
      await a.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: work, eventId: res.body.id })}`);
    });

    describe('recurring series edits', () => {
      async function series(title: string) {
        const res = await a.post('/api/event', {
          provider: 'caldav', calendarId: home, title, start: '2027-04-05T12:00:00Z', end: '2027-04-05T13:00:00Z',
          recurrence: { frequency: 'DAILY', count: 6 },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const list = await a.events({ start: '2027-04-01T00:00:00Z', end: '2027-04-20T00:00:00Z', calendarIds: JSON.stringify({ caldav: [home] }) });
        const instances = list.body.events.filter((e: { recurringEventId?: string }) => e.recurringEventId === res.body.id);
        assert.equal(instances.length, 6);
        return { master: res.body, instances, href: res.body.original.href as string };
      }
      const titles = async (id: string): Promise<string[]> => {
        const list = await a.events({ start: '2027-04-01T00:00:00Z', end: '2027-04-20T00:00:00Z', calendarIds: JSON.stringify({ caldav: [home] }) });
        return list.body.events.filter((e: { recurringEventId?: string; id: string }) => e.recurringEventId === id || e.id === id).map((e: { start: string; title: string }) => `${e.start.slice(5, 10)} ${e.title}`);
      };

      test('update this: one occurrence becomes an override (RECURRENCE-ID)', async () => {
        const s = await series('Daily A');
        const third = s.instances[2];
        const res = await a.put('/api/event', { provider: 'caldav', calendarId: home, eventId: third.id, recurringEventId: s.master.id, updateMode: 'this', title: 'Moved A', start: '2027-04-07T15:00:00Z', end: '2027-04-07T16:00:00Z' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const ics = (await rad.get('alice', s.href)).body;
        assert.match(ics, /RECURRENCE-ID[^:\r\n]*:20270407T120000Z/);
        assert.deepEqual(await titles(s.master.id), ['04-05 Daily A', '04-06 Daily A', '04-07 Moved A', '04-08 Daily A', '04-09 Daily A', '04-10 Daily A']);
      });

      test('update following: the series splits at that occurrence', async () => {
        const s = await series('Daily B');
        const res = await a.put('/api/event', { provider: 'caldav', calendarId: home, eventId: s.instances[3].id, recurringEventId: s.master.id, updateMode: 'following', title: 'Later B' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const ics = (await rad.get('alice', s.href)).body;
        assert.match(ics, /RRULE:[^\r\n]*UNTIL=/);
        assert.doesNotMatch(ics, /RRULE:[^\r\n]*COUNT=/);
        assert.notEqual(res.body.id, s.master.id, 'the rest of the series is a new event');
        const listing = await a.events({ start: '2027-04-01T00:00:00Z', end: '2027-04-20T00:00:00Z', calendarIds: JSON.stringify({ caldav: [home] }) });
        const all = listing.body.events.filter((e: { title: string }) => e.title.endsWith(' B')).map((e: { start: string; title: string }) => `${e.start.slice(5, 10)} ${e.title}`);
        assert.deepEqual(all, ['04-05 Daily B', '04-06 Daily B', '04-07 Daily B', '04-08 Later B', '04-09 Later B', '04-10 Later B']);
      });

      test('update all: the master changes and overrides stay', async () => {
        const s = await series('Daily C');
        await a.put('/api/event', { provider: 'caldav', calendarId: home, eventId: s.instances[1].id, recurringEventId: s.master.id, updateMode: 'this', location: 'Elsewhere' });
        const res = await a.put('/api/event', { provider: 'caldav', calendarId: home, eventId: s.instances[4].id, recurringEventId: s.master.id, updateMode: 'all', title: 'Renamed C' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const list = await titles(s.master.id);
        assert.equal(list.length, 6);
        assert.ok(list.every((t) => t.endsWith('Renamed C') || t.endsWith('Daily C')), list.join());
        assert.ok(list.filter((t) => t.endsWith('Renamed C')).length >= 5);
        assert.match((await rad.get('alice', s.href)).body, /RECURRENCE-ID/);
      });

      test('delete this, following and all', async () => {
        const s = await series('Daily D');
        let res = await a.del('/api/event', { provider: 'caldav', calendarId: home, eventId: s.instances[1].id, recurringEventId: s.master.id, deleteMode: 'this' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body, { success: true, message: 'Event deleted successfully' });
        assert.match((await rad.get('alice', s.href)).body, /EXDATE[^:\r\n]*:20270406T120000Z/);
        res = await a.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: home, eventId: s.instances[4].id, recurringEventId: s.master.id, deleteMode: 'following' })}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(await titles(s.master.id), ['04-05 Daily D', '04-07 Daily D', '04-08 Daily D']);
        res = await a.del('/api/event', { provider: 'caldav', calendarId: home, eventId: s.master.id, deleteMode: 'all' });
        assert.equal(res.status, 200);
        assert.equal((await rad.get('alice', s.href)).status, 404);
        const again = await a.del('/api/event', { provider: 'caldav', calendarId: home, eventId: s.master.id });
        assert.equal(again.status, 404);
      });
    });

    test('paging across three calendars and two accounts: every event exactly once, in start order', async () => {
      const cal = [work, home, team];
      const start = Date.parse('2027-06-01T00:00:00Z');
      const made: string[] = [];
      for (let i = 0; i < 45; i++) {
        const s = new Date(start + Math.floor(i / 3) * 3600_000 * 7 + (i % 2) * 1800_000);
        const res = await a.post('/api/event', { provider: 'caldav', calendarId: cal[i % 3], title: `P${i}`, start: s.toISOString(), end: new Date(s.getTime() + 3600_000).toISOString() });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        made.push(res.body.id);
      }
      for (const pageSize of ['1', '7', '250']) {
        const { events, pages } = await walk(a, { start: '2027-06-01T00:00:00Z', end: '2027-06-30T00:00:00Z', pageSize });
        const ids = events.map((e) => e.id);
        assert.equal(new Set(ids).size, ids.length, `no repeats with pageSize ${pageSize}`);
        assert.deepEqual([...ids].sort(), [...made].sort(), `every event once with pageSize ${pageSize}`);
        const starts = events.map((e) => Date.parse(e.start));
        assert.deepEqual(starts, [...starts].sort((x, y) => x - y));
        if (pageSize === '7') assert.equal(pages, 7);
      }
      const filtered = await walk(a, { start: '2027-06-01T00:00:00Z', end: '2027-06-30T00:00:00Z', calendarIds: JSON.stringify({ caldav: [team, 'https://not.mine/x/'] }) });
      assert.equal(filtered.events.length, 15);
      assert.ok(filtered.events.every((e) => e.calendarId === team));
    });

    test('a forged or corrupted nextPageToken is a 400', async () => {
      const first = await a.events({ start: '2027-06-01T00:00:00Z', end: '2027-06-30T00:00:00Z', pageSize: '5' });
      const token: string = first.body.nextPageToken;
      assert.ok(token);
      for (const bad of [token.slice(0, -2), `${token}x`, token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 'garbage']) {
        const res = await a.events({ start: '2027-06-01T00:00:00Z', end: '2027-06-30T00:00:00Z', pageSize: '5', nextPageToken: bad });
        assert.equal(res.status, 400);
      }
      const otherRange = await a.events({ start: '2027-05-01T00:00:00Z', end: '2027-06-30T00:00:00Z', pageSize: '5', nextPageToken: token });
      assert.equal(otherRange.status, 400);
    });

    test('concurrent modification: a stale If-Match is a 409, nothing is overwritten', async () => {
      const created = await a.post('/api/event', { provider: 'caldav', calendarId: work, title: 'Original', start: '2027-03-20T10:00:00Z', end: '2027-03-20T11:00:00Z' });
      const href = created.body.original.href as string;
      const etag = created.body.original.etag as string;
      const ics = (await rad.get('alice', href)).body.replace('SUMMARY:Original', 'SUMMARY:Changed elsewhere');
      assert.equal((await rad.put('alice', href, ics)).status < 300, true);
      const put = await putWithIfMatch(server.url, tokenOf(a), etag, { provider: 'caldav', calendarId: work, eventId: created.body.id, title: 'Mine' });
      assert.equal(put.status, 409, JSON.stringify(put.body));
      assert.match((await rad.get('alice', href)).body, /SUMMARY:Changed elsewhere/);
    });

    test('a conflict between Almanac\'s read and write (412 from the server) is a 409', async () => {
      const created = await a.post('/api/event', { provider: 'caldav', calendarId: work, title: 'Racy', start: '2027-03-21T10:00:00Z', end: '2027-03-21T11:00:00Z' });
      // A proxy in front of the server changes the event just before Almanac's conditional PUT arrives.
      const proxy = await racingProxy(rad);
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'racer' });
      assert.equal((await connectCaldav(server.url, s, { server_url: proxy.url, username: 'alice', password: 'alice-pw' })).status, 303);
      const t = await finishConnect(server.url, s, client);
      const b = api(server.url, t.access_token);
      const viaProxy = new URL(new URL(work).pathname, proxy.url).toString();
      const list = await b.events({ start: '2027-03-21T00:00:00Z', end: '2027-03-22T00:00:00Z' });
      const ev = list.body.events.find((e: { title: string }) => e.title === 'Racy');
      assert.ok(ev, JSON.stringify(list.body));
      const res = await b.put('/api/event', { provider: 'caldav', calendarId: viaProxy, eventId: ev.id, title: 'Almanac wins?' });
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.match((await rad.get('alice', created.body.original.href)).body, /SUMMARY:Changed by someone else/);
      await proxy.close();
    });

    test('an account whose credentials stop working: reauth_required, the others still answer, errors listed', async () => {
      const accounts = await server.runtime.storage.db.selectFrom('accounts').innerJoin('end_users', 'end_users.id', 'accounts.user_id').select(['accounts.id', 'accounts.account_id']).where('end_users.external_id', '=', 'cal-user').execute();
      const bob = accounts.find((x) => x.account_id === 'bob')!;
      const creds = await server.runtime.services.accounts.readCredentials<Record<string, unknown>>(bob.id);
      await server.runtime.services.accounts.writeCredentials(bob.id, { ...creds, password: 'changed' });
      const res = await a.events({ start: '2027-06-01T00:00:00Z', end: '2027-06-30T00:00:00Z' });
      assert.equal(res.status, 200);
      assert.equal(res.body.events.length, 30, 'alice’s events still listed');
      assert.deepEqual(res.body.errors.map((e: { provider: string; account: string; code: string }) => [e.provider, e.account, e.code]), [['caldav', 'bob', 'AUTH_REVOKED']]);
      const status = await a.get('/api/oauth/connection-status');
      const states = Object.fromEntries(status.body.connections.caldav.map((c: { id: string; syncState: string }) => [c.id, c.syncState]));
      assert.deepEqual(states, { alice: 'ok', bob: 'reauth_required' });
      await server.runtime.services.accounts.writeCredentials(bob.id, creds);
    });

    test('bad input on every events endpoint: clear 4xx', async () => {
      const base = { provider: 'caldav', calendarId: work, title: 'x', start: '2027-03-03T10:00:00Z', end: '2027-03-03T11:00:00Z' };
      const cases: [string, () => Promise<{ status: number; body: any }>, number][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
        ['unknown calendar', () => a.post('/api/event', { ...base, calendarId: rad.calendarUrl('alice', 'nope') }), 404],
        ['unknown provider', () => a.post('/api/event', { ...base, provider: 'aol' }), 400],
        ['provider/calendar mismatch', () => a.post('/api/event', { ...base, provider: 'apple' }), 400],
        ['end before start', () => a.post('/api/event', { ...base, end: '2027-03-03T09:00:00Z' }), 400],
        ['malformed recurrence', () => a.post('/api/event', { ...base, recurrence: { frequency: 'HOURLY' } }), 400],
        ['count with until', () => a.post('/api/event', { ...base, recurrence: { frequency: 'DAILY', count: 3, until: '20270401T000000Z' } }), 400],
        ['missing title', () => a.post('/api/event', { ...base, title: undefined }), 400],
        ['garbage date', () => a.post('/api/event', { ...base, start: 'yesterday' }), 400],
        ['array body', () => a.post('/api/event', [base]), 400],
        ['update unknown event', () => a.put('/api/event', { provider: 'caldav', calendarId: work, eventId: 'no-such-event', title: 'y' }), 404],
        ['update bad mode', () => a.put('/api/event', { provider: 'caldav', calendarId: work, eventId: 'x', updateMode: 'some' }), 400],
        ['delete unknown event', () => a.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: work, eventId: 'no-such-event' })}`), 404],
        ['delete without eventId', () => a.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: work })}`), 400],
        ['list bad pageSize', () => a.events({ pageSize: 'lots' }), 400],
        ['list bad calendarIds', () => a.events({ calendarIds: '{"caldav":' }), 400],
        ['list end before start', () => a.events({ start: '2027-03-10', end: '2027-03-01' }), 400],
        ['list bad date', () => a.events({ start: '2027-13-45' }), 400],
      ];
      for (const [name, call, expected] of cases) {
        const res = await call();
        assert.equal(res.status, expected, `${name}: ${JSON.stringify(res.body)}`);
        assert.ok(typeof res.body.message === 'string' && res.body.message.length > 0, `${name} has a message`);
      }
    });

    test('dates are normalised: date-only, space for T, missing seconds and Z, + as space', async () => {
      for (const [start, end] of [
        ['2027-06-01', '2027-06-30'],
        ['2027-06-01 00:00:00', '2027-06-30 00:00'],
        ['2027-06-01T02:00:00 02:00', '2027-06-30T00:00:00'],
      ]) {
        const res = await a.events({ start: start!, end: end! });
        assert.equal(res.status, 200, `${start} ${end}: ${JSON.stringify(res.body)}`);
        assert.ok(res.body.events.length >= 30);
      }
    });

    test('scopes: free-busy sanitises events and refuses calendars and writes; read refuses writes', async () => {
      for (const scope of ['free-busy', 'read'] as const) {
        const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'cal-user', scope });
        const t = await finishConnect(server.url, s, client);
        const c = api(server.url, t.access_token);
        const write = await c.post('/api/event', { provider: 'caldav', calendarId: work, title: 'x', start: '2027-03-03T10:00:00Z', end: '2027-03-03T11:00:00Z' });
        assert.equal(write.status, 401);
        assert.deepEqual(write.body, { error: 'Unauthorized', message: 'Write access denied for current scope' });
        const del = await c.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: work, eventId: 'x' })}`);
        assert.equal(del.status, 401);
        const list = await c.events({ start: '2027-03-01T00:00:00Z', end: '2027-03-31T00:00:00Z' });
        assert.equal(list.status, 200);
        const planning = list.body.events.find((e: { start: string }) => e.start === '2027-03-02T09:00:00.000Z');
        assert.ok(planning);
        const cals = await c.get('/api/calendars');
        if (scope === 'free-busy') {
          assert.equal(cals.status, 403);
          assert.equal(cals.body.error, 'Calendar list access is forbidden for free-busy scope');
          for (const field of ['title', 'description', 'location', 'attendees', 'custom', 'conference', 'original']) {
            assert.ok(!planning[field], `free-busy hides ${field}`);
          }
        } else {
          assert.equal(cals.status, 200);
          assert.equal(planning.title, 'Planning');
        }
      }
    });

    test('DELETE takes its parameters from a JSON body too (the Postman collection does)', async () => {
      const created = await a.post('/api/event', { provider: 'caldav', calendarId: team, title: 'Bye', start: '2027-03-04T10:00:00Z', end: '2027-03-04T11:00:00Z' });
      const res = await a.del('/api/event', { provider: 'caldav', calendarId: team, eventId: created.body.id });
      assert.equal(res.status, 200);
      assert.equal((await rad.get('bob', created.body.original.href)).status, 404);
    });

    test('disconnect removes one account', async () => {
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'leaver' });
      await connectCaldav(server.url, s, { server_url: rad.url, username: 'bob', password: 'bob-pw' });
      const t = await finishConnect(server.url, s, client);
      const c = api(server.url, t.access_token);
      const res = await c.post('/api/oauth/disconnect?provider=caldav&account=bob', {});
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      const status = await c.get('/api/oauth/connection-status');
      assert.deepEqual(status.body.connections.caldav, []);
      assert.equal(await server.runtime.storage.db.selectFrom('accounts').innerJoin('end_users', 'end_users.id', 'accounts.user_id').select('accounts.id').where('end_users.external_id', '=', 'leaver').executeTakeFirst(), undefined);
    });
  });
}

function tokenOf(a: Api): string {
  return a.token;
}

async function putWithIfMatch(baseUrl: string, token: string, etag: string, body: unknown) {
  const res = await fetch(`${baseUrl}/api/event`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'if-match': etag }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Forwards to the server; before the first conditional PUT of an event it changes that event on the server. */
async function racingProxy(rad: CaldavTestServer): Promise<{ url: string; close(): Promise<void> }> {
  let raced = false;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'PUT' && req.headers['if-match'] && !raced) {
      raced = true;
      const current = await rad.get('alice', req.url!);
      await rad.put('alice', req.url!, current.body.replace(/SUMMARY:[^\r\n]*/, 'SUMMARY:Changed by someone else'));
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: rad.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${rad.port}` } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.end(Buffer.concat(chunks));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}
