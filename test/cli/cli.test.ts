/** The `almanac` CLI: in-process for every command, message and error path, and through the real bin. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../src/cli/cli.js';
import { loadConfig } from '../../src/config/config.js';
import { createRuntime } from '../../src/runtime.js';
import { dialects, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { TEST_SECRET } from '../support/server.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function cli(env: Record<string, string>, args: string[], answer?: string | null) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    // null: a terminal where nobody answers (EOF); undefined: no terminal at all (no ask()).
    ...(answer !== undefined ? { ask: async (q: string) => (asked.push(q), answer ?? undefined) } : {}),
  };
  const code = await runCli(args, io, env);
  return { code, out: out.join('\n'), err: err.join('\n'), asked };
}

describe('help and version', () => {
  const env = { ALMANAC_DATA_DIR: join(tmpdir(), 'almanac-never-created') };
  test('almanac --help, -h and help print the commands on stdout and exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await cli(env, [flag]);
      assert.equal(r.code, 0, flag);
      assert.match(r.out, /^Almanac: a self-hosted calendar API/);
      for (const command of ['serve', 'migrate', 'demo', 'clients']) assert.match(r.out, new RegExp(`\\n  ${command} `), `${flag} lists ${command}`);
      assert.equal(r.err, '');
    }
  });

  test('almanac --version and -v print the package version', async () => {
    for (const flag of ['--version', '-v', 'version']) {
      const r = await cli(env, [flag]);
      assert.equal(r.code, 0);
      assert.equal(r.out, `almanac ${VERSION}`);
    }
  });

  test('almanac clients --help prints the clients commands (not "takes exactly one CLIENT_ID")', async () => {
    for (const args of [['clients', '--help'], ['clients', '-h'], ['clients', 'help']]) {
      const r = await cli(env, args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out, /^Usage: almanac clients <command>/);
      for (const sub of ['create', 'list', 'show', 'update', 'rotate-secret', 'delete']) assert.match(r.out, new RegExp(`almanac clients ${sub}\\b`));
      assert.doesNotMatch(r.out + r.err, /exactly one CLIENT_ID/);
    }
    const bare = await cli(env, ['clients']);
    assert.equal(bare.code, 2, 'a bare `clients` is a usage error that still shows the help');
    assert.match(bare.out, /^Usage: almanac clients/);
  });

  test('a subcommand --help shows that subcommand only, without touching a database', async () => {
    const r = await cli(env, ['clients', 'delete', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: almanac clients delete CLIENT_ID \[--yes\]/);
    assert.doesNotMatch(r.out, /clients create/);
    const create = await cli(env, ['clients', 'create', '-h']);
    assert.match(create.out, /--redirect-uri URI/);
    assert.match(create.out, /Branding options/);
    for (const [args, pattern] of [
      [['serve', '--help'], /^Usage: almanac serve/],
      [['migrate', '--help'], /^Usage: almanac migrate/],
      [['demo', '--help'], /^Usage: almanac demo \[--rotate-secret\]/],
    ] as const) {
      const h = await cli(env, [...args]);
      assert.equal(h.code, 0, args.join(' '));
      assert.match(h.out, pattern);
    }
    assert.equal(existsSync(env.ALMANAC_DATA_DIR), false, 'help never opens (or creates) a database');
  });

  test('an unknown command or option prints the error and the right help on stderr, exit 2', async () => {
    const unknown = await cli(env, ['launch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^Error: Unknown command: launch\n\nAlmanac: a self-hosted/);
    const option = await cli(env, ['--frobnicate']);
    assert.equal(option.code, 2);
    assert.match(option.err, /^Error: Unknown option: --frobnicate/);
    const sub = await cli(env, ['clients', 'frobnicate', 'x']);
    assert.equal(sub.code, 2);
    assert.match(sub.err, /^Error: Unknown clients command: frobnicate\n\nUsage: almanac clients <command>/);
    const flag = await cli(env, ['clients', 'list', '--bogus']);
    assert.equal(flag.code, 2);
    assert.match(flag.err, /bogus[\s\S]*Usage: almanac clients list/);
    assert.equal(unknown.out + option.out + sub.out + flag.out, '', 'nothing on stdout');
  });
});

for (const { dialect, skip } of await dialects()) {
  describe(`CLI on ${dialect}`, { skip }, () => {
    let db: TestDatabase;
    let env: Record<string, string>;
    before(async () => {
      db = await createTestDatabase(dialect);
      // The CLI hashes client secrets under a key derived from ALMANAC_SECRET_KEY, as the server does.
      env = { ...db.env, ALMANAC_SECRET_KEY: TEST_SECRET };
    });
    after(async () => db?.drop());

    test('clients create --json prints only the id and the secrets; the client secret is stored hashed', async () => {
      const r = await cli(env, ['clients', 'create', '--name', 'My app', '--redirect-uri', 'https://app.example/cb', '--redirect-uri', 'http://localhost:5173/cb', '--display-name', 'My App', '--json']);
      assert.equal(r.code, 0, r.err);
      const parsed = JSON.parse(r.out) as { clientId: string; clientSecret: string };
      assert.deepEqual(Object.keys(parsed).sort(), ['clientId', 'clientSecret', 'webhookSecret']);
      const show = await cli(env, ['clients', 'show', parsed.clientId, '--json']);
      assert.equal(show.code, 0);
      const client = JSON.parse(show.out);
      assert.deepEqual(client.redirectUris, ['https://app.example/cb', 'http://localhost:5173/cb']);
      assert.equal(client.displayName, 'My App');
      assert.ok(!show.out.includes(parsed.clientSecret), 'show never prints the secret');
    });

    test('every command names the database it used (it is not ./data), on stderr; the PostgreSQL password is hidden', async () => {
      const r = await cli(env, ['clients', 'list', '--json']);
      assert.equal(r.code, 0);
      JSON.parse(r.out);
      if (dialect === 'sqlite') assert.equal(r.err, `Database: SQLite ${join(env.ALMANAC_DATA_DIR!, 'almanac.sqlite')}`);
      else {
        assert.match(r.err, /^Database: PostgreSQL postgres:\/\/[^\s]*127\.0\.0\.1:5432\/almanac_t_/);
        const withPassword = new URL(env.DATABASE_URL!);
        withPassword.password = 'hunter2-secret';
        const p = await cli({ ...env, DATABASE_URL: withPassword.toString() }, ['migrate']);
        assert.doesNotMatch(p.err, /hunter2/, 'the password is never printed');
        assert.match(p.err, /:\*\*\*@/);
      }
      const migrate = await cli(env, ['migrate']);
      assert.equal(migrate.code, 0);
      assert.match(migrate.err, /^Database: /);
    });

    test('list, update (redirect URIs, branding), rotate-secret', async () => {
      const created = JSON.parse((await cli(env, ['clients', 'create', '--name', 'B', '--redirect-uri', 'https://b.example/cb', '--json'])).out);
      const id = created.clientId as string;
      const list = await cli(env, ['clients', 'list', '--json']);
      assert.ok(JSON.parse(list.out).some((c: { clientId: string }) => c.clientId === id));
      const human = await cli(env, ['clients', 'list']);
      assert.match(human.out, new RegExp(id));
      const upd = await cli(env, ['clients', 'update', id, '--add-redirect-uri', 'https://b.example/two', '--primary-color', '#0B5FFF', '--theme', 'dark', '--hide-footer', '--support-contact', 'help@b.example', '--json']);
      assert.equal(upd.code, 0, upd.err);
      const u = JSON.parse(upd.out);
      assert.deepEqual(u.redirectUris, ['https://b.example/cb', 'https://b.example/two']);
      assert.deepEqual(u.branding, { primaryColor: '#0b5fff', defaultTheme: 'dark', hideFooter: true, supportContact: 'help@b.example' });
      const rot = await cli(env, ['clients', 'rotate-secret', id, '--json']);
      assert.equal(rot.code, 0);
      assert.notEqual(JSON.parse(rot.out).clientSecret, created.clientSecret);
    });

    test('clients delete says what it removes and asks; only "yes" (or --yes) deletes', async () => {
      // A client with one user, one connected account and one live token family.
      const runtime = await createRuntime(loadConfig({ ...env, ALMANAC_DEMO_CLIENT: 'false' }));
      let id: string;
      try {
        const { client } = await runtime.services.clients.create({ name: 'Doomed', redirectUris: ['https://d.example/cb'] });
        id = client.clientId;
        const user = await runtime.services.users.findOrCreate(id, 'user-1');
        await runtime.services.accounts.upsert({ userId: user.id, provider: 'caldav', accountId: 'me@cal.example', display: null, credentials: { kind: 'basic', serverUrl: 'https://cal.example', username: 'me', password: 'pw' }, grantedScopes: [], calendarPermissionGranted: true });
        const code = await runtime.services.tokens.issueCode({ clientId: id, userId: user.id, sessionId: 'cli-test-session', scope: 'read', redirectUri: 'https://d.example/cb', redirectUriExplicit: false, codeChallenge: null });
        await runtime.services.tokens.exchangeCode(client, { code });
      } finally {
        await runtime.close();
      }
      const what = new RegExp(`This deletes client ${id} \\("Doomed"\\) with 1 user, 1 connected account \\(their stored provider credentials\\) and 1 live token family`);

      const declined = await cli(env, ['clients', 'delete', id], 'no');
      assert.equal(declined.code, 1);
      assert.match(declined.err, what);
      assert.match(declined.asked[0] ?? '', /Type "yes" to confirm/);
      assert.match(declined.err, /Not deleted\./);
      assert.equal((await cli(env, ['clients', 'show', id])).code, 0, 'still there after "no"');

      const noTerminal = await cli(env, ['clients', 'delete', id]);
      assert.equal(noTerminal.code, 2);
      assert.match(noTerminal.err, /add --yes/);
      const eof = await cli(env, ['clients', 'delete', id], null);
      assert.equal(eof.code, 2);
      assert.equal((await cli(env, ['clients', 'show', id])).code, 0, 'still there without an answer');

      const yes = await cli(env, ['clients', 'delete', id], 'yes');
      assert.equal(yes.code, 0, yes.err);
      assert.match(yes.out, new RegExp(`^Deleted client ${id} \\("Doomed"\\) with 1 user, 1 connected account`));
      assert.equal((await cli(env, ['clients', 'show', id])).code, 3);

      const other = JSON.parse((await cli(env, ['clients', 'create', '--name', 'C', '--redirect-uri', 'https://c.example/cb', '--json'])).out).clientId as string;
      const scripted = await cli(env, ['clients', 'delete', other, '--yes', '--json']);
      assert.equal(scripted.code, 0);
      assert.deepEqual(JSON.parse(scripted.out), { clientId: other, deleted: true, removed: { users: 0, accounts: 0, liveTokenFamilies: 0 } });
      assert.equal((await cli(env, ['clients', 'delete', 'alm_missing', '--yes'])).code, 3);
    });

    test('almanac demo shows the demo client with a working secret; --rotate-secret replaces it', async () => {
      const demoEnv = { ...env, ALMANAC_PUBLIC_URL: 'http://localhost:4321' };
      const none = await cli(demoEnv, ['demo']);
      assert.equal(none.code, 3, 'no demo client (this database already has clients)');
      assert.match(none.err, /No demo client/);

      // What the server does on start, on a database without clients.
      const fresh = await createTestDatabase(dialect);
      const freshEnv = { ...fresh.env, ALMANAC_SECRET_KEY: TEST_SECRET, ALMANAC_PUBLIC_URL: 'http://192.168.1.20:4321' };
      try {
        const runtime = await createRuntime(loadConfig(freshEnv));
        let firstSecret: string;
        try {
          const ensured = await runtime.services.demoClients.ensure(runtime.config.publicUrl);
          assert.equal(ensured.kind, 'created', 'a plain-http LAN public URL is fine for the demo (it is Almanac itself)');
          firstSecret = ensured.kind === 'created' ? ensured.clientSecret : '';
        } finally {
          await runtime.close();
        }
        const shown = await cli(freshEnv, ['demo', '--json']);
        assert.equal(shown.code, 0, shown.err);
        const demo = JSON.parse(shown.out) as { clientId: string; clientSecret: string; redirectUri: string; authorizeUrl: string };
        assert.equal(demo.clientSecret, firstSecret, 'shown again: the same secret the first start printed');
        assert.equal(demo.redirectUri, 'http://192.168.1.20:4321/demo/callback');
        assert.equal(demo.authorizeUrl, `http://192.168.1.20:4321/api/oauth/authorize?response_type=code&client_id=${demo.clientId}&user_id=demo-user&scope=read-write&state=demo`);
        const human = await cli(freshEnv, ['demo']);
        assert.match(human.out, new RegExp(`client_secret: ${firstSecret}`));

        const rotated = JSON.parse((await cli(freshEnv, ['demo', '--rotate-secret', '--json'])).out) as { clientSecret: string };
        assert.notEqual(rotated.clientSecret, firstSecret);
        assert.equal(JSON.parse((await cli(freshEnv, ['demo', '--json'])).out).clientSecret, rotated.clientSecret);

        // Rotated behind its back: the kept copy no longer works, so it is not shown.
        assert.equal((await cli(freshEnv, ['clients', 'rotate-secret', demo.clientId])).code, 0);
        const stale = await cli(freshEnv, ['demo']);
        assert.equal(stale.code, 0);
        assert.match(stale.out, /client_secret: \(not known here: run `almanac demo --rotate-secret`/);
      } finally {
        await fresh.drop();
      }
    });

    test('--require-par on create and update, --no-require-par turns it off; shown by show', async () => {
      const created = JSON.parse((await cli(env, ['clients', 'create', '--name', 'P', '--redirect-uri', 'https://p.example/cb', '--require-par', '--json'])).out);
      const show = async () => JSON.parse((await cli(env, ['clients', 'show', created.clientId, '--json'])).out) as { requirePar: boolean };
      assert.equal((await show()).requirePar, true);
      assert.match((await cli(env, ['clients', 'show', created.clientId])).out, /requires pushed authorization requests/);
      const off = await cli(env, ['clients', 'update', created.clientId, '--no-require-par', '--json']);
      assert.equal(off.code, 0, off.err);
      assert.equal(JSON.parse(off.out).requirePar, false);
      assert.equal((await show()).requirePar, false);
      assert.doesNotMatch((await cli(env, ['clients', 'show', created.clientId])).out, /pushed/);
      assert.equal((await cli(env, ['clients', 'update', created.clientId, '--require-par'])).code, 0);
      assert.equal((await show()).requirePar, true);
      const both = await cli(env, ['clients', 'update', created.clientId, '--require-par', '--no-require-par']);
      assert.equal(both.code, 2);
      assert.match(both.err, /either --require-par or --no-require-par/);
      const plain = JSON.parse((await cli(env, ['clients', 'create', '--name', 'Q', '--redirect-uri', 'https://q.example/cb', '--json'])).out);
      assert.equal(JSON.parse((await cli(env, ['clients', 'show', plain.clientId, '--json'])).out).requirePar, false, 'off by default');
    });

    test('clear errors and exit codes for bad input; nothing stored on failure', async () => {
      const before = JSON.parse((await cli(env, ['clients', 'list', '--json'])).out).length;
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
        [['clients', 'show'], 2, /clients show takes exactly one CLIENT_ID\n\nUsage: almanac clients show/],
        [['clients', 'show', 'nope'], 3, /No client/],
        [['clients', 'list', 'extra'], 2, /Unexpected argument: extra/],
        [['demo', 'extra'], 2, /Unexpected argument: extra\n\nUsage: almanac demo/],
      ];
      for (const [args, code, message] of cases) {
        const r = await cli(env, args);
        assert.equal(r.code, code, `${args.join(' ')} → ${r.code}: ${r.err}`);
        assert.match(r.err, message, args.join(' '));
      }
      assert.equal(JSON.parse((await cli(env, ['clients', 'list', '--json'])).out).length, before);
    });
  });
}

describe('the installed bin', { skip: existsSync(new URL('../../dist/src/cli/cli.js', import.meta.url)) ? false : 'dist/ not built: run npm run build' }, () => {
  const run = promisify(execFile);
  const bin = new URL('../../bin/almanac.js', import.meta.url).pathname;

  test('npx almanac clients create/show through bin/almanac.js, with exit codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-bin-'));
    try {
      const env = { ...process.env, ALMANAC_DATA_DIR: dir, NODE_OPTIONS: '' };
      const created = await run(process.execPath, [bin, 'clients', 'create', '--name', 'Bin', '--redirect-uri', 'https://bin.example/cb', '--json'], { env });
      assert.ok(JSON.parse(created.stdout).clientSecret);
      assert.match(created.stderr, /Database: SQLite .*\(new: it did not exist yet\)/);
      await assert.rejects(run(process.execPath, [bin, 'clients', 'show', 'missing'], { env }), (e: { code: number; stderr: string }) => e.code === 3 && /No client/.test(e.stderr));
      // No terminal to ask: refuses instead of waiting for an answer that cannot come.
      const id = JSON.parse(created.stdout).clientId as string;
      await assert.rejects(run(process.execPath, [bin, 'clients', 'delete', id], { env, timeout: 20_000 }), (e: { code: number; stderr: string }) => e.code === 2 && /add --yes/.test(e.stderr));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--help, --version, clients --help and an unknown command exit with the right code and text', async () => {
    const env = { ...process.env, NODE_OPTIONS: '' };
    const help = await run(process.execPath, [bin, '--help'], { env });
    assert.match(help.stdout, /^Almanac: a self-hosted calendar API/);
    const version = await run(process.execPath, [bin, '--version'], { env });
    assert.equal(version.stdout.trim(), `almanac ${VERSION}`);
    const clients = await run(process.execPath, [bin, 'clients', '--help'], { env });
    assert.match(clients.stdout, /^Usage: almanac clients <command>/);
    await assert.rejects(run(process.execPath, [bin, 'frobnicate'], { env }), (e: { code: number; stdout: string; stderr: string }) => e.code === 2 && e.stdout === '' && /Unknown command: frobnicate[\s\S]*Commands:/.test(e.stderr));
  });
});
