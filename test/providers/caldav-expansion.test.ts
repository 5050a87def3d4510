import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { parseCalendarObject } from '../../src/providers/caldav/calendar-object.js';
import { expandObject, locateOccurrence, type ExpandOptions } from '../../src/providers/caldav/expand-series.js';
import { buildVtimezone } from '../../src/providers/caldav/vtimezone-builder.js';
import { resolveIanaZone, wallTimeToUtc } from '../../src/domain/zone-clock.js';

function object(...lines: string[]) {
  const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', ...lines, 'END:VCALENDAR'].join('\r\n');
  return parseCalendarObject(ics, 'http://dav.test/cal/x.ics', '"1"');
}

function starts(obj: ReturnType<typeof object>, options: Partial<ExpandOptions> & { from: string; to: string }): string[] {
  return [
    ...expandObject(obj, {
      rangeStart: Date.parse(options.from),
      rangeEnd: Date.parse(options.to),
      floatingZone: options.floatingZone ?? null,
      ...(options.maxIterations ? { maxIterations: options.maxIterations } : {}),
      ...(options.onTruncated ? { onTruncated: options.onTruncated } : {}),
    }),
  ].map((o) => new Date(o.startMs).toISOString());
}

describe('series expansion', () => {
  test('an RDATE equal to a rule date is one occurrence', () => {
    const obj = object(
      'BEGIN:VEVENT',
      'UID:dup',
      'DTSTART:20260105T100000Z',
      'DTEND:20260105T110000Z',
      'RRULE:FREQ=DAILY;COUNT=3',
      'RDATE:20260106T100000Z',
      'END:VEVENT',
    );
    assert.deepEqual(starts(obj, { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }), [
      '2026-01-05T10:00:00.000Z',
      '2026-01-06T10:00:00.000Z',
      '2026-01-07T10:00:00.000Z',
    ]);
  });

  test('a UTC RECURRENCE-ID overrides a TZID series; a DATE EXDATE removes the whole day', () => {
    const obj = object(
      'BEGIN:VEVENT',
      'UID:mixed',
      'DTSTART;TZID=America/New_York:20260105T090000',
      'DTEND;TZID=America/New_York:20260105T100000',
      'RRULE:FREQ=DAILY;COUNT=4',
      'EXDATE;VALUE=DATE:20260107',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:mixed',
      'RECURRENCE-ID:20260106T140000Z',
      'DTSTART:20260106T200000Z',
      'DTEND:20260106T210000Z',
      'SUMMARY:moved',
      'END:VEVENT',
    );
    assert.deepEqual(starts(obj, { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }), [
      '2026-01-05T14:00:00.000Z',
      '2026-01-06T20:00:00.000Z',
      '2026-01-08T14:00:00.000Z',
    ]);
    assert.equal(locateOccurrence(obj, '20260107T140000Z', null), undefined, 'excluded day');
    assert.equal(locateOccurrence(obj, '20260106T140000Z', null)?.startMs, Date.parse('2026-01-06T20:00:00Z'));
  });

  test('an occurrence moved into the range from after it is listed; a cancelled one is not', () => {
    const obj = object(
      'BEGIN:VEVENT',
      'UID:late',
      'DTSTART:20260105T100000Z',
      'DTEND:20260105T110000Z',
      'RRULE:FREQ=WEEKLY',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:late',
      'RECURRENCE-ID:20260302T100000Z',
      'DTSTART:20260110T100000Z',
      'DTEND:20260110T110000Z',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:late',
      'RECURRENCE-ID:20260112T100000Z',
      'DTSTART:20260112T100000Z',
      'DTEND:20260112T110000Z',
      'STATUS:CANCELLED',
      'END:VEVENT',
    );
    assert.deepEqual(starts(obj, { from: '2026-01-08T00:00:00Z', to: '2026-01-15T00:00:00Z' }), ['2026-01-10T10:00:00.000Z']);
  });

  test('iteration is capped and the cap is reported', () => {
    const obj = object('BEGIN:VEVENT', 'UID:fast', 'DTSTART:20000101T000000Z', 'DTEND:20000101T000001Z', 'RRULE:FREQ=MINUTELY', 'END:VEVENT');
    let truncated = '';
    const found = starts(obj, { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', maxIterations: 2000, onTruncated: (uid) => (truncated = uid) });
    assert.deepEqual(found, []);
    assert.equal(truncated, 'fast');
  });

  test('skipping ahead in old DAILY/WEEKLY series gives what iterating from DTSTART gives', () => {
    // COUNT forbids the skip, so the same rule with an unreachable COUNT is the reference.
    for (const [dtstart, dtend, rule] of [
      ['DTSTART;TZID=Europe/Berlin:20100305T233000', 'DTEND;TZID=Europe/Berlin:20100306T013000', 'FREQ=DAILY'],
      ['DTSTART;TZID=America/New_York:20110307T020000', 'DTEND;TZID=America/New_York:20110307T030000', 'FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH'],
      ['DTSTART:20120102T090000', 'DTEND:20120102T100000', 'FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR'],
      ['DTSTART;VALUE=DATE:20120102', 'DTEND;VALUE=DATE:20120105', 'FREQ=WEEKLY;INTERVAL=2'],
    ]) {
      const series = (r: string) =>
        object('BEGIN:VEVENT', 'UID:old', dtstart!, dtend!, `RRULE:${r}`, 'EXDATE;TZID=Europe/Berlin:20260306T233000', 'END:VEVENT');
      for (const [from, to] of [
        ['2026-03-01T00:00:00Z', '2026-04-15T00:00:00Z'],
        ['2026-10-20T00:00:00Z', '2026-11-10T00:00:00Z'],
      ]) {
        const skipped = starts(series(rule!), { from: from!, to: to!, floatingZone: 'Europe/Paris' });
        const reference = starts(series(`${rule};COUNT=50000`), { from: from!, to: to!, floatingZone: 'Europe/Paris' });
        assert.ok(reference.length > 0);
        assert.deepEqual(skipped, reference, `${rule} ${from}`);
      }
    }
  });

  test('only overrides shared with us: each occurrence stands alone', () => {
    const obj = object(
      'BEGIN:VEVENT',
      'UID:invited',
      'RECURRENCE-ID:20260301T100000Z',
      'DTSTART:20260301T110000Z',
      'DTEND:20260301T120000Z',
      'END:VEVENT',
    );
    const [only] = [...expandObject(obj, { rangeStart: Date.parse('2026-03-01T00:00:00Z'), rangeEnd: Date.parse('2026-03-02T00:00:00Z'), floatingZone: null })];
    assert.equal(only?.instance?.id, 'invited::20260301T100000Z');
  });

  test('floating times follow the given zone, including through DST', () => {
    const obj = object('BEGIN:VEVENT', 'UID:float', 'DTSTART:20260327T090000', 'DTEND:20260327T100000', 'RRULE:FREQ=DAILY;COUNT=4', 'END:VEVENT');
    assert.deepEqual(starts(obj, { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z', floatingZone: 'Europe/Berlin' }), [
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });
});

describe('time-zone helpers', () => {
  test('built VTIMEZONEs carry yearly rules that hold beyond their window', () => {
    const text = buildVtimezone('America/New_York', 2026, 2027);
    assert.match(text, /RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU/);
    assert.match(text, /RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU/);
    const zone = new ICAL.Timezone(new ICAL.Component(ICAL.parse(`BEGIN:VCALENDAR\r\n${text}\r\nEND:VCALENDAR`)).getFirstSubcomponent('vtimezone')!);
    const july2035 = ICAL.Time.fromData({ year: 2035, month: 7, day: 1, hour: 12, minute: 0, second: 0 }, zone);
    assert.equal(new Date(july2035.toUnixTime() * 1000).toISOString(), '2035-07-01T16:00:00.000Z');
    assert.doesNotMatch(buildVtimezone('Asia/Kolkata', 2026, 2027), /RRULE|DAYLIGHT/);
  });

  test('wall times in gaps and overlaps', () => {
    // 02:30 does not exist on 29 March 2026 in Berlin: it means 03:30 CEST.
    assert.equal(new Date(wallTimeToUtc('Europe/Berlin', { year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 })).toISOString(), '2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 25 October 2026: the first one.
    assert.equal(new Date(wallTimeToUtc('Europe/Berlin', { year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 })).toISOString(), '2026-10-25T00:30:00.000Z');
  });

  test('TZIDs as clients write them', () => {
    assert.equal(resolveIanaZone('Europe/Berlin'), 'Europe/Berlin');
    assert.equal(resolveIanaZone('/freeassociation.sourceforge.net/Tzfile/Europe/London'), 'Europe/London');
    assert.equal(resolveIanaZone('Pacific Standard Time'), 'America/Los_Angeles');
    assert.equal(resolveIanaZone('Not/AZone'), null);
  });
});
