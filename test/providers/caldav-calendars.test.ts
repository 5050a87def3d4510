import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import { normalizeColor } from '../../src/providers/caldav/normalize-color.js';
import { zoneOfCalendarTimezone } from '../../src/providers/caldav/list-calendars.js';
import { DEFAULT_CALENDAR_COLORS, defaultCalendarColor } from '../../src/domain/calendar-color.js';
import { ProviderError, type BasicCredentials, type ProviderContext } from '../../src/providers/types.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };

const BERLIN_TZ = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//EN',
  'BEGIN:VTIMEZONE',
  'TZID:/mozilla.org/20050126_1/Europe/Berlin',
  'BEGIN:STANDARD',
  'DTSTART:19701025T030000',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'END:STANDARD',
  'END:VTIMEZONE',
  'END:VCALENDAR',
].join('\r\n');

describe('normalizeColor', () => {
  for (const [input, expected] of [
    ['#FF000080', '#FF0000'],
    ['#1badf8ff', '#1BADF8'],
    ['#0F0', '#00FF00'],
    ['#abc', '#AABBCC'],
    ['00ff7f', '#00FF7F'],
    ['turquoise', '#40E0D0'],
    ['  #123456  ', '#123456'],
    ['', null],
    ['#12', null],
    ['rgb(1,2,3)', null],
  ] as const) {
    test(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(normalizeColor(input), expected));
  }
});

describe('zoneOfCalendarTimezone', () => {
  test('reads IANA, vendor-prefixed and Windows TZIDs', () => {
    assert.equal(zoneOfCalendarTimezone(BERLIN_TZ), 'Europe/Berlin');
    assert.equal(zoneOfCalendarTimezone(BERLIN_TZ.replace('/mozilla.org/20050126_1/Europe/Berlin', 'W. Europe Standard Time')), 'Europe/Berlin');
    assert.equal(zoneOfCalendarTimezone('America/New_York'), 'America/New_York');
    assert.equal(zoneOfCalendarTimezone('Mars/Olympus'), null);
    assert.equal(zoneOfCalendarTimezone(undefined), null);
  });
});

