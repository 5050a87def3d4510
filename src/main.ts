/**
 * `npm start` / `almanac serve`: load config → build the runtime → listen → say where
 * and how to try it; graceful shutdown on SIGTERM/SIGINT. Every way this can fail at
 * start is one line on stderr and a non-zero exit, never a stack trace.
 */
import { join } from 'node:path';
import { loadConfig, ConfigError, type Config } from './config/config.js';
import { appVersion } from './config/app-version.js';
import { createRuntime, type Runtime } from './runtime.js';
import { createLogDestination } from './http/log-destination.js';
import { createShutdown } from './lifecycle/graceful-shutdown.js';
import { describeListenError } from './lifecycle/listen-error.js';
import { startupBanner } from './lifecycle/startup-banner.js';
import { describeDatabase } from './storage/db.js';
import { SECRET_KEY_FILE } from './config/secret-key.js';

/**
 * A reader that went away (EPIPE) must not take the server down: the lost lines are
 * only lines. Node otherwise raises it as an uncaught 'error' on process.stdout.
 */
function ignoreBrokenPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function loadOrFail(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`Configuration error: ${err.message}`, 2);
    throw err;
  }
}

async function runtimeOrFail(config: Config, logStream: NodeJS.WritableStream): Promise<Runtime> {
  try {
    return await createRuntime(config, { logStream, processMetrics: true });
  } catch (err) {
    if (err instanceof ConfigError) fail(`Configuration error: ${err.message}`, 2);
    fail(`Cannot start: ${(err as Error).message}`);
  }
}

export async function serve(): Promise<void> {
  ignoreBrokenPipes();
  const config = loadOrFail();
  const logs = createLogDestination();
  const runtime = await runtimeOrFail(config, logs.stream);
  const { app } = runtime;

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await runtime.close().catch(() => undefined);
    const line = describeListenError(err, config.host, config.port);
    fail(line ?? `Cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }

  const address = app.server.address();
  const listening = typeof address === 'object' && address ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  const demo = config.demoClient ? await runtime.services.demoClients.ensure(config.publicUrl) : ({ kind: 'none' } as const);
  for (const line of startupBanner({
    version: appVersion(),
    listening,
    publicUrl: config.publicUrl,
    database: describeDatabase(config),
    keyFile: config.secretKey ? undefined : join(config.dataDir, SECRET_KEY_FILE),
    redis: Boolean(config.redisUrl),
    demo,
    allowPrivateNetworks: config.allowPrivateNetworks,
  })) {
    say(line);
  }

  await runtime.startBackground();

  const shutdown = createShutdown({
    app,
    readiness: runtime.readiness,
    stopBackground: runtime.stopBackground,
    closeResources: runtime.closeResources,
    logs,
    log: app.log,
    timeoutMs: config.shutdownTimeoutMs,
    exit: (code) => process.exit(code),
  });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

// Run when executed directly (`node dist/src/main.js`), not when imported by the CLI or scripts/start.js.
if (import.meta.url === `file://${process.argv[1]}`) {
  serve().catch((err: unknown) => fail(`Cannot start: ${(err as Error).message}`));
}
