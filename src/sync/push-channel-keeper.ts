/**
 * Keeps a provider push channel open on every synced calendar of providers that have
 * them (ProviderEntry.push), when this deployment can receive notifications: push is on
 * (ALMANAC_PUSH) and the public URL is https, as providers only call https addresses.
 *
 * It runs inside an account's sync job, under the job's lease, so two instances never
 * open or renew channels of one account at once. Each channel gets a fresh random token;
 * only its keyed hash is stored, so the database alone cannot forge a notification. A
 * channel is renewed before it expires by opening its successor first and stopping it
 * after, so no change falls between the two. Channels of calendars that disappear are
 * stopped before their rows go, and all of an account's channels on disconnect.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AccountHandle, AccountContexts } from '../application/account-contexts.js';
import type { ProviderId } from '../domain/calendar.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderContext } from '../providers/types.js';
import type { CalendarRecord } from '../storage/repositories/calendars.repo.js';
import type { PushChannelRow, PushChannelsRepository } from '../storage/repositories/push-channels.repo.js';
import type { AccountRecord } from '../storage/repositories/accounts.repo.js';

export interface PushSettings {
  /** Push is on and the public URL is https. */
  enabled: boolean;
  /** The public base URL (no trailing slash); notifications go to `{publicUrl}/webhooks/{provider}`. */
  publicUrl: string;
  /** Lifetime asked for (providers may grant less). */
  ttlMs: number;
  /** A channel with less than this left is replaced. */
  renewBeforeMs: number;
}

export interface PushChannelKeeperDeps {
  channels: PushChannelsRepository;
  contexts: AccountContexts;
  registry: ProviderRegistry;
  settings: PushSettings;
  /** Random secret for a new channel (the repository stores only its keyed hash). */
  newToken(): string;
  now(): number;
  /** Told when replacing an expiring channel failed or succeeded (applications hear of it by webhook). */
  renewal?(accountId: string, calendarId: string, renewed: boolean): Promise<void>;
}

/** Seven days: Google's default (and longest) lifetime of an events channel. */
export const PUSH_CHANNEL_TTL_MS = 7 * 86_400_000;

/**
 * Refusals that asking again will not change: the calendar cannot be watched (Google's
 * pushNotSupportedForRequestedResource for holiday and other public calendars) or this
 * account may not watch it. Transient failures (5xx, 429, the network) are retried on the
 * next run as before.
 */
const LASTING_REFUSALS = new Set(['INVALID_INPUT', 'READ_ONLY', 'INSUFFICIENT_SCOPE']);
/** After a lasting refusal the calendar is not asked again for this long, doubling per refusal up to a day. */
const REFUSAL_FIRST_WAIT_MS = 15 * 60_000;
const REFUSAL_LONGEST_WAIT_MS = 86_400_000;
/** Calendars remembered as refused, at most (oldest forgotten first; forgetting only costs one request). */
const REFUSALS_REMEMBERED = 10_000;

