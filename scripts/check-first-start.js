// The newcomer's first hour, checked: after `npm ci` (which builds once), `npm start` must
// answer GET /api/health within a bound without compiling again, and stop cleanly on SIGTERM.
// With --clone it does so in a fresh `git clone` of HEAD, `npm ci` included (timed).
// Usage: node scripts/check-first-start.js [--clone] [--bound-seconds N]   (run by .ci/run)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const clone = args.includes('--clone');
const boundIndex = args.indexOf('--bound-seconds');
const boundSeconds = boundIndex >= 0 ? Number(args[boundIndex + 1]) : 30;
const here = fileURLToPath(new URL('..', import.meta.url));

function fail(message) {
  console.error(`first start: FAILED: ${message}`);
  process.exit(1);
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'almanac-first-start-'));
let root = here;
try {
  if (clone) {
    root = join(scratch, 'almanac');
    const cloned = spawnSync('git', ['clone', '--quiet', here, root], { stdio: 'inherit' });
    if (cloned.status !== 0) fail('git clone failed');
    const started = Date.now();
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: root, encoding: 'utf8' });
    if (ci.status !== 0) fail(`npm ci failed:\n${ci.stdout}\n${ci.stderr}`);
    const lines = `${ci.stdout}\n${ci.stderr}`.split('\n');
    const engine = lines.filter((l) => /EBADENGINE/.test(l));
    if (engine.length > 0) fail(`a dependency does not support this Node version:\n${engine.join('\n')}`);
    const warnings = lines.filter((l) => /npm warn/i.test(l));
    console.log(`first start: npm ci in a fresh clone took ${((Date.now() - started) / 1000).toFixed(1)} s, ${warnings.length === 0 ? 'without warnings' : `warnings:\n${warnings.join('\n')}`}`);
  }
  const stamp = spawnSync(process.execPath, ['scripts/build-state.js', 'check'], { cwd: root });
  if (stamp.status !== 0) fail('npm ci left no current build (dist/.build-stamp)');
  const builtAt = statSync(join(root, 'dist', 'src', 'main.js')).mtimeMs;

  const port = await freePort();
  const started = Date.now();
  // Its own process group, so the check can stop npm and the server it started, and nothing else.
  const child = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ALMANAC_DATA_DIR: join(scratch, 'data'), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

  let answered = false;
  while (Date.now() - started < boundSeconds * 1000 && child.exitCode === null) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200 && (await res.json()).status === 'ok') {
        answered = true;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const tookMs = Date.now() - started;
  // The startup lines follow the first answer by a moment (the demo client is made after listening).
  for (let i = 0; i < 50 && answered && !/Try the flow:.*\n.*\n/.test(output); i += 1) await new Promise((r) => setTimeout(r, 100));
  process.kill(-child.pid, 'SIGTERM');
  let timer;
  const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 30_000)))]);
  clearTimeout(timer);
  if (code === 'timeout') process.kill(-child.pid, 'SIGKILL');

  if (!answered) fail(`no answer from /api/health within ${boundSeconds} s:\n${output}`);
  if (/Compiling Almanac/.test(output) || statSync(join(root, 'dist', 'src', 'main.js')).mtimeMs !== builtAt) fail(`npm start compiled again:\n${output}`);
  if (!/First run: created a demo client/.test(output)) fail(`the first start printed no demo client:\n${output}`);
  if (code === 'timeout') fail('npm start did not stop within 30 s of SIGTERM');
  console.log(`first start: npm start answered /api/health after ${(tookMs / 1000).toFixed(1)} s (bound ${boundSeconds} s), without compiling; SIGTERM → exit ${code}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
