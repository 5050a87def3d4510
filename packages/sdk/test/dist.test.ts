// Builds the package the way `npm run build` does, into a throwaway node_modules,
// then loads it by name with require() and import() in fresh Node processes and
// type-checks a CommonJS and an ES module consumer against the shipped .d.ts files.
// That exercises the `exports` map, the CommonJS marker and the declarations, which
// the source-level tests (run through tsx) cannot see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

function run(args: string[], cwd: string): string {
  return execFileSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

const checks = `
  const client = new sdk.AlmanacClient({ baseUrl: 'https://a.example/api', clientId: 'i', clientSecret: 's', redirectUri: 'https://b.example/cb' });
  const url = client.auth.generateAuthUrl({ userId: 'u' });
  if (!url.startsWith('https://a.example/api/oauth/authorize?')) throw new Error('bad url ' + url);
  if (sdk.MobiscrollConnectClient !== sdk.AlmanacClient) throw new Error('alias');
  if (!(new sdk.RateLimitError('x', 1) instanceof sdk.MobiscrollConnectError)) throw new Error('instanceof');
  if (sdk.ProviderEnum.Google !== 'google') throw new Error('enum');
`;

test('the built CommonJS and ES module entry points load by package name, with types', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'almanac-sdk-dist-'));
  try {
    const installed = join(root, 'node_modules', '@almanac', 'sdk');
    mkdirSync(installed, { recursive: true });
    cpSync(join(pkgDir, 'package.json'), join(installed, 'package.json'));
    run([tsc, '-p', join(pkgDir, 'tsconfig.esm.json'), '--outDir', join(installed, 'dist', 'esm')], pkgDir);
    run([tsc, '-p', join(pkgDir, 'tsconfig.cjs.json'), '--outDir', join(installed, 'dist', 'cjs')], pkgDir);
    run([join(pkgDir, 'scripts', 'fix-cjs.js'), join(installed, 'dist', 'cjs')], pkgDir);

    for (const file of ['esm/index.js', 'esm/index.d.ts', 'cjs/index.js', 'cjs/index.d.ts', 'cjs/package.json']) {
      assert.ok(existsSync(join(installed, 'dist', file)), `dist/${file} exists`);
    }

    const cjs = run(
      ['-e', `const sdk = require('@almanac/sdk'); ${checks} console.log(require.resolve('@almanac/sdk'));`],
      root,
    );
    assert.match(cjs.trim(), /dist[\\/]cjs[\\/]index\.js$/);

    const esm = run(
      ['--input-type=module', '-e', `import * as sdk from '@almanac/sdk'; ${checks} console.log(import.meta.resolve('@almanac/sdk'));`],
      root,
    );
    assert.match(esm.trim(), /dist\/esm\/index\.js$/);

    // Consumers of either module system get declarations through the `types` conditions.
    const consumer = `
      const client = new MobiscrollConnectClient({ baseUrl: 'https://a.example/api', clientId: 'i', clientSecret: 's', redirectUri: 'r' });
      client.on('tokens', (t: TokenResponse) => void t.refresh_token);
      export const pending: Promise<EventsListResponse> = client.events.list({ calendarIds: { google: ['x'] } });
    `;
    writeFileSync(
      join(root, 'esm-consumer.mts'),
      `import { MobiscrollConnectClient } from '@almanac/sdk';\nimport type { TokenResponse, EventsListResponse } from '@almanac/sdk';\n${consumer}`,
    );
    writeFileSync(
      join(root, 'cjs-consumer.cts'),
      `import { MobiscrollConnectClient } from '@almanac/sdk';\nimport type { TokenResponse, EventsListResponse } from '@almanac/sdk';\n${consumer}`,
    );
    writeFileSync(
      join(root, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], strict: true, noEmit: true },
        files: ['esm-consumer.mts', 'cjs-consumer.cts'],
      }),
    );
    run([tsc, '-p', join(root, 'tsconfig.json')], root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the package dist/ from `npm run build`, when present, loads with require() and import()', async (t) => {
  const esmEntry = join(pkgDir, 'dist', 'esm', 'index.js');
  const cjsEntry = join(pkgDir, 'dist', 'cjs', 'index.js');
  if (!existsSync(esmEntry) || !existsSync(cjsEntry)) {
    t.skip('dist/ not built; run `npm run build --workspace packages/sdk`');
    return;
  }
  const cjs = require(cjsEntry) as Record<string, unknown>;
  const esm = (await import(esmEntry)) as Record<string, unknown>;
  for (const mod of [cjs, esm]) {
    assert.equal(typeof mod.AlmanacClient, 'function');
    assert.equal(mod.MobiscrollConnectClient, mod.AlmanacClient);
  }
});
