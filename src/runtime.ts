/**
 * Everything a running Almanac needs, assembled from a Config: key, storage (migrated),
 * rate-limit store, providers, pages, metrics, readiness checks, the app. main.ts, the
 * CLI and the tests share it.
 */
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, type Config } from './config/config.js';
import { loadOrCreateSecretKey } from './config/secret-key.js';
import { deriveKeys, type Keys } from './crypto/keys.js';
import { createHtmlPages } from './connect/html-pages.js';
import { MemoryRateLimitStore, type RateLimitStore } from './http/rate-limiter.js';
import { RedisFallbackStore } from './http/redis-fallback-store.js';
import { buildProviderRegistry } from './providers/build-registry.js';
import { createServices, type Services } from './services.js';
import { Readiness, type ReadinessCheck } from './api/health.route.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { describeDatabase, migrateToLatest, openStorage, type Storage } from './storage/db.js';
import { AccountContexts } from './application/account-contexts.js';
import { SyncEngine } from './sync/sync-engine.js';
import { PushChannelKeeper, PUSH_CHANNEL_TTL_MS } from './sync/push-channel-keeper.js';
import { randomToken } from './crypto/secret-hash.js';
import { Webhooks } from './webhooks/webhooks.js';

/** How long a start waits for Redis before serving (then rate limits count in memory until it comes). */
const REDIS_CONNECT_WAIT_MS = 2000;

/** How often expired pending connections, pushed requests and codes are deleted when no write path did it. */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface Runtime {
  config: Config;
  keys: Keys;
  storage: Storage;
  services: Services;
  app: FastifyInstance;
  sync: SyncEngine;
  webhooks: Webhooks;
  metrics: Metrics;
  readiness: Readiness;
  /** Starts the background work this instance's role includes (the sync schedule). */
  startBackground(): Promise<void>;
  /** Stops background work: no new sync jobs; running ones get up to `graceMs`, the rest resume elsewhere after their lease. */
  stopBackground(graceMs?: number): Promise<void>;
  /** Closes what outlives the HTTP server and background work: the rate-limit store and storage. */
  closeResources(): Promise<void>;
  /** stopBackground(), app.close() (waits for requests in flight), then closeResources(). */
  close(): Promise<void>;
}

export function resolveSecret(config: Config): string {
  if (config.secretKey) return config.secretKey;
  // Several instances share one database: they must share the key too, so it cannot be generated per machine.
  if (config.databaseUrl) throw new ConfigError('ALMANAC_SECRET_KEY is required when DATABASE_URL is set');
  return loadOrCreateSecretKey(config.dataDir).key;
}

