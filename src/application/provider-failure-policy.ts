/**
 * What a provider failure means beyond the request that met it, decided in one table:
 * whether the account's credentials are done for (the account is marked reauth_required
 * and its sync waits for a reconnect), whether the failure concerns the whole account or
 * one calendar (a sync pass goes on with the other calendars only after the latter), and
 * when a failed sync runs again. How a failure is answered over HTTP is decided in one
 * place too: http/map-provider-error.ts.
 */
import { ProviderError, type ProviderErrorCode } from '../providers/types.js';

export interface FailurePolicy {
  /** The provider refuses the stored credentials: the user must reconnect. */
  needsReconnect: boolean;
  /**
   * `account`: every calendar of the account would fail the same way (credentials, scope,
   * quota), so a sync pass stops; `calendar`: only this calendar, the pass goes on.
   */
  scope: 'account' | 'calendar';
}

const POLICY: Record<ProviderErrorCode, FailurePolicy> = {
  AUTH_REVOKED: { needsReconnect: true, scope: 'account' },
  INSUFFICIENT_SCOPE: { needsReconnect: false, scope: 'account' },
  // A quota is the account's (or the app's) at the provider: asking for the next calendar would only spend more of it.
  RATE_LIMITED: { needsReconnect: false, scope: 'account' },
  TEMPORARY: { needsReconnect: false, scope: 'calendar' },
  NOT_FOUND: { needsReconnect: false, scope: 'calendar' },
  CURSOR_INVALID: { needsReconnect: false, scope: 'calendar' },
  CONFLICT: { needsReconnect: false, scope: 'calendar' },
  READ_ONLY: { needsReconnect: false, scope: 'calendar' },
  INVALID_INPUT: { needsReconnect: false, scope: 'calendar' },
  UNKNOWN: { needsReconnect: false, scope: 'calendar' },
};

/** Anything that is not a ProviderError is a fault of ours: the pass stops and is retried. */
const INTERNAL: FailurePolicy = { needsReconnect: false, scope: 'account' };

export function failurePolicy(err: unknown): FailurePolicy {
  return err instanceof ProviderError ? POLICY[err.code] : INTERNAL;
}

const BASE_MS = 5_000;
const CAP_MS = 30 * 60_000;
/** A revoked grant is looked at again this rarely, in case the provider recovers on its own. */
export const REAUTH_RECHECK_MS = 6 * 3_600_000;

/**
 * When a failed sync job runs again: exponential backoff with full jitter, capped, and
 * never sooner than a provider's own Retry-After. Credentials the provider rejected do
 * not heal by retrying: such a job waits until the user reconnects (which makes it due
 * at once) and only checks back rarely.
 */
export function retryDelayMs(err: unknown, failures: number, random: () => number = Math.random): number {
  if (failurePolicy(err).needsReconnect) return REAUTH_RECHECK_MS;
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(failures, 20));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  const floor = err instanceof ProviderError && err.retryAfterMs !== undefined ? err.retryAfterMs : 0;
  return Math.max(jittered, floor);
}
