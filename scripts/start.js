// `npm start`: runs the compiled server, compiling first only when src/ changed since
// the last build (a fresh `npm install` has just built it, so a first start does not).
import { buildServer, isBuildCurrent } from './build-state.js';

if (!isBuildCurrent()) {
  console.log('Compiling Almanac: src/ changed since the last build…');
  try {
    buildServer();
  } catch (err) {
    console.error(`Cannot start: ${err.message}`);
    process.exit(1);
  }
}
const { serve } = await import('../dist/src/main.js');
await serve();