describe('listCalendars against Radicale', { skip: RADICALE_SKIP }, () => {
  let radicale: RadicaleServer;
  let ctx: ProviderContext<BasicCredentials>;
  const provider = createCaldavProvider();

  before(async () => {
    radicale = await startRadicale({ users: { alice: 'pw', bob: 'pw2' } });
    await radicale.mkcalendar('alice', 'work', {
      displayName: 'Work',
      color: '#FF000080',
      description: 'Job things',
      timezone: BERLIN_TZ,
    });
    await radicale.mkcalendar('alice', 'personal', { displayName: 'Personal', color: '#0F0', components: ['VEVENT', 'VTODO'] });
    await radicale.mkcalendar('alice', 'reminders', { displayName: 'Reminders', components: ['VTODO'] });
    await radicale.mkcalendar('alice', 'unnamed-cal');
    await radicale.mkcalendar('bob', 'bobs', { displayName: 'Bob only' });
    await radicale.mkcalendar('alice', 'holidays', { displayName: 'Holidays', color: '#336699' });
    await radicale.setReadOnly('alice', 'holidays');
    ctx = {
      credentials: { kind: 'basic', serverUrl: radicale.url, username: 'alice', password: 'pw', calendarHomeUrl: `${radicale.url}alice/` },
      fetch: createGuardedFetch({ allowPrivateNetworks: true }),
      log,
    };
  });

  after(async () => {
    await radicale?.stop();
  });

  test('lists event calendars with normalised colours and skips VTODO-only collections', async () => {
    const calendars = await provider.listCalendars(ctx);
    const byTitle = new Map(calendars.map((c) => [c.title, c]));
    assert.deepEqual(calendars.map((c) => c.id.slice(radicale.url.length)).sort(), ['alice/holidays/', 'alice/personal/', 'alice/unnamed-cal/', 'alice/work/']);
    const work = byTitle.get('Work')!;
    assert.equal(work.provider, 'caldav');
    assert.equal(work.id, `${radicale.url}alice/work/`);
    assert.equal(work.color, '#FF0000');
    assert.equal(work.description, 'Job things');
    assert.equal(work.timeZone, 'Europe/Berlin');
    const original = work.original as Record<string, unknown>;
    assert.equal(original.color, '#FF000080');
    assert.ok(typeof original.ctag === 'string' && original.ctag.length > 0);
    assert.ok(typeof original.syncToken === 'string' && original.syncToken.length > 0);
    assert.equal(byTitle.get('Personal')!.color, '#00FF00');
    // Radicale answers its own path as the display name of a calendar that has none.
    const unnamed = calendars.find((c) => c.id.endsWith('/unnamed-cal/'))!;
    assert.ok(unnamed.title.length > 0);
  });

  test('never null: the account zone, a stable default colour and "" stand in for what the server lacks', async () => {
    const calendars = await provider.listCalendars(ctx);
    for (const c of calendars) {
      assert.equal(typeof c.timeZone, 'string', c.id);
      assert.match(c.color, /^#[0-9A-F]{6}$/, c.id);
      assert.equal(typeof c.description, 'string', c.id);
    }
    const byTitle = new Map(calendars.map((c) => [c.title, c]));
    // Work names Berlin; the account's other calendars name no zone and share it.
    assert.equal(byTitle.get('Personal')!.timeZone, 'Europe/Berlin');
    assert.equal(byTitle.get('Personal')!.description, '');
    const unnamed = calendars.find((c) => c.id.endsWith('/unnamed-cal/'))!;
    assert.equal(unnamed.timeZone, 'Europe/Berlin');
    assert.equal(unnamed.color, defaultCalendarColor(unnamed.id));
    assert.ok((DEFAULT_CALENDAR_COLORS as readonly string[]).includes(unnamed.color));
    // The same on the next call.
    const again = (await provider.listCalendars(ctx)).find((c) => c.id === unnamed.id)!;
    assert.equal(again.color, unnamed.color);

    // An account whose calendars name no zone at all: UTC.
    const bob = await provider.listCalendars({ ...ctx, credentials: { ...ctx.credentials, username: 'bob', password: 'pw2', calendarHomeUrl: `${radicale.url}bob/` } });
    assert.deepEqual(bob.map((c) => [c.title, c.timeZone, c.description]), [['Bob only', 'UTC', '']]);
  });

  test('readOnly follows the server\'s current-user-privilege-set', async () => {
    const calendars = await provider.listCalendars(ctx);
    const byTitle = new Map(calendars.map((c) => [c.title, c]));
    assert.equal(byTitle.get('Holidays')!.readOnly, true);
    assert.equal(byTitle.get('Work')!.readOnly, false);
    assert.equal(byTitle.get('Personal')!.readOnly, false);
    // And the server really refuses the write the flag warns about.
    await assert.rejects(
      provider.createEvent(ctx, { calendarId: byTitle.get('Holidays')!.id, title: 'x', start: new Date('2031-01-01T10:00:00Z'), end: new Date('2031-01-01T11:00:00Z'), allDay: false }),
      (err: unknown) => err instanceof ProviderError,
    );
  });

  test('another user\'s calendar is not reachable through the adapter', async () => {
    await assert.rejects(
      provider.listEvents(ctx, {
        calendarId: `${radicale.url}bob/bobs/`,
        start: new Date('2026-01-01T00:00:00Z'),
        end: new Date('2026-02-01T00:00:00Z'),
        singleEvents: true,
        pageSize: 10,
      }),
      (err: unknown) => err instanceof ProviderError && err.code === 'NOT_FOUND',
    );
    for (const calendarId of ['https://evil.example/alice/work/', `${radicale.url}alice/../bob/bobs/`, 'not a url', `${radicale.url}alice/`]) {
      await assert.rejects(
        provider.createEvent(ctx, { calendarId, title: 'x', start: new Date(), end: new Date(), allDay: false }),
        (err: unknown) => err instanceof ProviderError && err.code === 'NOT_FOUND',
        calendarId,
      );
    }
  });

  test('revoked credentials are AUTH_REVOKED', async () => {
    await assert.rejects(
      provider.listCalendars({ ...ctx, credentials: { ...ctx.credentials, password: 'changed' } }),
      (err: unknown) => err instanceof ProviderError && err.code === 'AUTH_REVOKED',
    );
  });

  test('an unreachable server is TEMPORARY', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(
      provider.listCalendars({ ...ctx, credentials: { ...ctx.credentials, calendarHomeUrl: `http://127.0.0.1:${port}/alice/` } }),
      (err: unknown) => err instanceof ProviderError && err.code === 'TEMPORARY',
    );
  });
});
