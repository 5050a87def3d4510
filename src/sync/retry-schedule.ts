/**
 * When a failed sync job runs again: exponential backoff with full jitter, capped, and
 * never sooner than a provider's own Retry-After. Credentials the provider rejected do
 * not heal by retrying: such a job waits until the user reconnects (which makes it due
 * at once) and only checks back rarely.
 */
import { ProviderError } from '../providers/types.js';

const BASE_MS = 5_000;
const CAP_MS = 30 * 60_000;
/** A revoked grant is looked at again this rarely, in case the provider recovers on its own. */
export const REAUTH_RECHECK_MS = 6 * 3_600_000;

export function retryDelayMs(err: unknown, failures: number, random: () => number = Math.random): number {
  if (err instanceof ProviderError && err.code === 'AUTH_REVOKED') return REAUTH_RECHECK_MS;
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(failures, 20));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  const floor = err instanceof ProviderError && err.retryAfterMs !== undefined ? err.retryAfterMs : 0;
  return Math.max(jittered, floor);
}
