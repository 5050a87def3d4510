/** Provider names and the `providers` parameter filter. */
import { PROVIDER_IDS } from '../../domain/calendar.js';
import type { ProviderId } from '../../domain/calendar.js';
import { t } from '../i18n/translator.js';
import type { Locale, MessageKey } from '../i18n/translator.js';

/** Display order on the hub. */
export const PROVIDER_ORDER: readonly ProviderId[] = ['google', 'microsoft', 'apple', 'caldav'];

const ALIASES: Record<string, ProviderId> = { outlook: 'microsoft', office365: 'microsoft', icloud: 'apple' };

/**
 * Providers the page offers: the configured ones, limited by the authorize `providers`
 * parameter (comma list, case-insensitive, `outlook`/`icloud` accepted as aliases).
 * A parameter naming no known provider is ignored rather than leaving an empty page;
 * a parameter naming only unconfigured providers yields [] (show the `no_providers` error).
 */
export function offeredProviders(configured: readonly ProviderId[], providersParam?: string | readonly string[] | null): ProviderId[] {
  const requested = new Set<ProviderId>();
  const list = typeof providersParam === 'string' ? providersParam.split(',') : (providersParam ?? []);
  for (const raw of list.slice(0, 16)) {
    const name = raw.trim().toLowerCase();
    const id = (PROVIDER_IDS as readonly string[]).includes(name) ? (name as ProviderId) : ALIASES[name];
    if (id) requested.add(id);
  }
  return PROVIDER_ORDER.filter((id) => configured.includes(id) && (requested.size === 0 || requested.has(id)));
}

export function providerName(locale: Locale, provider: ProviderId): string {
  return t(locale, `provider.${provider}.name` as MessageKey);
}

export function providerDescription(locale: Locale, provider: ProviderId): string {
  return t(locale, `provider.${provider}.description` as MessageKey);
}
