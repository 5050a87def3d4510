/** Decrypted rows remembered per process: a hit only ever returns what opening that same row gave. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { OpenedCache } from '../../src/storage/repositories/opened-cache.js';

const box = new SecretBox(randomBytes(32));

function opener(cache: OpenedCache<{ text: string }>, counter: { opens: number }) {
  return (aad: string, sealed: string) =>
    cache.get(aad, sealed, () => {
      counter.opens += 1;
      return { text: box.open(sealed, aad) };
    });
}

test('a row read again is not opened again; a rewritten row is', () => {
  const counter = { opens: 0 };
  const open = opener(new OpenedCache(10), counter);
  const first = box.seal('v1 of the event', 'event:c1:i:e1');
  assert.equal(open('event:c1:i:e1', first).text, 'v1 of the event');
  assert.equal(open('event:c1:i:e1', first).text, 'v1 of the event');
  assert.equal(counter.opens, 1);
  const rewritten = box.seal('v2 of the event', 'event:c1:i:e1');
  assert.equal(open('event:c1:i:e1', rewritten).text, 'v2 of the event');
  assert.equal(counter.opens, 2);
});

test('a sealed value copied onto another row is opened for that row (and fails), never served from the cache', () => {
  const counter = { opens: 0 };
  const open = opener(new OpenedCache(10), counter);
  const sealed = box.seal('one user’s event', 'event:c1:i:e1');
  assert.equal(open('event:c1:i:e1', sealed).text, 'one user’s event');
  assert.throws(() => open('event:c2:i:e9', sealed));
  assert.equal(counter.opens, 2);
  // The genuine row still reads from the cache.
  assert.equal(open('event:c1:i:e1', sealed).text, 'one user’s event');
  assert.equal(counter.opens, 2);
});

test('the oldest entry goes first at capacity; values are frozen', () => {
  const counter = { opens: 0 };
  const open = opener(new OpenedCache(2), counter);
  const rows = ['a', 'b', 'c'].map((id) => ({ aad: `event:c:i:${id}`, sealed: box.seal(id, `event:c:i:${id}`) }));
  for (const r of rows) open(r.aad, r.sealed);
  assert.equal(counter.opens, 3);
  assert.ok(Object.isFrozen(open(rows[2]!.aad, rows[2]!.sealed)));
  assert.equal(counter.opens, 3);
  open(rows[0]!.aad, rows[0]!.sealed);
  assert.equal(counter.opens, 4);
});

test('what its writer remembered is served without opening, and only for the row it was sealed for', () => {
  const counter = { opens: 0 };
  const cache = new OpenedCache<{ text: string }>(10);
  const open = opener(cache, counter);
  const sealed = box.seal('written here', 'event:c1:i:e1');
  cache.remember('event:c1:i:e1', sealed, () => ({ text: 'written here' }));
  assert.equal(open('event:c1:i:e1', sealed).text, 'written here');
  assert.equal(counter.opens, 0);
  // Copied onto another row, the value is opened (and fails), as with any other entry.
  assert.throws(() => open('event:c2:i:e9', sealed));
});
