import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.js';
import { parseListQuery, selectCalendarIds } from '../../src/api/events/parse-list-query.js';

const now = new Date('2025-01-15T12:00:00Z');

function rejects(query: Record<string, unknown> | URLSearchParams, field: string, pattern?: RegExp): void {
  assert.throws(
    () => parseListQuery(query, now),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.equal(err.status, 400);
      const details = err.details as Array<{ field: string; message: string }>;
      assert.ok(
        details.some((d) => d.field === field),
        `expected an issue for ${field}, got ${JSON.stringify(details)}`,
      );
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

test('defaults', () => {
  const q = parseListQuery({}, now);
  assert.equal(q.pageSize, 250);
  assert.equal(q.singleEvents, true);
  assert.deepEqual(q.calendarIds, {});
  assert.equal(q.nextPageToken, undefined);
  assert.equal(q.start.toISOString(), '2025-01-01T00:00:00.000Z');
  assert.equal(q.end.toISOString(), '2025-01-31T23:59:59.000Z');
});

test('empty values count as absent', () => {
  const q = parseListQuery({ pageSize: '', start: '', end: '', nextPageToken: '', singleEvents: '', calendarIds: '' }, now);
  assert.equal(q.pageSize, 250);
  assert.equal(q.nextPageToken, undefined);
});

test('pageSize: integers, capped at 1000', () => {
  const cases: Array<[string, number]> = [
    ['1', 1],
    ['7', 7],
    [' 250 ', 250],
    ['1000', 1000],
    ['1001', 1000],
    ['99999999999999999999', 1000],
    ['007', 7],
  ];
  for (const [raw, want] of cases) assert.equal(parseListQuery({ pageSize: raw }, now).pageSize, want, raw);
  for (const raw of ['0', '-1', '1.5', '1e3', 'abc', '+5', '0x10', 'NaN', 'Infinity', '10abc', '123456789012345678901']) {
    rejects({ pageSize: raw }, 'pageSize', /Invalid pageSize/);
  }
});

test('singleEvents: true/false/1/0', () => {
  const cases: Array<[string, boolean]> = [
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['0', false],
  ];
  for (const [raw, want] of cases) assert.equal(parseListQuery({ singleEvents: raw }, now).singleEvents, want, raw);
  for (const raw of ['yes', 'no', '2', 'on', 'null']) rejects({ singleEvents: raw }, 'singleEvents');
});

test('start/end normalisation from a raw, unencoded query string', () => {
  const q = parseListQuery(new URLSearchParams('start=2025-01-01 10:00:00+01:00&end=2025-01-31'), now);
  assert.equal(q.start.toISOString(), '2025-01-01T09:00:00.000Z');
  assert.equal(q.end.toISOString(), '2025-02-01T00:00:00.000Z');
  rejects({ start: 'yesterday' }, 'start', /Invalid start/);
  rejects({ end: '2025-02-30' }, 'end', /Invalid end/);
  rejects({ start: '2025-02-01', end: '2025-01-01' }, 'end', /Invalid end: must be after start/);
  rejects({ start: '2000-01-01', end: '2025-01-01' }, 'end', /7305 days/);
});

test('duplicate parameters are a 400', () => {
  rejects(new URLSearchParams('pageSize=10&pageSize=20'), 'pageSize', /more than once/);
  rejects({ start: ['2025-01-01', '2025-01-02'] }, 'start');
  rejects({ nextPageToken: ['a', 'b'] }, 'nextPageToken');
  // A one-element array (some parsers) is just the value.
  assert.equal(parseListQuery({ pageSize: ['10'] }, now).pageSize, 10);
});

test('non-string values are a 400', () => {
  rejects({ pageSize: { a: 1 } }, 'pageSize');
  rejects({ start: 5 }, 'start');
});

test('calendarIds: filters, empty lists and null mean no filter', () => {
  const q = parseListQuery(
    { calendarIds: JSON.stringify({ google: ['a@b.com', 'a@b.com', 'c@d.com'], microsoft: [], apple: null, caldav: [] }) },
    now,
  );
  assert.deepEqual(q.calendarIds, { google: ['a@b.com', 'c@d.com'] });
  // Already parsed by a nested query parser.
  assert.deepEqual(parseListQuery({ calendarIds: { apple: ['x'] } }, now).calendarIds, { apple: ['x'] });
  assert.deepEqual(parseListQuery({ calendarIds: '{}' }, now).calendarIds, {});
});

test('calendarIds: malformed JSON, wrong shapes, unknown providers', () => {
  const bad: Array<[string, string]> = [
    ['{google:["a"]}', 'calendarIds'],
    ['["a"]', 'calendarIds'],
    ['null', 'calendarIds'],
    ['"google"', 'calendarIds'],
    ['42', 'calendarIds'],
    ['{"yahoo":["a"]}', 'calendarIds.yahoo'],
    ['{"__proto__":["a"]}', 'calendarIds.__proto__'],
    ['{"google":"a@b.com"}', 'calendarIds.google'],
    ['{"google":{"a":1}}', 'calendarIds.google'],
    ['{"google":[1]}', 'calendarIds.google[0]'],
    ['{"google":[""]}', 'calendarIds.google[0]'],
    ['{"google":[null]}', 'calendarIds.google[0]'],
    [JSON.stringify({ google: Array.from({ length: 501 }, (_, i) => `c${i}`) }), 'calendarIds.google'],
    [JSON.stringify({ google: ['x'.repeat(2049)] }), 'calendarIds.google[0]'],
    [`{"google":[${'"a",'.repeat(20000)}"a"]}`, 'calendarIds'],
  ];
  for (const [raw, field] of bad) rejects({ calendarIds: raw }, field);
});

test('all problems are listed in details', () => {
  assert.throws(
    () => parseListQuery({ pageSize: 'x', singleEvents: 'maybe', calendarIds: '{"yahoo":[]}', start: 'nope' }, now),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      const fields = (err.details as Array<{ field: string }>).map((d) => d.field);
      assert.deepEqual(fields.sort(), ['calendarIds.yahoo', 'pageSize', 'singleEvents', 'start']);
      assert.match(err.message, /^Invalid pageSize: .*and 3 more problems/);
      return true;
    },
  );
});

test('nextPageToken passes through; oversized is a 400', () => {
  assert.equal(parseListQuery({ nextPageToken: 'abc' }, now).nextPageToken, 'abc');
  rejects({ nextPageToken: 'a'.repeat(40_000) }, 'nextPageToken');
});

test('selectCalendarIds: foreign ids ignored, empty filter = all', () => {
  const owned = ['a', 'b', 'c'];
  assert.deepEqual(selectCalendarIds({}, 'google', owned), owned);
  assert.deepEqual(selectCalendarIds({ google: ['c', 'a', 'zzz'] }, 'google', owned), ['a', 'c']);
  assert.deepEqual(selectCalendarIds({ google: ['zzz'] }, 'google', owned), []);
  assert.deepEqual(selectCalendarIds({ google: ['zzz'] }, 'microsoft', owned), owned);
});
