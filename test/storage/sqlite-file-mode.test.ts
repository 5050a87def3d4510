/** The SQLite database holds sealed credentials and token state: owner-only, like the key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest, openStorage } from '../../src/storage/db.js';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

test('the database and its -wal and -shm files are created 0600', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-mode-'));
  const previous = process.umask(0o022);
  try {
    const storage = openStorage({ dataDir: dir });
    await migrateToLatest(storage);
    const file = join(dir, 'almanac.sqlite');
    for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(path), '600', path);
    await storage.close();
  } finally {
    process.umask(previous);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files an earlier version left 0644 are tightened when opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-mode-'));
  try {
    const file = join(dir, 'almanac.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const storage = openStorage({ dataDir: dir });
    await migrateToLatest(storage);
    assert.equal(mode(file), '600');
    assert.equal(mode(`${file}-wal`), '600');
    await storage.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
