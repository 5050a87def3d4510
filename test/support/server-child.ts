/**
 * Almanac as a child process, for tests that must kill a server hard (kill -9): reads
 * its settings from the environment like `npm start`, prints `listening <url>` once up.
 */
import { loadConfig } from '../../src/config/config.js';
import { createRuntime } from '../../src/runtime.js';

const config = loadConfig();
const runtime = await createRuntime(config);
const url = await runtime.app.listen({ port: config.port, host: config.host });
process.stdout.write(`listening ${url}\n`);