/** The database could not be opened or migrated; the message names which one (never its password). */
export class StorageUnavailableError extends Error {
  constructor(config: Pick<Config, 'databaseUrl' | 'dataDir'>, cause: unknown) {
    super(`${describeDatabase(config)} could not be opened: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

export async function openStorageMigrated(config: Config): Promise<Storage> {
  let storage: Storage;
  try {
    storage = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  } catch (err) {
    throw new StorageUnavailableError(config, err);
  }
  try {
    await migrateToLatest(storage);
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw new StorageUnavailableError(config, err);
  }
  return storage;
}

function createRateLimitStore(config: Config): RateLimitStore {
  if (!config.redisUrl) return new MemoryRateLimitStore();
  // Fail fast on a dead or hung Redis (no queue, no retries, a short timeout) and keep
  // reconnecting in the background; RedisFallbackStore counts in memory meanwhile.
  return new RedisFallbackStore(
    new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 300,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    }),
  );
}

export interface RuntimeOptions {
  /** A pino destination (tests collect log lines; the server passes its own stdout writer). */
  logStream?: NodeJS.WritableStream;
  /** Faster sync ticks and shorter leases, for tests. */
  syncTuning?: { tickMs?: number; leaseMs?: number };
  /** Faster delivery ticks and shorter leases, for tests. */
  webhookTuning?: { tickMs?: number; leaseMs?: number };
  /** Export process-wide metrics (CPU, memory, event loop): the real server, once per process. */
  processMetrics?: boolean;
}

function readinessChecks(storage: Storage, rateLimitStore: RateLimitStore): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [{ name: 'database', critical: true, check: async () => void (await sql`select 1`.execute(storage.db)) }];
  const ping = rateLimitStore.ping?.bind(rateLimitStore);
  if (ping) checks.push({ name: 'redis', critical: false, check: ping });
  return checks;
}

/**
 * The sync worker is healthy while it runs and its ticks complete. It decides readiness
 * only for a worker-only instance: an `all` instance still serves the API when its
 * worker stalls, and other instances' workers take over its jobs after their leases.
 */
function workerCheck(sync: SyncEngine, critical: boolean, tickMs: number): ReadinessCheck {
  const stalledAfterMs = Math.max(30_000, 10 * tickMs);
  return {
    name: 'worker',
    critical,
    async check() {
      const { running, lastTickAt } = sync.worker.status();
      if (!running) throw new Error('the sync worker is stopped');
      if (lastTickAt === undefined || Date.now() - lastTickAt > stalledAfterMs) throw new Error(`no sync tick completed in the last ${stalledAfterMs} ms`);
    },
  };
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const keys = deriveKeys(resolveSecret(config));
  const storage = await openStorageMigrated(config);
  const services = createServices(config, storage, keys);
  const rateLimitStore = createRateLimitStore(config);
  await rateLimitStore.connected?.(REDIS_CONNECT_WAIT_MS);
  const { registry, userServerFetch, google, microsoft } = buildProviderRegistry(config);
  const metrics = createMetrics({ processMetrics: options.processMetrics });
  const observe = (provider: string, outcome: string, seconds: number) => {
    metrics.providerCalls.inc({ provider, outcome });
    metrics.providerDuration.observe({ provider }, seconds);
  };
  // Checks run on requests only, so `app` exists by the time a failure is logged.
  const readiness = new Readiness(readinessChecks(storage, rateLimitStore), (name, err) => app.log.warn({ check: name, err }, 'readiness check failed'));
  // The engine needs the app's logger and the app needs to wake the engine: bound after both exist.
  const engine: { current?: SyncEngine } = {};
  const syncSoon = async (accountId: string) => {
    await engine.current?.syncSoon(accountId);
  };
  const contexts = new AccountContexts(services.accounts, registry, observe);
  const push = new PushChannelKeeper({
    channels: services.pushChannels,
    contexts,
    registry,
    settings: {
      // Providers deliver to https addresses only.
      enabled: config.sync.push && config.publicUrl.startsWith('https://'),
      publicUrl: config.publicUrl,
      ttlMs: PUSH_CHANNEL_TTL_MS,
      // Renewed well before it lapses: a few safety-net polls, and never later than an hour before.
      renewBeforeMs: Math.max(3 * config.sync.pushedPollMs, 3_600_000),
    },
    newToken: () => randomToken(),
    now: Date.now,
    // Bound once the webhooks exist (they need the app's logger, the app needs the keeper).
    renewal: (accountId, calendarId, renewed) => webhooks.notifier.pushRenewal(accountId, calendarId, renewed),
  });
  const stopPush = (account: Parameters<PushChannelKeeper['stopForAccount']>[0]) => push.stopForAccount(account, app.log);
  const app = await buildApp({ config, keys, services, rateLimitStore, registry, userServerFetch, google, microsoft, pages: createHtmlPages(keys.cookies), syncSoon, stopPush, logStream: options.logStream, metrics, readiness });
  const webhooks = new Webhooks({
    config: config.webhooks,
    allowPrivateNetworks: config.allowPrivateNetworks,
    repo: services.webhooks,
    clients: services.clientsRepo,
    mirror: services.mirror,
    signingSeed: keys.webhookSigningSeed,
    log: app.log,
    observe: { outcome: (outcome) => metrics.webhookDeliveries.inc({ outcome }), pending: (count) => metrics.webhookQueueDepth.set(count) },
    ...options.webhookTuning,
  });
  const sync = new SyncEngine({
    config: config.sync,
    storage,
    repos: services,
    contexts,
    registry,
    push,
    log: app.log,
    observer: webhooks.notifier,
    ...options.syncTuning,
  });
  engine.current = sync;
  // CalDAV accounts stored before accounts had an identity: their server is in the sealed credentials.
  const legacy = await services.accounts.upgradeLegacyIdentities();
  if (legacy.skipped > 0) app.log.warn({ upgraded: legacy.upgraded, skipped: legacy.skipped }, 'some CalDAV accounts keep a legacy identity (unreadable credentials or a duplicate)');
  services.housekeeping.start(HOUSEKEEPING_INTERVAL_MS, (err) => app.log.warn({ err: (err as Error).message }, 'housekeeping sweep failed; the next one retries'));
  const closeResources = async () => {
    await rateLimitStore.close?.();
    await storage.close();
  };
  const stopBackground = async (graceMs?: number) => {
    services.housekeeping.stop();
    await Promise.all([sync.stop(graceMs), webhooks.stop(graceMs)]);
  };
  return {
    config,
    keys,
    storage,
    services,
    app,
    sync,
    webhooks,
    metrics,
    readiness,
    async startBackground() {
      if (config.role === 'api') return;
      await sync.start();
      webhooks.start();
      readiness.add(workerCheck(sync, config.role === 'worker', options.syncTuning?.tickMs ?? 1000));
    },
    stopBackground,
    closeResources,
    async close() {
      await stopBackground();
      await app.close();
      await closeResources();
    },
  };
}
