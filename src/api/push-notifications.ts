/**
 * What a provider's change notification does, whichever provider sent it. The channel
 * must exist for that provider, be unexpired, and the token must match the stored keyed
 * hash (compared in constant time); anything else is rejected and changes nothing. A
 * verified change marks the calendar pushed — reads of it go live until a sync that
 * started afterwards has completed — and makes the account's sync job due now, which
 * whichever instance runs the schedule picks up (unless the account waits for its user to
 * reconnect: then nothing changes).
 */
import type { CalendarSyncRepository } from '../storage/repositories/calendar-sync.repo.js';
import type { PushChannelsRepository } from '../storage/repositories/push-channels.repo.js';

export interface Notification {
  channelId: string;
  token: string;
  /** The provider's id of the watched resource, when it sends one: must match the channel's. */
  resourceId?: string;
  /** `sync`: the channel was just opened (nothing changed); `change`: something did. */
  kind: 'sync' | 'change';
}

export type NotificationOutcome = 'accepted' | 'rejected';

export interface PushNotificationsDeps {
  channels: PushChannelsRepository;
  calendarSync: CalendarSyncRepository;
  /** Makes the account's sync job due and wakes this instance's worker if it has one. */
  syncSoon(accountId: string): Promise<void>;
  now(): number;
}

/** Longer values are no token we issued (ours are 43 characters); refused before hashing. */
const MAX_TOKEN_LENGTH = 256;

export class PushNotifications {
  constructor(private readonly deps: PushNotificationsDeps) {}

  async receive(provider: string, n: Notification): Promise<NotificationOutcome> {
    const { deps } = this;
    // The provider announces a channel before its start() has answered, so before the channel
    // is stored: acknowledged unverified, as it asks for nothing.
    if (n.kind === 'sync') return 'accepted';
    if (!n.channelId || n.channelId.length > 256 || !n.token || n.token.length > MAX_TOKEN_LENGTH) return 'rejected';
    // The token is compared in constant time against the stored keyed hash.
    const channel = await deps.channels.verify(provider, n.channelId, n.token);
    if (!channel) return 'rejected';
    if (channel.expiresAt <= deps.now()) return 'rejected';
    if (n.resourceId !== undefined && channel.resourceId !== null && n.resourceId !== channel.resourceId) return 'rejected';
    // A sync now would only be refused again: the account waits for the user to reconnect,
    // on the backoff its job already has.
    if (channel.accountNeedsReconnect) return 'accepted';
    await deps.calendarSync.markPushed(channel.calendarRowId, deps.now());
    await deps.syncSoon(channel.accountId);
    return 'accepted';
  }
}
