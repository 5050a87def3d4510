/**
 * When the local mirror may answer a read instead of the provider. In the default mode
 * (`fresh`) a calendar is served from the mirror when its first full listing completed,
 * the range lies inside the window it holds, no write through the API is still waiting
 * for a sync to confirm it, and its last successful sync is at most two poll intervals
 * old (plus a little slack for a pass in progress) — two of the slower pushed intervals
 * while a push channel is open on it, since the provider then says when it changed and
 * a notification makes reads go live until the sync it asks for. `mirror` serves any synced calendar
 * whatever its age; `live` never uses the mirror.
 */
import type { ReadMode, SyncConfig } from '../config/config.js';
import type { ProviderId } from '../domain/calendar.js';
import type { CalendarSyncRecord } from '../storage/repositories/calendar-sync.repo.js';
import { covers } from '../sync/sync-window.js';

const SLACK_MS = 10_000;

export class MirrorFreshness {
  constructor(private readonly config: SyncConfig) {}

  get mode(): ReadMode {
    return this.config.readMode;
  }

  /** How old a provider's synced data may be and still count as fresh. */
  maxAgeMs(provider: ProviderId): number {
    return 2 * this.config.pollMs[provider] + SLACK_MS;
  }

  /**
   * Whether the stored calendar list of an account (listed at `listedAt`) may stand in for a
   * live listing. An account with an open push channel is listed at the slower pushed
   * interval, so its list counts as fresh for as long (channels watch events, not the list
   * of calendars: a calendar added at the provider appears within that interval).
   */
  listingUsable(provider: ProviderId, listedAt: number | null, now: number, noCache: boolean, pushUntil: number | null = null): boolean {
    if (noCache || this.mode === 'live' || listedAt === null) return false;
    return this.mode === 'mirror' || now - listedAt <= this.maxAgeFor(provider, pushUntil, now);
  }

  /** Two poll intervals, or two pushed intervals while a push channel is open. */
  private maxAgeFor(provider: ProviderId, pushUntil: number | null, now: number): number {
    const pushed = pushUntil !== null && pushUntil > now;
    return pushed ? Math.max(2 * this.config.pushedPollMs + SLACK_MS, this.maxAgeMs(provider)) : this.maxAgeMs(provider);
  }

  /** Whether this calendar's events in [start, end) may come from the mirror. */
  canServe(provider: ProviderId, state: CalendarSyncRecord | undefined, range: { start: number; end: number }, now: number): boolean {
    if (this.mode === 'live' || !state || state.status !== 'ready' || state.lastSuccessAt === null) return false;
    if (!covers(state.window, range.start, range.end)) return false;
    if (this.mode === 'mirror') return true;
    if (state.writeGeneration > state.syncedGeneration) return false;
    return now - state.lastSuccessAt <= this.maxAgeFor(provider, state.pushUntil, now);
  }
}
