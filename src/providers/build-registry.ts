/** Builds the provider registry from the configuration: the one place adapters meet settings. */
import type { Config } from '../config/config.js';
import { createGuardedFetch } from '../http/guarded-fetch.js';
import { createAppleProvider } from './apple/index.js';
import { createCaldavProvider } from './caldav/index.js';
import { ProviderRegistry } from './registry.js';
import type { BasicCredentials } from './types.js';

/** Basic credentials are stored as the adapter takes them; nothing to refresh. */
function basicCredentials(stored: unknown): BasicCredentials {
  const c = stored as BasicCredentials;
  return { ...c, kind: 'basic' };
}

export interface BuiltRegistry {
  registry: ProviderRegistry;
  /** The fetch for user-supplied servers (CalDAV, iCloud): SSRF-guarded unless private networks are allowed. */
  userServerFetch: typeof fetch;
}

export function buildProviderRegistry(config: Config): BuiltRegistry {
  const registry = new ProviderRegistry();
  const userServerFetch = createGuardedFetch({ allowPrivateNetworks: config.allowPrivateNetworks, timeoutMs: config.providerTimeoutMs });
  registry.register('apple', { adapter: createAppleProvider(), fetch: userServerFetch, credentials: basicCredentials });
  registry.register('caldav', { adapter: createCaldavProvider(), fetch: userServerFetch, credentials: basicCredentials });
  return { registry, userServerFetch };
}
