// Runs every *.test.ts under test/, packages/*/test and examples/*/test with node's
// own test runner. Files run in parallel (they are I/O bound: sockets, databases,
// Radicale, Chromium); each file isolates its own ports and databases.
// Usage: npm test [-- <substring> ...]   only files whose path contains a substring.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const root = new URL('..', import.meta.url).pathname;
const roots = ['test'];
for (const group of ['packages', 'examples']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) roots.push(join(group, name, 'test'));
}

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => collect(join(root, r), []))
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Child processes inherit this: TypeScript test files load through tsx.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim();
process.env.ALMANAC_TEST = '1';

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 4);
let failed = false;
const stream = run({ files, concurrency, timeout: 10 * 60_000 });
stream.on('test:fail', (event) => {
  // Todo/skip are not failures; a failing file-level test is.
  if (!event.todo && !event.skip) failed = true;
});
stream.compose(spec).pipe(process.stdout);
stream.on('end', () => {
  process.exitCode = failed ? 1 : 0;
});
