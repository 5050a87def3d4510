/** Starts a real Almanac on a free port (real socket) over a test database. */
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const TEST_SECRET = 'test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz';

export interface TestServer {
  url: string;
  runtime: Runtime;
  db: TestDatabase;
  /** Every log line the server wrote (for secret-leak assertions). */
  logs: string[];
  createClient(opts?: { redirectUris?: string[]; displayName?: string; branding?: Record<string, unknown> }): Promise<{ clientId: string; clientSecret: string; redirectUri: string }>;
  close(): Promise<void>;
}

export interface StartOptions {
  dialect?: 'sqlite' | 'postgres';
  env?: Record<string, string>;
  db?: TestDatabase;
  /** Run the sync worker (fast ticks, short leases); off by default so provider traffic stays what a test sends. */
  sync?: boolean;
  /**
   * Listen there with the public URL http://127.0.0.1:<port> (pages that print the
   * server's own URL, like the demo callback, need the real one); otherwise a free port.
   */
  port?: number;
  /**
   * The worker's pace: `fast` (default) ticks every 50 ms with short leases; `production`
   * keeps the server's own defaults, for timings a deployment would see.
   */
  pace?: 'fast' | 'production';
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const db = options.db ?? (await createTestDatabase(options.dialect ?? 'sqlite'));
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // Port 0 first to learn a free port, then the public URL must match it: listen, then patch.
  const port = options.port ?? 0;
  const env = {
    ALMANAC_SECRET_KEY: TEST_SECRET,
    ALMANAC_DEMO_CLIENT: 'false',
    ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'info',
    PORT: String(port),
    ...(options.port ? { ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}` } : {}),
    ...db.env,
    ...options.env,
  };
  const config = loadConfig(env);
  const fast = { tickMs: 50, leaseMs: 5_000 };
  const runtime = await createRuntime(config, { logStream, ...(options.pace === 'production' ? {} : { syncTuning: fast, webhookTuning: fast }) });
  const address = await runtime.app.listen({ port, host: '127.0.0.1' });
  if (options.sync) await runtime.startBackground();
  const server: TestServer = {
    url: address,
    runtime,
    db,
    logs,
    async createClient(opts = {}) {
      const redirectUris = opts.redirectUris ?? ['https://app.example/callback'];
      const { client, clientSecret } = await runtime.services.clients.create({ name: 'Test app', displayName: opts.displayName ?? 'Test App', redirectUris, branding: opts.branding });
      return { clientId: client.clientId, clientSecret, redirectUri: redirectUris[0]! };
    },
    async close() {
      await runtime.close();
      if (!options.db) await db.drop();
    },
  };
  return server;
}
