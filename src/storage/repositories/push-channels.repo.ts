import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { selectInChunks } from './in-chunks.js';

/**
 * The keyed hash a push channel's secret token is stored as (`push_channels.token_hash`):
 * a notification proves itself by echoing the token, which storage alone cannot supply.
 */
export function pushTokenHash(lookupKey: Buffer, token: string): string {
  return createHmac('sha256', lookupKey).update(`push-channel:${token}`).digest('base64url');
}

/** How long a channel marked for renewal still counts as live (the keeper renews within the hour before expiry). */
export const RENEWAL_GRACE_MS = 5 * 60_000;

export interface PushChannelRow {
  id: string;
  provider: string;
  calendarRowId: string;
  accountId: string;
  /** The provider's id of the watched resource (Google), null when it has none. */
  resourceId: string | null;
  expiresAt: number;
  /** The account's stored credentials were refused: nothing can be synced until the user reconnects. */
  accountNeedsReconnect: boolean;
}

/**
 * Push channels: kept per calendar by the sync side (opened, listed for renewal, stopped),
 * found by id and checked against their token when a notification arrives.
 */
export class PushChannelsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly lookupKey: Buffer,
  ) {}

  private rows() {
    return this.db
      .selectFrom('push_channels')
      .innerJoin('calendars', 'calendars.id', 'push_channels.calendar_id')
      .innerJoin('accounts', 'accounts.id', 'calendars.account_id')
      .select(['push_channels.id', 'push_channels.provider', 'push_channels.calendar_id', 'push_channels.resource_id', 'push_channels.token_hash', 'push_channels.expires_at', 'calendars.account_id', 'accounts.sync_state']);
  }

  async insert(r: { id: string; provider: string; calendarRowId: string; resourceId?: string; token: string; expiresAt: number }, now = Date.now()): Promise<void> {
    await this.db
      .insertInto('push_channels')
      .values({ id: r.id, provider: r.provider, calendar_id: r.calendarRowId, resource_id: r.resourceId ?? null, token_hash: pushTokenHash(this.lookupKey, r.token), expires_at: r.expiresAt, created_at: now })
      .execute();
  }

  /** The channel when `token` is its secret; undefined for an unknown channel, another provider's, or a wrong token. */
  async verify(provider: string, id: string, token: string): Promise<PushChannelRow | undefined> {
    const row = await this.rows().where('push_channels.id', '=', id).where('push_channels.provider', '=', provider).executeTakeFirst();
    if (!row) return undefined;
    const expected = Buffer.from(row.token_hash);
    const actual = Buffer.from(pushTokenHash(this.lookupKey, token));
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return toRow(row);
  }

  async listForCalendars(calendarRowIds: readonly string[]): Promise<PushChannelRow[]> {
    return (await selectInChunks(calendarRowIds, (chunk) => this.rows().where('push_channels.calendar_id', 'in', chunk).execute())).map(toRow);
  }

  async listForAccount(accountId: string): Promise<PushChannelRow[]> {
    return (await this.rows().where('calendars.account_id', '=', accountId).execute()).map(toRow);
  }

  /**
   * Marks a channel due for renewal now (the provider asked for reauthorization). Its expiry
   * is pulled in to a few minutes ahead, not to now: the subscription still runs at the
   * provider, so the keeper must see it as live to stop it there after opening its successor
   * (an expired one it merely forgets). A few minutes is well inside any renewal margin.
   */
  async markForRenewal(id: string, now = Date.now()): Promise<void> {
    const until = now + RENEWAL_GRACE_MS;
    await this.db.updateTable('push_channels').set({ expires_at: until }).where('id', '=', id).where('expires_at', '>', until).execute();
  }

  /** Forgets a channel (stopped, or ended by the provider). */
  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('push_channels').where('id', '=', id).execute();
  }
}

function toRow(row: { id: string; provider: string; calendar_id: string; resource_id: string | null; expires_at: number; account_id: string; sync_state: string }): PushChannelRow {
  return {
    id: row.id,
    provider: row.provider,
    calendarRowId: row.calendar_id,
    accountId: row.account_id,
    resourceId: row.resource_id,
    expiresAt: Number(row.expires_at),
    accountNeedsReconnect: row.sync_state === 'reauth_required',
  };
}
