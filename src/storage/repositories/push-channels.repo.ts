import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { selectInChunks } from './in-chunks.js';

export interface PushChannelRecord {
  /** The provider's channel id (echoed in every notification). */
  id: string;
  /** Almanac's calendar row. */
  calendarId: string;
  accountId: string;
  provider: string;
  resourceId: string | null;
  /** Keyed hash of the secret token; the token itself is never stored. */
  tokenHash: string;
  expiresAt: number;
  createdAt: number;
}

export interface NewPushChannel {
  id: string;
  calendarId: string;
  provider: string;
  resourceId: string | null;
  tokenHash: string;
  expiresAt: number;
  createdAt: number;
}

/** Provider push channels, per calendar: what the sync side opened and must renew and stop. */
export class PushChannelsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private select() {
    return this.db
      .selectFrom('push_channels as p')
      .innerJoin('calendars as c', 'c.id', 'p.calendar_id')
      .select(['p.id', 'p.calendar_id', 'c.account_id', 'p.provider', 'p.resource_id', 'p.token_hash', 'p.expires_at', 'p.created_at']);
  }

  async insert(channel: NewPushChannel): Promise<void> {
    await this.db
      .insertInto('push_channels')
      .values({
        id: channel.id,
        calendar_id: channel.calendarId,
        provider: channel.provider,
        resource_id: channel.resourceId,
        token_hash: channel.tokenHash,
        expires_at: channel.expiresAt,
        created_at: channel.createdAt,
      })
      .execute();
  }

  async get(provider: string, id: string): Promise<PushChannelRecord | undefined> {
    const row = await this.select().where('p.provider', '=', provider).where('p.id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async listForCalendars(calendarIds: readonly string[]): Promise<PushChannelRecord[]> {
    const rows = await selectInChunks(calendarIds, (chunk) => this.select().where('p.calendar_id', 'in', chunk).execute());
    return rows.map(toRecord);
  }

  async listForAccount(accountId: string): Promise<PushChannelRecord[]> {
    return (await this.select().where('c.account_id', '=', accountId).execute()).map(toRecord);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('push_channels').where('id', '=', id).execute();
  }
}

function toRecord(row: {
  id: string;
  calendar_id: string;
  account_id: string;
  provider: string;
  resource_id: string | null;
  token_hash: string;
  expires_at: number;
  created_at: number;
}): PushChannelRecord {
  return {
    id: row.id,
    calendarId: row.calendar_id,
    accountId: row.account_id,
    provider: row.provider,
    resourceId: row.resource_id,
    tokenHash: row.token_hash,
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
}
