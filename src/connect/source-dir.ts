/**
 * Where the connect pages' non-TypeScript files (catalogs, CSS, JS) are on disk.
 *
 * tsc compiles `src/**.ts` to `dist/src/**.js` but copies no `.json`, `.css` or `.js`
 * asset (it only emits a `.json` that some module imports, which would give dist a
 * partial, stale set of catalogs). So a module that runs from `dist/src/connect/...`
 * reads its assets from the mirror folder under the repository's `src/`, and a module
 * run from `src/` by tsx reads them next to itself. The repository is the deployment
 * unit (`npm start` builds then runs `dist/src/main.js` in place), so `src/` is there.
 */
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory `relative` to the calling module (`import.meta.url`), preferring the
 * `src/` mirror when the module runs from `dist/src/` and the mirror holds `probe`.
 */
export function assetDirectory(moduleUrl: string, relative: string, probe: string): string {
  const here = fileURLToPath(new URL(relative, moduleUrl));
  const marker = `${sep}dist${sep}src${sep}`;
  const at = here.lastIndexOf(marker);
  if (at >= 0) {
    const mirror = `${here.slice(0, at)}${sep}src${sep}${here.slice(at + marker.length)}`;
    if (existsSync(`${mirror.replace(/[\\/]$/, '')}${sep}${probe}`)) return mirror;
  }
  return here;
}
