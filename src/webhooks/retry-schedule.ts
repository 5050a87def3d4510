/**
 * When a failed delivery is tried again. The default follows the Standard Webhooks
 * recommendation (seconds, minutes, then hours apart) stretched to ten attempts over
 * about three days, so a receiver that is down over a weekend still gets everything.
 * Each delay is jittered by ±20 %: many deliveries that failed together (a receiver
 * outage) do not all come back in the same second.
 */




/** A receiver's Retry-After is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * The time of the next attempt after `attempts` attempts have failed, or null when none
 * are left. `retryAfterMs` (429/503 Retry-After) is a floor.
 */
export function nextAttemptAt(schedule: readonly number[], attempts: number, now: number, options: { retryAfterMs?: number; random?: () => number } = {}): number | null {
  const base = schedule[attempts - 1];
  if (base === undefined) return null;
  const random = options.random ?? Math.random;
  const jittered = Math.round(base * 1000 * (0.8 + 0.4 * random()));
  const floor = options.retryAfterMs !== undefined ? Math.min(options.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
  return now + Math.max(jittered, floor);
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
