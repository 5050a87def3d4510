/**
 * Calendar properties as Xandikos 0.2.8 reports them, read through the CalDAV adapter:
 * an empty `calendar-description` element, no `calendar-timezone` (it refuses to store
 * one), Apple's `calendar-color` as `#RRGGBBAA`, and `DAV:all` as the only privilege.
 * Xandikos has no authentication; the adapter's Basic header is simply ignored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import { defaultCalendarColor } from '../../src/domain/calendar-color.js';

const XANDIKOS_BIN = process.env.XANDIKOS_BIN ?? '/usr/bin/xandikos';
const SKIP = existsSync(XANDIKOS_BIN) ? false : 'xandikos not installed: apt-get install -y xandikos';
const log = { debug() {}, info() {}, warn() {}, error() {} };

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('listCalendars against Xandikos', { skip: SKIP }, () => {
  let child: ChildProcess;
  let dir: string;
  let base: string;
  let ctx: ProviderContext<BasicCredentials>;
  const provider = createCaldavProvider();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'almanac-xandikos-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    // --defaults creates /user/ with the calendar home /user/calendars/ and one calendar in it.
    child = spawn(XANDIKOS_BIN, ['-d', dir, '--defaults', '-l', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await (await fetch(`${base}user/calendars/`, { method: 'PROPFIND', headers: { depth: '0' } })).body?.cancel();
        break;
      } catch (err) {
        if (Date.now() > deadline || child.exitCode !== null) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const mk = await fetch(`${base}user/calendars/work/`, { method: 'MKCALENDAR' });
    assert.equal(mk.status, 201);
    const patch = await fetch(`${base}user/calendars/work/`, {
      method: 'PROPPATCH',
      headers: { 'content-type': 'application/xml' },
      body:
        '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/">' +
        '<D:set><D:prop><D:displayname>Work</D:displayname><I:calendar-color>#3366CCFF</I:calendar-color></D:prop></D:set></D:propertyupdate>',
    });
    assert.equal(patch.status, 207);
    ctx = {
      credentials: { kind: 'basic', serverUrl: base, username: 'user', password: 'unused', calendarHomeUrl: `${base}user/calendars/` },
      fetch: createGuardedFetch({ allowPrivateNetworks: true }),
      log,
    };
  });
  after(async () => {
    child?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
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
