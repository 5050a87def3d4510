/** How a page's before/after events become created/updated/deleted, per projection; the retry schedule. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { diffEvents } from '../../src/webhooks/change-notifier.js';
import { toBusyBlock, blocksTime } from '../../src/api/events/sanitize-free-busy.js';
import { nextAttemptAt, parseRetryAfter } from '../../src/webhooks/retry-schedule.js';
import { DEFAULT_WEBHOOK_RETRY_SECONDS, loadConfig } from '../../src/config/config.js';

function event(id: string, fields: Partial<CalendarEvent> = {}): CalendarEvent {
  return { provider: 'caldav', id, calendarId: 'cal', title: id, start: '2027-01-05T09:00:00.000Z', end: '2027-01-05T10:00:00.000Z', allDay: false, original: { etag: '"1"' }, ...fields };
}

const map = (...events: CalendarEvent[]) => new Map(events.map((e) => [e.id, e]));
const full = (e: CalendarEvent) => e;
const busy = (e: CalendarEvent) => (blocksTime(e) ? toBusyBlock(e) : null);

describe('diffEvents', () => {
  test('created, updated and deleted; a new etag or lastModified alone is no change', () => {
    const before = map(event('a'), event('b'), event('c'));
    const after = map(event('a', { original: { etag: '"2"' }, lastModified: '2027-01-01T00:00:00Z' }), event('b', { title: 'renamed', original: { etag: '"2"' } }), event('d'));
    const changes = diffEvents(before, after, full);
    assert.deepEqual(changes.map((c) => [c.id, c.changeType]).sort(), [['b', 'updated'], ['c', 'deleted'], ['d', 'created']]);
    const deleted = changes.find((c) => c.id === 'c')!;
    assert.equal(deleted.title, 'c', 'a deleted event keeps its last known fields');
  });

  test('a series edit reports the occurrences it changed, each as the API lists instances', () => {
    const occurrence = (n: number, title: string) => event(`s_2027010${n}`, { recurringEventId: 's', title, start: `2027-01-0${n}T09:00:00.000Z`, end: `2027-01-0${n}T10:00:00.000Z` });
    const before = map(occurrence(1, 'Weekly'), occurrence(2, 'Weekly'), occurrence(3, 'Weekly'));
    const oneMoved = map(occurrence(1, 'Weekly'), { ...occurrence(2, 'Weekly'), start: '2027-01-02T14:00:00.000Z', end: '2027-01-02T15:00:00.000Z' }, occurrence(3, 'Weekly'));
    assert.deepEqual(diffEvents(before, oneMoved, full).map((c) => [c.id, c.changeType]), [['s_20270102', 'updated']]);
    const renamed = map(occurrence(1, 'Renamed'), occurrence(2, 'Renamed'));
    assert.deepEqual(diffEvents(before, renamed, full).map((c) => [c.id, c.changeType]), [['s_20270101', 'updated'], ['s_20270102', 'updated'], ['s_20270103', 'deleted']]);
  });

  test('free-busy subscribers hear only of busy blocks appearing, moving or going away', () => {
    const before = map(event('a'), event('b'), event('c'));
    const after = map(event('a', { title: 'secret rename', description: 'x' }), event('b', { availability: 'free' }), event('c', { start: '2027-01-05T11:00:00.000Z', end: '2027-01-05T12:00:00.000Z' }), event('d', { status: 'cancelled' }));
    const changes = diffEvents(before, after, busy);
    assert.deepEqual(changes.map((c) => [c.id, c.changeType]).sort(), [['b', 'deleted'], ['c', 'updated']]);
    for (const c of changes) {
      assert.equal(c.title, '');
      assert.equal(c.original, undefined);
    }
  });
});

describe('retry schedule', () => {
  test('ten attempts over about three days by default, each delay jittered within ±20 %', () => {
    const schedule = DEFAULT_WEBHOOK_RETRY_SECONDS;
    assert.equal(schedule.length + 1, 10);
    const total = schedule.reduce((a, b) => a + b, 0);
    assert.ok(total > 2.5 * 86_400 && total < 3.5 * 86_400, `${total / 86_400} days`);
    assert.equal(nextAttemptAt(schedule, 1, 0, { random: () => 0 }), 4000);
    assert.equal(nextAttemptAt(schedule, 1, 0, { random: () => 1 }), 6000);
    assert.equal(nextAttemptAt(schedule, 10, 0), null, 'no attempt after the tenth');
    assert.equal(nextAttemptAt(schedule, 1, 0, { random: () => 0.5, retryAfterMs: 120_000 }), 120_000, 'Retry-After is a floor');
    assert.equal(nextAttemptAt(schedule, 1, 0, { random: () => 0.5, retryAfterMs: 30 * 86_400_000 }), 86_400_000, 'capped at a day');
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('120', 0), 120_000);
    assert.equal(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    assert.equal(parseRetryAfter(null, 0), undefined);
  });

  test('ALMANAC_WEBHOOK_RETRY_SECONDS is checked', () => {
    assert.deepEqual(loadConfig({ ALMANAC_WEBHOOK_RETRY_SECONDS: '1, 2,3' }).webhooks.retrySeconds, [1, 2, 3]);
    for (const bad of ['1,,2', 'a', '0', '-1', '999999999']) assert.throws(() => loadConfig({ ALMANAC_WEBHOOK_RETRY_SECONDS: bad }), /ALMANAC_WEBHOOK_RETRY_SECONDS/);
    assert.equal(loadConfig({}).webhooks.echoOwnWrites, false);
    assert.equal(loadConfig({ ALMANAC_WEBHOOK_ECHO_OWN_WRITES: 'true' }).webhooks.echoOwnWrites, true);
  });
});
