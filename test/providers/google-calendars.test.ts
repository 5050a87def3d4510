import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGoogleHarness } from '../emulators/google/google-test-harness.js';
import type { GoogleHarness } from '../emulators/google/google-test-harness.js';
import { fallbackZoneOf, toCalendar } from '../../src/providers/google/google-calendar-mapper.js';
import type { GoogleCalendarListEntry } from '../../src/providers/google/google-wire-types.js';
import { defaultCalendarColor } from '../../src/domain/calendar-color.js';

describe('Google calendars', () => {
  let h: GoogleHarness;

  before(async () => {
    // Short pages prove the adapter follows nextPageToken rather than trusting maxResults.
    h = await startGoogleHarness({ timeZone: 'Europe/Berlin', emulator: { pageSizeCap: 37 } });
    for (let i = 0; i < 298; i++) {
      h.emulator.addCalendar(h.email, {
        id: `cal${String(i).padStart(3, '0')}@group.calendar.google.com`,
        summary: `Calendar ${i}`,
        timeZone: i % 2 ? 'Asia/Tokyo' : 'America/Los_Angeles',
        backgroundColor: i % 3 ? '#FF887C' : '#a4bdfc',
        accessRole: i % 4 === 0 ? 'reader' : 'writer',
        description: i === 7 ? 'Seventh' : undefined,
      });
    }
    h.emulator.addCalendar(h.email, { id: 'renamed@group.calendar.google.com', summary: 'Owner name', summaryOverride: 'My name' });
    h.emulator.addCalendar(h.email, { id: 'hidden@group.calendar.google.com', summary: 'Hidden', hidden: true });
  });
  after(() => h.close());

  test('lists all 300 visible calendars across short pages, each once', async () => {
    const calendars = await h.provider.listCalendars(h.ctx);
    assert.equal(calendars.length, 300); // primary + 298 + renamed; the hidden one is not listed
    assert.equal(new Set(calendars.map((c) => c.id)).size, calendars.length);
    const pages = h.emulator.requests.filter((r) => r.path === '/calendar/v3/users/me/calendarList');
    assert.equal(pages.length, Math.ceil(300 / 37));
    assert.ok(pages.every((r) => r.query.maxResults === '250'));
    assert.ok(!calendars.some((c) => c.id === 'hidden@group.calendar.google.com'));
  });

  test('maps title, zone, colour, description and keeps the access role in original', async () => {
    const calendars = await h.provider.listCalendars(h.ctx);
    const byId = new Map(calendars.map((c) => [c.id, c]));
    const primary = byId.get(h.email)!;
    assert.equal(primary.provider, 'google');
    assert.equal(primary.timeZone, 'Europe/Berlin');
    assert.equal((primary.original as { primary?: boolean }).primary, true);
    assert.equal((primary.original as { accessRole?: string }).accessRole, 'owner');

    const c1 = byId.get('cal001@group.calendar.google.com')!;
    assert.deepEqual(
      { title: c1.title, timeZone: c1.timeZone, color: c1.color, description: c1.description },
      { title: 'Calendar 1', timeZone: 'Asia/Tokyo', color: '#ff887c', description: '' },
    );
    assert.equal((c1.original as { accessRole?: string }).accessRole, 'writer');
    assert.equal((byId.get('cal000@group.calendar.google.com')!.original as { accessRole?: string }).accessRole, 'reader');
    assert.equal(byId.get('cal007@group.calendar.google.com')!.description, 'Seventh');
    assert.equal(byId.get('renamed@group.calendar.google.com')!.title, 'My name');
  });
});

describe('Google calendar entries missing optional fields', () => {
  test('zone falls back to the primary calendar\'s, colour to the stable default, description to ""', () => {
    const entries: GoogleCalendarListEntry[] = [
      { id: 'me@example.com', summary: 'me', primary: true, timeZone: 'Europe/Lisbon', backgroundColor: '#123456', accessRole: 'owner' },
      { id: 'bare@group.calendar.google.com', summary: 'Bare', accessRole: 'reader' },
    ];
    const zone = fallbackZoneOf(entries);
    assert.equal(zone, 'Europe/Lisbon');
    const bare = toCalendar(entries[1]!, zone);
    assert.deepEqual(
      { timeZone: bare.timeZone, color: bare.color, description: bare.description, readOnly: bare.readOnly },
      { timeZone: 'Europe/Lisbon', color: defaultCalendarColor('bare@group.calendar.google.com'), description: '', readOnly: true },
    );
    // No primary entry with a zone: UTC.
    assert.equal(fallbackZoneOf([entries[1]!]), 'UTC');
    assert.equal(toCalendar(entries[1]!).timeZone, 'UTC');
  });
});
