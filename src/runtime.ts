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
import { MemoryRateLimitStore, RedisRateLimitStore, type RateLimitStore } from './http/rate-limiter.js';
import { buildProviderRegistry } from './providers/build-registry.js';
import { createServices, type Services } from './services.js';
import { migrateToLatest, openStorage, type Storage } from './storage/db.js';

/** How often expired pending connections, pushed requests and codes are deleted when no write path did it. */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface Runtime {
  config: Config;
  keys: Keys;
  storage: Storage;
  services: Services;
  app: FastifyInstance;
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
  // Fail fast on a dead Redis instead of queueing commands forever.
  return new RedisRateLimitStore(new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }));
}

export async function createRuntime(config: Config, options: { logStream?: NodeJS.WritableStream } = {}): Promise<Runtime> {
  const keys = deriveKeys(resolveSecret(config));
  const storage = await openStorageMigrated(config);
  const services = createServices(config, storage, keys);
  const rateLimitStore = createRateLimitStore(config);
  const { registry, userServerFetch, google } = buildProviderRegistry(config);
  const app = await buildApp({ config, keys, services, rateLimitStore, registry, userServerFetch, google, pages: createHtmlPages(keys.cookies), logStream: options.logStream });
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
    async close() {
      services.housekeeping.stop();
      await app.close();
      await rateLimitStore.close?.();
      await storage.close();
    },
  };
}
