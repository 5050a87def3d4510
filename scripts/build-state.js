// Whether dist/ was compiled from the sources as they are now, so `npm start` and the
// `almanac` bin can skip the TypeScript build (the slow part of a first start) when
// nothing changed. The build writes a stamp: a SHA-256 over the compiler's inputs.
// Content, not mtimes: a fresh clone or `git checkout` touches every file.
// Plain JavaScript with no dependencies, so it runs before anything is built and on
// installs without the TypeScript compiler (`npm ci --omit=dev` with a prebuilt dist/).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist', '.build-stamp');
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];

function sources(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** SHA-256 over the server's TypeScript sources and compiler settings (paths and contents). */
export function sourceHash() {
  const hash = createHash('sha256');
  // A missing config hashes differently from a present one: the build then counts as stale.
  const files = [...sources(join(ROOT, 'src'), []), ...CONFIGS.map((c) => join(ROOT, c)).filter((f) => existsSync(f))].sort();
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/** True when dist/ holds a build of exactly the current sources. */
export function isBuildCurrent() {
  if (!existsSync(join(ROOT, 'dist', 'src', 'main.js')) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, 'utf8').trim() === sourceHash();
}

export function writeStamp() {
  writeFileSync(STAMP, `${sourceHash()}\n`);
}

/** Compiles the server (not the SDK or examples: the server does not need them) and stamps it. */
export function buildServer() {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    throw new Error('dist/ is missing or older than src/, and the TypeScript compiler is not installed: run `npm install` (with dev dependencies) or `npm run build` where it is');
  }
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  if (result.status !== 0) throw new Error(`the TypeScript build failed (exit code ${result.status ?? result.signal})`);
  writeStamp();
}

// `node scripts/build-state.js stamp` after a build; `… check` exits 1 when a build is needed.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const command = process.argv[2];
  if (command === 'stamp') writeStamp();
  else if (command === 'check') process.exit(isBuildCurrent() ? 0 : 1);
  else {
    console.error('usage: node scripts/build-state.js stamp|check');
    process.exit(2);
  }
}