export function webhookAddress(publicUrl: string, provider: ProviderId): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${provider}`;
}

export class PushChannelKeeper {
  /**
   * Calendars whose provider lastingly refused a channel, and when to ask again. Kept in
   * memory: each instance asks at most once per wait, and a restart asks once more.
   */
  private readonly refused = new Map<string, { askAgainAt: number; waitMs: number }>();

  constructor(private readonly deps: PushChannelKeeperDeps) {}

  /**
   * Brings the account's channels in line with its synced calendars: opens missing ones,
   * replaces those about to expire, stops those of calendars no longer synced. Failures
   * are logged and left to the next run (a lasting refusal to a later one, see
   * LASTING_REFUSALS): polling goes on meanwhile. Returns whether every calendar now has a
   * live channel.
   */
  async maintain(handle: AccountHandle, records: readonly CalendarRecord[], run: <T>(call: (ctx: ProviderContext) => Promise<T>) => Promise<T>, log: FastifyBaseLogger): Promise<boolean> {
    const { deps } = this;
    const provider = handle.account.provider;
    const push = deps.registry.get(provider)?.push;
    const existing = await deps.channels.listForAccount(handle.account.id);
    if (!push || !deps.settings.enabled) {
      // Push was turned off (or the public URL is no longer https): close what is open.
      await this.stopAll(existing, run, log);
      return false;
    }
    const wanted = new Set(records.map((r) => r.id));
    await this.stopAll(existing.filter((c) => !wanted.has(c.calendarRowId)), run, log);
    let all = true;
    for (const record of records) {
      const now = deps.now();
      const mine = existing.filter((c) => c.calendarRowId === record.id);
      if (mine.some((c) => c.expiresAt - now > deps.settings.renewBeforeMs)) continue;
      const refusal = this.refused.get(record.id);
      if (refusal && refusal.askAgainAt > now) {
        all = false;
        continue;
      }
      try {
        const token = deps.newToken();
        const opened = await run((ctx) =>
          push.start(ctx, { calendarId: record.calendar.id, address: webhookAddress(deps.settings.publicUrl, provider), token, ttlMs: deps.settings.ttlMs }),
        );
        await deps.channels.insert(
          {
            id: opened.channelId,
            calendarRowId: record.id,
            provider,
            ...(opened.resourceId ? { resourceId: opened.resourceId } : {}),
            token,
            expiresAt: opened.expiresAt.getTime(),
          },
          deps.now(),
        );
        this.refused.delete(record.id);
        log.info({ calendar: record.id, renewed: mine.length > 0 }, 'push channel opened');
        if (mine.length > 0) await this.reportRenewal(handle, record, true, log);
      } catch (err) {
        all = false;
        const code = (err as { code?: string }).code;
        if (code !== undefined && LASTING_REFUSALS.has(code)) this.rememberRefusal(record.id, refusal, now);
        log.warn({ calendar: record.id, code, err: (err as Error).message }, 'opening a push channel failed; polling continues');
        if (mine.length > 0) await this.reportRenewal(handle, record, false, log);
        // The old channel, if any, stays until it expires.
        continue;
      }
      await this.stopAll(mine, run, log);
    }
    return all;
  }

  private rememberRefusal(calendarRowId: string, previous: { waitMs: number } | undefined, now: number): void {
    const waitMs = previous ? Math.min(REFUSAL_LONGEST_WAIT_MS, previous.waitMs * 2) : REFUSAL_FIRST_WAIT_MS;
    this.refused.delete(calendarRowId);
    this.refused.set(calendarRowId, { askAgainAt: now + waitMs, waitMs });
    if (this.refused.size > REFUSALS_REMEMBERED) this.refused.delete(this.refused.keys().next().value as string);
  }

  private async reportRenewal(handle: AccountHandle, record: CalendarRecord, renewed: boolean, log: FastifyBaseLogger): Promise<void> {
    try {
      await this.deps.renewal?.(handle.account.id, record.calendar.id, renewed);
    } catch (err) {
      log.warn({ calendar: record.id, err: (err as Error).message }, 'reporting a push channel renewal failed');
    }
  }

  /** Stops the channels of calendars about to be forgotten (their rows take the records along). */
  async stopForCalendars(calendarIds: readonly string[], run: <T>(call: (ctx: ProviderContext) => Promise<T>) => Promise<T>, log: FastifyBaseLogger): Promise<void> {
    if (calendarIds.length === 0) return;
    await this.stopAll(await this.deps.channels.listForCalendars(calendarIds), run, log);
  }

  /** Stops every channel of an account, before it is disconnected. Best effort: the account goes anyway. */
  async stopForAccount(account: AccountRecord, log: FastifyBaseLogger): Promise<void> {
    const channels = await this.deps.channels.listForAccount(account.id);
    if (channels.length === 0) return;
    let handle: AccountHandle;
    try {
      handle = await this.deps.contexts.open(account, log);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'push channels could not be stopped; they expire on their own');
      return;
    }
    await this.stopAll(channels, (call) => this.deps.contexts.run(handle, call), log);
  }

  private async stopAll(channels: readonly PushChannelRow[], run: <T>(call: (ctx: ProviderContext) => Promise<T>) => Promise<T>, log: FastifyBaseLogger): Promise<void> {
    for (const channel of channels) {
      const push = this.deps.registry.get(channel.provider as ProviderId)?.push;
      try {
        // An expired channel sends nothing more: only the row is left to remove.
        if (push && channel.expiresAt > this.deps.now()) {
          await run((ctx) => push.stop(ctx, { channelId: channel.id, ...(channel.resourceId ? { resourceId: channel.resourceId } : {}) }));
        }
        await this.deps.channels.delete(channel.id);
      } catch (err) {
        // Kept: the next run tries again, and a notification it still sends only causes a sync.
        log.warn({ calendar: channel.calendarRowId, code: (err as { code?: string }).code, err: (err as Error).message }, 'stopping a push channel failed');
      }
    }
  }
}
