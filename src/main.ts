/** `npm start`: load config → build the runtime → listen; graceful shutdown on signals. */
import { loadConfig, ConfigError } from './config/config.js';
import { createRuntime } from './runtime.js';
import { ensureDemoClient } from './demo/demo-client.js';

export async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const runtime = await createRuntime(config);
  const address = await runtime.app.listen({ port: config.port, host: config.host });
  const storageLabel = runtime.storage.dialect === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL';
  console.log(`Almanac listening on ${address} (public URL ${config.publicUrl}, storage: ${storageLabel}${config.redisUrl ? ', rate limits in Redis' : ''})`);
  console.log(`API docs: ${config.publicUrl}/api/docs`);
  if (config.demoClient) await ensureDemoClient(runtime, console.log);
  await runtime.startBackground();

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal} received, closing`);
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

// Run when executed directly (npm start), not when imported by the CLI.
if (import.meta.url === `file://${process.argv[1]}`) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
