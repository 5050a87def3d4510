/**
 * Calendar properties as Xandikos 0.2.8 reports them, read through the CalDAV adapter:
 * an empty `calendar-description` element, no `calendar-timezone` (it refuses to store
 * one), Apple's `calendar-color` as `#RRGGBBAA`, and `DAV:all` as the only privilege.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import { defaultCalendarColor } from '../../src/domain/calendar-color.js';
import { startXandikos, XANDIKOS_SKIP, type XandikosServer } from '../support/xandikos.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };

describe('listCalendars against Xandikos', { skip: XANDIKOS_SKIP }, () => {
  let xandikos: XandikosServer;
  let ctx: ProviderContext<BasicCredentials>;
  const provider = createCaldavProvider();

  before(async () => {
    xandikos = await startXandikos({ users: { user: 'pw' } });
    await xandikos.mkcalendar('user', 'work', { displayName: 'Work', color: '#3366CCFF' });
    await xandikos.mkcalendar('user', 'calendar', { displayName: 'calendar' });
    ctx = {
      credentials: { kind: 'basic', serverUrl: xandikos.url, username: 'user', password: 'pw', calendarHomeUrl: xandikos.homeUrl('user') },
      fetch: createGuardedFetch({ allowPrivateNetworks: true }),
      log,
    };
  });
  after(async () => {
    await xandikos?.stop();
  });

  test('strings for every field, the server\'s colour where it has one, writable under DAV:all', async () => {
    const calendars = await provider.listCalendars(ctx);
    const byTitle = new Map(calendars.map((c) => [c.title, c]));
    assert.deepEqual([...byTitle.keys()].sort(), ['Work', 'calendar']);
    const work = byTitle.get('Work')!;
    assert.deepEqual({ timeZone: work.timeZone, color: work.color, description: work.description, readOnly: work.readOnly }, { timeZone: 'UTC', color: '#3366CC', description: '', readOnly: false });
    const plain = byTitle.get('calendar')!;
    assert.deepEqual({ timeZone: plain.timeZone, color: plain.color, description: plain.description, readOnly: plain.readOnly }, { timeZone: 'UTC', color: defaultCalendarColor(plain.id), description: '', readOnly: false });
  });
});
