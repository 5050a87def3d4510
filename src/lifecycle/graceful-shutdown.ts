/**
 * SIGTERM (and SIGINT): report draining so load balancers stop sending work, stop
 * accepting connections and claiming background jobs, let requests and jobs in flight
 * finish within a bound (then close the connections; unfinished jobs resume on another
 * instance when their lease ends), close Redis and the database, flush the logs within
 * a bound, exit. A second signal exits at once; a watchdog exits if any step hangs.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Readiness } from '../api/health.route.js';
import type { LogDestination } from '../http/log-destination.js';

export interface ShutdownDeps {
  app: FastifyInstance;
  readiness: Readiness;
  /** Stops background work (the sync schedule), waiting at most the given time for jobs in flight. */
  stopBackground(graceMs: number): Promise<void>;
  /** Closes what outlives the HTTP server and background work (rate-limit store, storage). */
  closeResources(): Promise<void>;
  /** The process's log destination, flushed last (absent when logs go elsewhere). */
  logs?: LogDestination;
  log: FastifyBaseLogger;
  /** How long requests in flight may take before their connections are closed. */
  timeoutMs: number;
  exit(code: number): void;
}

const RESOURCE_CLOSE_MS = 5000;
const LOG_FLUSH_MS = 1000;

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createShutdown(deps: ShutdownDeps): (signal: string) => Promise<void> {
  let closing = false;
  return async function shutdown(signal: string): Promise<void> {
    const { app, log } = deps;
    if (closing) {
      log.warn({ signal }, 'second signal during shutdown: exiting now');
      deps.exit(1);
      return;
    }
    closing = true;
    // Whatever hangs below (a driver, a stuck pipe), the process still ends.
    const watchdog = setTimeout(() => deps.exit(1), deps.timeoutMs + RESOURCE_CLOSE_MS + LOG_FLUSH_MS + 2000);
    watchdog.unref();
    deps.readiness.startDraining();
    log.info({ signal, timeoutMs: deps.timeoutMs }, 'shutting down: no new connections; finishing the requests in flight');

    let forced = false;
    // A keep-alive connection that goes idle after its last response would hold the
    // listener open until the client drops it: close such connections as they go idle.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    const force = setTimeout(() => {
      forced = true;
      log.warn({ timeoutMs: deps.timeoutMs }, 'requests still running at the shutdown deadline: closing their connections');
      app.server.closeAllConnections();
    }, deps.timeoutMs);
    const background = deps.stopBackground(deps.timeoutMs).catch((err: unknown) => {
      log.error({ err }, 'stopping background work failed');
      forced = true;
    });
    try {
      await app.close();
    } catch (err) {
      log.error({ err }, 'closing the HTTP server failed');
      forced = true;
    } finally {
      clearTimeout(force);
      clearInterval(sweep);
    }
    await background;

    try {
      if ((await within(deps.closeResources(), RESOURCE_CLOSE_MS)) === 'timeout') {
        log.warn('closing the database or Redis took too long: exiting anyway');
        forced = true;
      }
    } catch (err) {
      log.error({ err }, 'closing the database or Redis failed');
      forced = true;
    }
    log.info({ clean: !forced }, 'shutdown complete');
    await deps.logs?.close(LOG_FLUSH_MS);
    deps.exit(forced ? 1 : 0);
  };
}
