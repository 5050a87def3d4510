import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { ValidationError } from '../../src/domain/errors.js';
import {
  createCursorCodec,
  queryFingerprint,
  type CursorState,
  type FingerprintInput,
} from '../../src/api/events/cursor-codec.js';

const key = randomBytes(32);
const codec = createCursorCodec(key);

const query: FingerprintInput = {
  userId: 'user-1',
  start: new Date('2025-01-01T00:00:00Z'),
  end: new Date('2025-02-01T00:00:00Z'),
  singleEvents: true,
  calendarIds: { google: ['b@x.com', 'a@x.com'] },
};
const fp = queryFingerprint(query);

const state: CursorState = {
  providerPageSize: 250,
  sources: {
    AAAAAAAAAAA: { skip: 3 },
    BBBBBBBBBBB: { token: 'CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA', skip: 0 },
    CCCCCCCCCCC: { token: 'https://graph.microsoft.com/v1.0/me/calendars/AAMk/calendarView?$skiptoken=abc', skip: 17 },
  },
};

function isInvalidToken(err: unknown): boolean {
  return err instanceof ValidationError && err.status === 400 && err.message === 'Invalid nextPageToken';
}

test('round trip', () => {
  const token = codec.encode(state, fp);
  assert.match(token, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(codec.decode(token, fp), state);
  const empty: CursorState = { providerPageSize: 1, sources: {} };
  assert.deepEqual(codec.decode(codec.encode(empty, fp), fp), empty);
});

test('an id like __proto__ stays data', () => {
  const odd: CursorState = { providerPageSize: 5, sources: { ['__proto__']: { skip: 1 } } };
  const back = codec.decode(codec.encode(odd, fp), fp);
  assert.deepEqual(Object.keys(back.sources), ['__proto__']);
  assert.equal(Object.getPrototypeOf(back.sources), Object.prototype);
});

test('tokens stay small: long provider tokens are compressed', () => {
  const many: CursorState = { providerPageSize: 250, sources: {} };
  for (let i = 0; i < 30; i++) {
    many.sources[`id${String(i).padStart(9, '0')}`] = {
      token: `https://graph.microsoft.com/v1.0/me/calendars/AAMkAGI2TG93AAA${i}/calendarView?startDateTime=2025-01-01T00:00:00Z&endDateTime=2025-02-01T00:00:00Z&$skiptoken=${i}`,
      skip: i,
    };
  }
  const raw = JSON.stringify(many).length;
  const token = codec.encode(many, fp);
  assert.ok(token.length < raw / 2, `token ${token.length} chars vs ${raw} of JSON`);
  assert.deepEqual(codec.decode(token, fp), many);
});

test('the fingerprint is canonical and covers user, range, singleEvents and filter', () => {
  assert.equal(fp, queryFingerprint({ ...query, calendarIds: { google: ['a@x.com', 'b@x.com'] } }));
  const variants: FingerprintInput[] = [
    { ...query, userId: 'user-2' },
    { ...query, start: new Date('2025-01-01T00:00:01Z') },
    { ...query, end: new Date('2025-03-01T00:00:00Z') },
    { ...query, singleEvents: false },
    { ...query, calendarIds: {} },
    { ...query, calendarIds: { google: ['a@x.com'] } },
    { ...query, calendarIds: { microsoft: ['b@x.com', 'a@x.com'] } },
  ];
  const token = codec.encode(state, fp);
  for (const v of variants) {
    const other = queryFingerprint(v);
    assert.notEqual(other, fp);
    assert.throws(() => codec.decode(token, other), isInvalidToken, JSON.stringify(v));
  }
});

test('every single-byte flip is rejected', () => {
  const token = codec.encode(state, fp);
  const raw = Buffer.from(token, 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const copy = Buffer.from(raw);
    copy[i] = copy[i]! ^ 0x01;
    assert.throws(() => codec.decode(copy.toString('base64url'), fp), isInvalidToken, `byte ${i}`);
  }
});

test('truncated, extended, and garbage tokens are rejected', () => {
  const token = codec.encode(state, fp);
  for (let n = 0; n < token.length; n += 3) {
    assert.throws(() => codec.decode(token.slice(0, n), fp), isInvalidToken, `length ${n}`);
  }
  for (const bad of [
    `${token}A`,
    `${token}AA`,
    `A${token}`,
    `${token}=`,
    token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    '',
    '....',
    'not a token',
    'eyJhbGciOiJIUzI1NiJ9.e30.abc',
    'A'.repeat(40_000),
  ]) {
    assert.throws(() => codec.decode(bad, fp), isInvalidToken, bad.slice(0, 30));
  }
});

test('a token signed with another key is rejected', () => {
  const other = createCursorCodec(randomBytes(32));
  assert.throws(() => codec.decode(other.encode(state, fp), fp), isInvalidToken);
});

test('swapping payload between two valid tokens is rejected', () => {
  const a = Buffer.from(codec.encode(state, fp), 'base64url');
  const b = Buffer.from(codec.encode({ providerPageSize: 250, sources: { AAAAAAAAAAA: { skip: 0 } } }, fp), 'base64url');
  const swapped = Buffer.concat([b.subarray(0, b.length - 16), a.subarray(a.length - 16)]);
  assert.throws(() => codec.decode(swapped.toString('base64url'), fp), isInvalidToken);
});

/** Builds a correctly signed token around arbitrary bytes (as if the key had leaked). */
function forge(payload: Buffer, flags = 0, version = 1): string {
  const body = Buffer.concat([Buffer.from([version, flags]), payload]);
  const mac = createHmac('sha256', key)
    .update('almanac/events-cursor/v1\0')
    .update(fp)
    .update('\0')
    .update(body)
    .digest()
    .subarray(0, 16);
  return Buffer.concat([body, mac]).toString('base64url');
}

test('the forge helper matches the real format (sanity)', () => {
  assert.deepEqual(codec.decode(forge(Buffer.from('[5,[["x",1]]]')), fp), { providerPageSize: 5, sources: { x: { skip: 1 } } });
});

test('validly signed but malformed states are still rejected', () => {
  const bad = [
    'not json',
    '{}',
    '[]',
    '[5]',
    '[0,[]]',
    '[1001,[]]',
    '[5.5,[]]',
    '[5,{}]',
    '[5,[["x"]]]',
    '[5,[["x",-1]]]',
    '[5,[["x",1.5]]]',
    '[5,[["x","1"]]]',
    '[5,[["x",1,2]]]',
    '[5,[["x",1,"t",4]]]',
    '[5,[["",1]]]',
    `[5,[["${'x'.repeat(65)}",1]]]`,
    '[5,[["x",1],["x",2]]]',
    '[5,[[1,1]]]',
  ];
  for (const json of bad) assert.throws(() => codec.decode(forge(Buffer.from(json)), fp), isInvalidToken, json);
  assert.throws(() => codec.decode(forge(Buffer.from('[5,[]]'), 0, 2), fp), isInvalidToken, 'unknown version');
  assert.throws(() => codec.decode(forge(Buffer.from('[5,[]]'), 4), fp), isInvalidToken, 'unknown flag');
  assert.throws(() => codec.decode(forge(Buffer.from('[5,[]]'), 1), fp), isInvalidToken, 'not deflated');
});

test('the mirror plan and snapshot of a walk round-trip; malformed ones are rejected', () => {
  const state = { providerPageSize: 50, sources: { m: { token: '[1,"a","b"]', skip: 0 } }, mirror: ['cal-1', 'cal-2'], snapshot: 42 };
  assert.deepEqual(codec.decode(codec.encode(state, fp), fp), state);
  const withoutSnapshot = { providerPageSize: 50, sources: {}, mirror: ['cal-1'] };
  assert.deepEqual(codec.decode(codec.encode(withoutSnapshot, fp), fp), withoutSnapshot);
  for (const json of ['[5,[],"cal"]', '[5,[],[1]]', '[5,[],[""]]', '[5,[],["c"],-1]', '[5,[],["c"],1.5]', '[5,[],["c"],"7"]', '[5,[],["c"],7,8]']) {
    assert.throws(() => codec.decode(forge(Buffer.from(json)), fp), isInvalidToken, json);
  }
});

test('keys shorter than 32 bytes are refused', () => {
  assert.throws(() => createCursorCodec(new Uint8Array(16)), TypeError);
});
