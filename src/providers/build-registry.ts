/** Builds the provider registry from the configuration: the one place adapters meet settings. */
import type { Config } from '../config/config.js';
import { ProviderRegistry } from './registry.js';

export function buildProviderRegistry(_config: Config): ProviderRegistry {
  const registry = new ProviderRegistry();
  return registry;
}
