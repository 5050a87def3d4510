import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.js';
import {
  assertValidRange,
  defaultRange,
  MAX_RANGE_DAYS,
  parseApiDate,
  resolveRange,
} from '../../src/api/events/normalize-date.js';

const good: Array<[string, 'start' | 'end', string]> = [
  ['2025-01-31', 'start', '2025-01-31T00:00:00.000Z'],
  ['2025-01-31', 'end', '2025-02-01T00:00:00.000Z'],
  ['2024-12-31', 'end', '2025-01-01T00:00:00.000Z'],
  ['2024-02-29', 'start', '2024-02-29T00:00:00.000Z'],
  ['  2025-01-31  ', 'start', '2025-01-31T00:00:00.000Z'],
  ['2025-01-01T10:00:00Z', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01T10:00:00z', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01t10:00:00Z', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01 10:00:00Z', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01T10:00:00', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01T10:00', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01 10:00', 'end', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01T10:00Z', 'start', '2025-01-01T10:00:00.000Z'],
  ['2025-01-01T10:00:00+01:00', 'start', '2025-01-01T09:00:00.000Z'],
  ['2025-01-01T10:00:00 01:00', 'start', '2025-01-01T09:00:00.000Z'],
  ['2025-01-01 10:00:00 01:00', 'start', '2025-01-01T09:00:00.000Z'],
  ['2025-01-01T10:00:00 0530', 'start', '2025-01-01T04:30:00.000Z'],
  ['2025-01-01T10:00:00-05:00', 'start', '2025-01-01T15:00:00.000Z'],
  ['2025-01-01T10:00:00-0500', 'start', '2025-01-01T15:00:00.000Z'],
  ['2025-01-01T10:00:00+05', 'start', '2025-01-01T05:00:00.000Z'],
  ['2025-01-01T00:30:00+01:00', 'start', '2024-12-31T23:30:00.000Z'],
  ['2025-01-01T10:00:00.5Z', 'start', '2025-01-01T10:00:00.500Z'],
  ['2025-01-01T10:00:00.123Z', 'start', '2025-01-01T10:00:00.123Z'],
  ['2025-01-01T10:00:00.123456789Z', 'start', '2025-01-01T10:00:00.123Z'],
  ['2025-01-01T10:00:00,25', 'start', '2025-01-01T10:00:00.250Z'],
  ['2025-01-01T10:00:00.250 01:00', 'start', '2025-01-01T09:00:00.250Z'],
  ['0099-06-01', 'start', '0099-06-01T00:00:00.000Z'],
  // Ruby's Time#to_s, as the Ruby SDK sends Time values: a space, then UTC or a colon-less offset.
  ['2031-03-10 10:00:00 UTC', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 10:00:00 utc', 'end', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 10:00:00 GMT', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10T10:00:00UTC', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 10:00 UTC', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 11:00:00 +0100', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 05:00:00 -0500', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 10:00:00 +0000', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10T10:00:00+0000', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 15:30:00 +05:30', 'start', '2031-03-10T10:00:00.000Z'],
  ['2031-03-10 10:00:00.250 UTC', 'start', '2031-03-10T10:00:00.250Z'],
];

for (const [input, edge, expected] of good) {
  test(`parseApiDate(${JSON.stringify(input)}, ${edge}) = ${expected}`, () => {
    assert.equal(parseApiDate(input, edge).toISOString(), expected);
  });
}

const bad = [
  '',
  ' ',
  'garbage',
  '2025',
  '2025-01',
  '2025-1-1',
  '2025/01/01',
  '01/02/2025',
  '2025-13-01',
  '2025-00-10',
  '2025-02-30',
  '2025-02-29',
  '2025-04-31',
  '2025-01-01T24:00:00Z',
  '2025-01-01T10:60:00Z',
  '2025-01-01T10:00:60Z',
  '2025-01-01T10',
  '2025-01-01T10:00:00+24:00',
  '2025-01-01T10:00:00+01:60',
  '2025-01-01T10:00:00.Z',
  '2025-01-01T10:00:00.1234567890Z',
  '2025-01-01T10:00:00ZZ',
  '2025-01-01T10:00:00 Z',
  '2031-03-10 10:00:00 CET',
  '2031-03-10 10:00:00 UTC+1',
  '2031-03-10 10:00:00  UTC',
  '2031-03-10 10:00:00 +1',
  '2031-03-10 10:00:00 ++0100',
  '2031-03-10 10:00:00 Z UTC',
  '2031-03-10 10:00:00 +0100 UTC',
  '2025-01-01T10:00:00+1',
  '2025-01-01TT10:00:00Z',
  '1735725600000',
  '2025-01-01T10:00:00Z; DROP TABLE',
  `2025-01-01${' '.repeat(100)}`,
  '２０２５-01-01',
];

for (const input of bad) {
  test(`parseApiDate rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
    assert.throws(
      () => parseApiDate(input, 'start'),
      (err: unknown) => err instanceof ValidationError && err.status === 400 && /Invalid start/.test(err.message),
    );
  });
}

test('the error names the parameter given', () => {
  assert.throws(() => parseApiDate('nope', 'end', 'recurrence.until'), /Invalid recurrence\.until/);
  assert.throws(() => parseApiDate('nope', 'end'), /Invalid end/);
});

test('defaultRange: first day 00:00:00Z to last day 23:59:59Z of the current UTC month', () => {
  const cases: Array<[string, string, string]> = [
    ['2025-01-15T12:00:00Z', '2025-01-01T00:00:00.000Z', '2025-01-31T23:59:59.000Z'],
    ['2024-02-29T23:59:59Z', '2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.000Z'],
    ['2025-02-01T00:00:00Z', '2025-02-01T00:00:00.000Z', '2025-02-28T23:59:59.000Z'],
    ['2025-12-31T23:00:00Z', '2025-12-01T00:00:00.000Z', '2025-12-31T23:59:59.000Z'],
  ];
  for (const [now, start, end] of cases) {
    const r = defaultRange(new Date(now));
    assert.equal(r.start.toISOString(), start, now);
    assert.equal(r.end.toISOString(), end, now);
  }
});

test('assertValidRange: start < end and at most MAX_RANGE_DAYS', () => {
  const d = (s: string) => new Date(s);
  assert.throws(() => assertValidRange({ start: d('2025-01-02'), end: d('2025-01-01') }), /start must be before end/);
  assert.throws(() => assertValidRange({ start: d('2025-01-01'), end: d('2025-01-01') }), /start must be before end/);
  assertValidRange({ start: d('2024-01-01'), end: new Date(d('2024-01-01').getTime() + MAX_RANGE_DAYS * 86_400_000) });
  assert.throws(
    () => assertValidRange({ start: d('2024-01-01'), end: new Date(d('2024-01-01').getTime() + MAX_RANGE_DAYS * 86_400_000 + 1) }),
    (err: unknown) => err instanceof ValidationError && /at most 7305 days/.test(err.message),
  );
});

test('resolveRange: defaults, one-sided bounds, twenty years at most', () => {
  const now = new Date('2025-01-15T12:00:00Z');
  const both = resolveRange(undefined, undefined, now);
  assert.equal(both.start.toISOString(), '2025-01-01T00:00:00.000Z');
  assert.equal(both.end.toISOString(), '2025-01-31T23:59:59.000Z');

  const onlyStart = resolveRange('2026-03-10', undefined, now);
  assert.equal(onlyStart.start.toISOString(), '2026-03-10T00:00:00.000Z');
  assert.equal(onlyStart.end.toISOString(), '2026-03-31T23:59:59.000Z');

  const onlyEnd = resolveRange(undefined, '2026-03-31', now);
  assert.equal(onlyEnd.start.toISOString(), '2026-03-01T00:00:00.000Z');
  assert.equal(onlyEnd.end.toISOString(), '2026-04-01T00:00:00.000Z');

  const years = resolveRange('2024-01-01', '2025-12-31', now);
  assert.equal(years.end.toISOString(), '2026-01-01T00:00:00.000Z');
  assert.throws(() => resolveRange('2004-01-01', '2026-01-01', now), /at most 7305 days/);
  assert.throws(() => resolveRange('2025-02-01', '2025-01-01', now), /start must be before end/);
});
