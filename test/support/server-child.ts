/**
 * Almanac as a child process, for tests that must kill a server hard (kill -9): reads
 * its settings from the environment like `npm start`, prints `listening <url>` once up.
 */
import { loadConfig } from '../../src/config/config.js';
import { createRuntime } from '../../src/runtime.js';

const config = loadConfig();
// ALMANAC_TEST_SYNC=1 runs the sync worker with the fast ticks and short leases the in-process test servers use.
const sync = process.env.ALMANAC_TEST_SYNC === '1';
const runtime = await createRuntime(config, sync ? { syncTuning: { tickMs: 50, leaseMs: 3_000 }, webhookTuning: { tickMs: 50, leaseMs: 3_000 } } : {});
const url = await runtime.app.listen({ port: config.port, host: config.host });
if (sync) await runtime.startBackground();
process.stdout.write(`listening ${url}\n`);
