// The package is "type": "module", so Node would load dist/cjs/*.js as ESM. A nested
// package.json flips that directory back to CommonJS, which lets the CJS build keep
// the same ".js" file names (and the same relative require paths) as the ESM build.
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? fileURLToPath(new URL('../dist/cjs', import.meta.url));
if (!existsSync(join(dir, 'index.js'))) {
  throw new Error(`fix-cjs: ${dir}/index.js not found; run the CommonJS tsc build first`);
}
writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
