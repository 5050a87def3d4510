#!/usr/bin/env node
// Entry point for `npx almanac`: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/cli.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('Almanac is not built yet: run `npm install` (or `npm run build`) first.');
  process.exit(1);
}
const { runCli } = await import(entry.href);
const code = await runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
// `serve` keeps running; every other command exits with its code.
if (process.argv[2] !== 'serve') process.exit(code);
