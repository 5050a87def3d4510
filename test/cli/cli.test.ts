/** The `almanac` CLI: in-process for every command and error path, and once through the real bin. */
import { TEST_SECRET } from '../support/server.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../src/cli/cli.js';
import { dialects, createTestDatabase, type TestDatabase } from '../support/databases.js';

async function cli(env: Record<string, string>, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

for (const { dialect, skip } of await dialects()) {
  describe(`CLI on ${dialect}`, { skip }, () => {
    let db: TestDatabase;
    let env: Record<string, string>;
    before(async () => {
      db = await createTestDatabase(dialect);
      // The CLI hashes client secrets under a key derived from ALMANAC_SECRET_KEY, as the server does.
      env = { ALMANAC_SECRET_KEY: TEST_SECRET, ...db.env };
    });
    after(async () => db?.drop());

    test('clients create --json prints only the id and the secret; the secret is stored hashed', async () => {
      const r = await cli(env, 'clients', 'create', '--name', 'My app', '--redirect-uri', 'https://app.example/cb', '--redirect-uri', 'http://localhost:5173/cb', '--display-name', 'My App', '--json');
      assert.equal(r.code, 0, r.err);
      const parsed = JSON.parse(r.out) as { clientId: string; clientSecret: string };
      assert.deepEqual(Object.keys(parsed).sort(), ['clientId', 'clientSecret']);
      const show = await cli(env, 'clients', 'show', parsed.clientId, '--json');
      assert.equal(show.code, 0);
      const client = JSON.parse(show.out);
      assert.deepEqual(client.redirectUris, ['https://app.example/cb', 'http://localhost:5173/cb']);
      assert.equal(client.displayName, 'My App');
      assert.ok(!show.out.includes(parsed.clientSecret), 'show never prints the secret');
    });

    test('list, update (redirect URIs, branding), rotate-secret, delete', async () => {
      const created = JSON.parse((await cli(env, 'clients', 'create', '--name', 'B', '--redirect-uri', 'https://b.example/cb', '--json')).out);
      const id = created.clientId as string;
      const list = await cli(env, 'clients', 'list', '--json');
      assert.ok(JSON.parse(list.out).some((c: { clientId: string }) => c.clientId === id));
      const human = await cli(env, 'clients', 'list');
      assert.match(human.out, new RegExp(id));
      const upd = await cli(env, 'clients', 'update', id, '--add-redirect-uri', 'https://b.example/two', '--primary-color', '#0B5FFF', '--theme', 'dark', '--hide-footer', '--support-contact', 'help@b.example', '--json');
      assert.equal(upd.code, 0, upd.err);
      const u = JSON.parse(upd.out);
      assert.deepEqual(u.redirectUris, ['https://b.example/cb', 'https://b.example/two']);
      assert.deepEqual(u.branding, { primaryColor: '#0b5fff', defaultTheme: 'dark', hideFooter: true, supportContact: 'help@b.example' });
      const rot = await cli(env, 'clients', 'rotate-secret', id, '--json');
      assert.equal(rot.code, 0);
      assert.notEqual(JSON.parse(rot.out).clientSecret, created.clientSecret);
      assert.equal((await cli(env, 'clients', 'delete', id)).code, 0);
      assert.equal((await cli(env, 'clients', 'show', id)).code, 3);
    });

    test('--require-par on create and update, --no-require-par turns it off; shown by show', async () => {
      const created = JSON.parse((await cli(env, 'clients', 'create', '--name', 'P', '--redirect-uri', 'https://p.example/cb', '--require-par', '--json')).out);
      const show = async () => JSON.parse((await cli(env, 'clients', 'show', created.clientId, '--json')).out) as { requirePar: boolean };
      assert.equal((await show()).requirePar, true);
      assert.match((await cli(env, 'clients', 'show', created.clientId)).out, /requires pushed authorization requests/);
      const off = await cli(env, 'clients', 'update', created.clientId, '--no-require-par', '--json');
      assert.equal(off.code, 0, off.err);
      assert.equal(JSON.parse(off.out).requirePar, false);
      assert.equal((await show()).requirePar, false);
      assert.doesNotMatch((await cli(env, 'clients', 'show', created.clientId)).out, /pushed/);
      assert.equal((await cli(env, 'clients', 'update', created.clientId, '--require-par')).code, 0);
      assert.equal((await show()).requirePar, true);
      const both = await cli(env, 'clients', 'update', created.clientId, '--require-par', '--no-require-par');
      assert.equal(both.code, 2);
      assert.match(both.err, /either --require-par or --no-require-par/);
      const plain = JSON.parse((await cli(env, 'clients', 'create', '--name', 'Q', '--redirect-uri', 'https://q.example/cb', '--json')).out);
      assert.equal(JSON.parse((await cli(env, 'clients', 'show', plain.clientId, '--json')).out).requirePar, false, 'off by default');
    });

    test('clear errors and exit codes for bad input; nothing stored on failure', async () => {
      const before = JSON.parse((await cli(env, 'clients', 'list', '--json')).out).length;
      const cases: [string[], number, RegExp][] = [
        [['clients', 'create', '--redirect-uri', 'https://x.example/cb'], 2, /--name/],
        [['clients', 'create', '--name', 'x'], 2, /redirect-uri/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'http://evil.example/cb'], 4, /https/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'https://x.example/cb#frag'], 4, /fragment/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'not a url'], 4, /absolute/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'javascript:alert(1)'], 4, /not allowed/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'https://x.example/cb', '--primary-color', 'red'], 4, /primaryColor/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'https://x.example/cb', '--logo-url', 'http://cdn.example/l.png'], 4, /logoUrl/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'https://x.example/cb', '--theme', 'purple'], 4, /defaultTheme/],
        [['clients', 'create', '--name', '   ', '--redirect-uri', 'https://x.example/cb'], 4, /Name/],
        [['clients', 'create', '--name', 'x', '--redirect-uri', 'https://x.example/cb', '--bogus'], 2, /bogus/i],
        [['clients', 'show'], 2, /CLIENT_ID/],
        [['clients', 'show', 'nope'], 3, /No client/],
        [['clients', 'frobnicate', 'x'], 2, /Unknown clients command/],
        [['launch'], 2, /Unknown command/],
      ];
      for (const [args, code, message] of cases) {
        const r = await cli(env, ...args);
        assert.equal(r.code, code, `${args.join(' ')} → ${r.code}: ${r.err}`);
        assert.match(r.err, message, args.join(' '));
      }
      assert.equal(JSON.parse((await cli(env, 'clients', 'list', '--json')).out).length, before);
    });
  });
}

describe('the installed bin', { skip: existsSync(new URL('../../dist/src/cli/cli.js', import.meta.url)) ? false : 'dist/ not built: run npm run build' }, () => {
  test('npx almanac clients create/list through bin/almanac.js, with exit codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-bin-'));
    try {
      const run = promisify(execFile);
      const bin = new URL('../../bin/almanac.js', import.meta.url).pathname;
      const env = { ...process.env, ALMANAC_DATA_DIR: dir, NODE_OPTIONS: '' };
      const created = await run(process.execPath, [bin, 'clients', 'create', '--name', 'Bin', '--redirect-uri', 'https://bin.example/cb', '--json'], { env });
      assert.ok(JSON.parse(created.stdout).clientSecret);
      await assert.rejects(run(process.execPath, [bin, 'clients', 'show', 'missing'], { env }), (e: { code: number; stderr: string }) => e.code === 3 && /No client/.test(e.stderr));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
