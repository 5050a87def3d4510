#!/usr/bin/env node
// Entry point for `npx almanac`: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isBuildCurrent } from '../scripts/build-state.js';

const entry = new URL('../dist/src/cli/cli.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('Almanac is not built yet: run `npm install` (or `npm run build`) first.');
  process.exit(1);
}
// A stale build still runs (the CLI must work on installs without the compiler), but says so.
if (!isBuildCurrent()) console.error('Note: dist/ is older than src/; run `npm run build` to use the current sources.');

const io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  // Questions need a person at a terminal; scripts confirm with flags (--yes) instead.
  ask(question) {
    if (!process.stdin.isTTY) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      let answer;
      rl.once('line', (line) => {
        answer = line;
        rl.close();
      });
      rl.once('close', () => resolve(answer));
      process.stderr.write(question);
    });
  },
};
const { runCli } = await import(entry.href);
const result = await runCli(process.argv.slice(2), io);
// `serve` keeps running until a signal; every other command exits with its code.
if (result !== 'serving') process.exit(result);
