/**
 * Everything a running Almanac needs, assembled from a Config: key, storage (migrated),
 * rate-limit store, providers, pages, the app. main.ts, the CLI and the tests share it.
 */
import { Redis } from 'ioredis';
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
import { migrateToLatest, openStorage, type Storage } from './storage/db.js';
import { AccountContexts } from './api/account-contexts.js';
import { SyncEngine } from './sync/sync-engine.js';

/** How often expired pending connections, pushed requests and codes are deleted when no write path did it. */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface Runtime {
  config: Config;
  keys: Keys;
  storage: Storage;
  services: Services;
  app: FastifyInstance;
  sync: SyncEngine;
  /** Starts the background work this instance's role includes (the sync schedule). */
  startBackground(): Promise<void>;
  close(): Promise<void>;
}

export function resolveSecret(config: Config): string {
  if (config.secretKey) return config.secretKey;
  // Several instances share one database: they must share the key too, so it cannot be generated per machine.
  if (config.databaseUrl) throw new ConfigError('ALMANAC_SECRET_KEY is required when DATABASE_URL is set');
  return loadOrCreateSecretKey(config.dataDir).key;
}

export async function openStorageMigrated(config: Config): Promise<Storage> {
  const storage = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(storage);
  } catch (err) {
    await storage.close();
    throw err;
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
  logStream?: NodeJS.WritableStream;
  /** Faster sync ticks and shorter leases, for tests. */
  syncTuning?: { tickMs?: number; leaseMs?: number };
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const keys = deriveKeys(resolveSecret(config));
  const storage = await openStorageMigrated(config);
  const services = createServices(config, storage, keys);
  const rateLimitStore = createRateLimitStore(config);
  const { registry, userServerFetch, google } = buildProviderRegistry(config);
  // The engine needs the app's logger and the app needs to wake the engine: bound after both exist.
  const engine: { current?: SyncEngine } = {};
  const syncSoon = async (accountId: string) => {
    await engine.current?.syncSoon(accountId);
  };
  const app = await buildApp({ config, keys, services, rateLimitStore, registry, userServerFetch, google, pages: createHtmlPages(keys.cookies), syncSoon, logStream: options.logStream });
  const sync = new SyncEngine({
    config: config.sync,
    storage,
    repos: services,
    contexts: new AccountContexts(services.accounts, registry),
    registry,
    log: app.log,
    ...options.syncTuning,
  });
  engine.current = sync;
  // CalDAV accounts stored before accounts had an identity: their server is in the sealed credentials.
  const legacy = await services.accounts.upgradeLegacyIdentities();
  if (legacy.skipped > 0) app.log.warn({ upgraded: legacy.upgraded, skipped: legacy.skipped }, 'some CalDAV accounts keep a legacy identity (unreadable credentials or a duplicate)');
  services.housekeeping.start(HOUSEKEEPING_INTERVAL_MS, (err) => app.log.warn({ err: (err as Error).message }, 'housekeeping sweep failed; the next one retries'));
  return {
    config,
    keys,
    storage,
    services,
    app,
    sync,
    async startBackground() {
      if (config.role !== 'api') await sync.start();
    },
    async close() {
      await sync.stop();
      services.housekeeping.stop();
      await app.close();
      await rateLimitStore.close?.();
      await storage.close();
    },
  };
}
