import { sql, type Kysely, type Selectable } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { ProviderId } from '../../domain/calendar.js';
import type { Dialect } from '../db.js';
import type { Database } from '../schema.js';
import { selectInChunks } from './in-chunks.js';

export interface SubscriptionRecord {
  channelId: string;
  clientId: string;
  userId: string;
  accountId: string;
  provider: ProviderId;
  calendarId: string;
  scope: string;
  expiresAt: number | null;
  createdAt: number;
}

/** A subscription with what a delivery needs to know about its client and user. */
export interface ActiveSubscription extends SubscriptionRecord {
  externalUserId: string;
  webhookUrl: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewDelivery {
  id: string;
  clientId: string;
  subscriptionId: string | null;
  type: string;
  orderKey: string;
  eventCount: number;
  /** The JSON body as it will be sent (sealed here). */
  body: string;
}

export interface DeliveryRecord {
  id: string;
  clientId: string;
  subscriptionId: string | null;
  type: string;
  orderKey: string;
  position: number;
  eventCount: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

/** A claimed delivery: only the holder of `lease` may record its outcome. */
export interface ClaimedDelivery extends DeliveryRecord {
  lease: string;
  body: string;
}

export interface AttemptOutcome {
  at: number;
  status: number | null;
  error: string | null;
}

export interface EndpointRecord {
  clientId: string;
  secret: string | null;
  previousSecret: string | null;
  previousUntil: number | null;
  disabledUrl: string | null;
  disabledAt: number | null;
}

export interface EchoRecord {
  eventId: string;
  etag: string;
}

type DeliveryRow = Selectable<Database['webhook_deliveries']>;

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    subscriptionId: row.subscription_id,
    type: row.type,
    orderKey: row.order_key,
    position: Number(row.position),
    eventCount: row.event_count,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

function toSubscription(row: Selectable<Database['webhook_subscriptions']>): SubscriptionRecord {
  return {
    channelId: row.id,
    clientId: row.client_id,
    userId: row.user_id,
    accountId: row.account_id,
    provider: row.provider as ProviderId,
    calendarId: row.provider_calendar_id,
    scope: row.scope,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

/**
 * Webhook subscriptions, the delivery outbox, each client's endpoint state and signing
 * secrets, and the record of the application's own writes. Secrets and delivery bodies
 * (which carry event contents) are sealed with AES-256-GCM, bound to their row.
 *
 * Deliveries are claimed like sync jobs: a lease (token and expiry) per row, `FOR UPDATE
 * SKIP LOCKED` on PostgreSQL, and every outcome conditional on still holding the lease.
 * A delivery is claimable only when no earlier delivery with the same order key is still
 * pending, which keeps one calendar's deliveries in order across instances.
 */
export class WebhooksRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly box: SecretBox,
  ) {}

  in(tx: Kysely<Database>): WebhooksRepository {
    return new WebhooksRepository(tx, this.dialect, this.box);
  }

  // ---- subscriptions

  async findSubscriptionFor(userId: string, provider: ProviderId, calendarId: string): Promise<SubscriptionRecord | undefined> {
    const row = await this.db
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('provider', '=', provider)
      .where('provider_calendar_id', '=', calendarId)
      .executeTakeFirst();
    return row && toSubscription(row);
  }

  async findSubscription(channelId: string): Promise<SubscriptionRecord | undefined> {
    const row = await this.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', channelId).executeTakeFirst();
    return row && toSubscription(row);
  }

  /** False when the channel id is taken (by this or another subscription). */
  async insertSubscription(record: SubscriptionRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('webhook_subscriptions')
      .values({
        id: record.channelId,
        client_id: record.clientId,
        user_id: record.userId,
        account_id: record.accountId,
        provider: record.provider,
        provider_calendar_id: record.calendarId,
        scope: record.scope,
        expires_at: record.expiresAt,
        created_at: record.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async updateSubscription(channelId: string, changes: { expiresAt?: number | null; scope?: string }): Promise<void> {
    const set: { expires_at?: number | null; scope?: string } = {};
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
    if (changes.scope !== undefined) set.scope = changes.scope;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('webhook_subscriptions').set(set).where('id', '=', channelId).execute();
  }

  async listSubscriptions(userId: string): Promise<SubscriptionRecord[]> {
    const rows = await this.db.selectFrom('webhook_subscriptions').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toSubscription);
  }

  async deleteSubscription(channelId: string, userId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_subscriptions').where('id', '=', channelId).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * The subscriptions that should hear about a calendar's changes now: not expired, their
   * client has a webhook URL, and that URL has not answered 410 Gone.
   */
  async activeFor(accountId: string, calendarId: string, now: number): Promise<ActiveSubscription[]> {
    const rows = await this.db
      .selectFrom('webhook_subscriptions as s')
      .innerJoin('clients as c', 'c.client_id', 's.client_id')
      .innerJoin('end_users as u', 'u.id', 's.user_id')
      .leftJoin('webhook_endpoints as e', 'e.client_id', 's.client_id')
      .selectAll('s')
      .select(['u.external_id', 'c.webhook_url', 'e.disabled_url'])
      .where('s.account_id', '=', accountId)
      .where('s.provider_calendar_id', '=', calendarId)
      .where((eb) => eb.or([eb('s.expires_at', 'is', null), eb('s.expires_at', '>', now)]))
      .where('c.webhook_url', 'is not', null)
      .execute();
    return rows
      .filter((r) => r.webhook_url !== null && r.disabled_url !== r.webhook_url)
      .map((r) => ({ ...toSubscription(r), externalUserId: r.external_id, webhookUrl: r.webhook_url! }));
  }

  /**
   * Who should hear about an account's grant: each client (with its user) that subscribed
   * any of the account's calendars and can be delivered to now.
   */
  async grantSubscribers(accountId: string, now: number): Promise<{ clientId: string; externalUserId: string; provider: ProviderId; accountPublicId: string }[]> {
    const rows = await this.db
      .selectFrom('webhook_subscriptions as s')
      .innerJoin('clients as c', 'c.client_id', 's.client_id')
      .innerJoin('end_users as u', 'u.id', 's.user_id')
      .innerJoin('accounts as a', 'a.id', 's.account_id')
      .leftJoin('webhook_endpoints as e', 'e.client_id', 's.client_id')
      .select(['s.client_id', 'u.external_id', 'a.provider', 'a.account_id', 'c.webhook_url', 'e.disabled_url'])
      .where('s.account_id', '=', accountId)
      .where((eb) => eb.or([eb('s.expires_at', 'is', null), eb('s.expires_at', '>', now)]))
      .where('c.webhook_url', 'is not', null)
      .execute();
    const seen = new Set<string>();
    const out: { clientId: string; externalUserId: string; provider: ProviderId; accountPublicId: string }[] = [];
    for (const r of rows) {
      if (r.disabled_url === r.webhook_url || seen.has(r.client_id)) continue;
      seen.add(r.client_id);
      out.push({ clientId: r.client_id, externalUserId: r.external_id, provider: r.provider as ProviderId, accountPublicId: r.account_id });
    }
    return out;
  }

  /** The type of the newest delivery with this order key (the last notice of a kind), if any. */
  async lastTypeOf(orderKey: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').select('type').where('order_key', '=', orderKey).orderBy('position', 'desc').limit(1).executeTakeFirst();
    return row?.type;
  }

  // ---- outbox

  private sealBody(id: string, body: string): string {
    return this.box.seal(body, `webhook-delivery:${id}`);
  }

  private openBody(id: string, sealed: string): string {
    return this.box.open(sealed, `webhook-delivery:${id}`);
  }

  /**
   * Appends deliveries, each after the last one of its order key. Callers writing one
   * order key do so one at a time (a calendar's sync is held by one worker).
   */
  async enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void> {
    const next = new Map<string, number>();
    for (const d of deliveries) {
      let position = next.get(d.orderKey);
      if (position === undefined) {
        const row = await this.db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.max('position').as('last'))
          .where('order_key', '=', d.orderKey)
          .executeTakeFirst();
        position = Number(row?.last ?? 0) + 1;
      }
      next.set(d.orderKey, position + 1);
      await this.db
        .insertInto('webhook_deliveries')
        .values({
          id: d.id,
          client_id: d.clientId,
          subscription_id: d.subscriptionId,
          type: d.type,
          order_key: d.orderKey,
          position,
          event_count: d.eventCount,
          payload: this.sealBody(d.id, d.body),
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          lease_owner: null,
          lease_until: null,
          last_attempt_at: null,
          last_status: null,
          last_error: null,
          delivered_at: null,
          created_at: now,
        })
        .execute();
    }
  }

  /** Claims up to `limit` due deliveries, each the oldest pending one of its order key. */
  async claimDue(lease: () => string, options: { now: number; leaseMs: number; limit: number }): Promise<ClaimedDelivery[]> {
    const { now, leaseMs, limit } = options;
    return this.db.transaction().execute(async (trx) => {
      let due = trx
        .selectFrom('webhook_deliveries as d')
        .select('d.id')
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('webhook_deliveries as p')
                .select('p.id')
                .whereRef('p.order_key', '=', 'd.order_key')
                .whereRef('p.position', '<', 'd.position')
                .where('p.status', '=', 'pending'),
            ),
          ),
        )
        // The due index's own order: the scan stops at `limit` heads instead of sorting every pending row.
        .orderBy('d.next_attempt_at')
        .limit(limit);
      if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
      const rows = await due.execute();
      const claimed: ClaimedDelivery[] = [];
      for (const { id } of rows) {
        const token = lease();
        const updated = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_owner: token, lease_until: now + leaseMs })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .returningAll()
          .executeTakeFirst();
        if (updated) claimed.push({ ...toDelivery(updated), lease: token, body: this.openBody(id, updated.payload) });
      }
      return claimed;
    });
  }

  /** Claims one delivery by id, if it is pending and not leased (sending a test ping now). */
  async claim(id: string, lease: string, options: { now: number; leaseMs: number }): Promise<ClaimedDelivery | undefined> {
    const updated = await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: lease, lease_until: options.now + options.leaseMs })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', options.now)]))
      .returningAll()
      .executeTakeFirst();
    return updated && { ...toDelivery(updated), lease, body: this.openBody(id, updated.payload) };
  }

  private async finish(d: ClaimedDelivery, set: Partial<DeliveryRow>, outcome: AttemptOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({
        ...set,
        lease_owner: null,
        lease_until: null,
        last_attempt_at: outcome.at,
        last_status: outcome.status,
        last_error: outcome.error,
      })
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', d.id)
      .where('lease_owner', '=', d.lease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markDelivered(d: ClaimedDelivery, outcome: AttemptOutcome): Promise<boolean> {
    return this.finish(d, { status: 'delivered', delivered_at: outcome.at }, outcome);
  }

  async markRetry(d: ClaimedDelivery, outcome: AttemptOutcome, nextAttemptAt: number): Promise<boolean> {
    return this.finish(d, { next_attempt_at: nextAttemptAt }, outcome);
  }

  async markFailed(d: ClaimedDelivery, outcome: AttemptOutcome): Promise<boolean> {
    return this.finish(d, { status: 'failed' }, outcome);
  }

  /** The endpoint is gone (410): its pending deliveries will never be accepted. */
  async failPendingOf(clientId: string, outcome: AttemptOutcome): Promise<number> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', last_error: outcome.error, last_status: outcome.status, lease_owner: null, lease_until: null })
      .where('client_id', '=', clientId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  /** The body as sent (for tests and tools; contents stay sealed in the table). */
  async deliveryBody(id: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').select('payload').where('id', '=', id).executeTakeFirst();
    return row && this.openBody(id, row.payload);
  }

  async listDeliveries(filter: { clientId?: string; status?: DeliveryStatus; since?: number; limit: number }): Promise<DeliveryRecord[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll();
    if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
    const rows = await query.orderBy('created_at', 'desc').orderBy('position', 'desc').limit(filter.limit).execute();
    return rows.map(toDelivery);
  }

  /**
   * Sends deliveries again with the same webhook-id (receivers deduplicate): due now,
   * attempts counted afresh. Returns how many were queued.
   */
  async replay(filter: { id?: string; since?: number; clientId?: string }, now: number): Promise<number> {
    let query = this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null, delivered_at: null })
      .where((eb) => eb.or([eb('status', '!=', 'pending'), eb('lease_until', 'is', null)]));
    if (filter.id !== undefined) query = query.where('id', '=', filter.id);
    if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
    if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Deliveries waiting to go out (due or backing off), for metrics. */
  async countPending(): Promise<number> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Finished deliveries older than `before` (kept until then for listing and replay). */
  async purgeFinished(before: number): Promise<number> {
    const result = await this.db.deleteFrom('webhook_deliveries').where('status', '!=', 'pending').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- endpoints and secrets

  async endpoint(clientId: string): Promise<EndpointRecord | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    if (!row) return undefined;
    const aad = `webhook-secret:${clientId}`;
    return {
      clientId,
      secret: row.secret_sealed === null ? null : this.box.open(row.secret_sealed, aad),
      previousSecret: row.previous_secret_sealed === null ? null : this.box.open(row.previous_secret_sealed, aad),
      previousUntil: row.previous_until,
      disabledUrl: row.disabled_url,
      disabledAt: row.disabled_at,
    };
  }

  /** Stores `secret` when the client has none yet; returns the secret now stored (another writer may have won). */
  async ensureSecret(clientId: string, secret: string, now: number): Promise<string> {
    const sealed = this.box.seal(secret, `webhook-secret:${clientId}`);
    await this.db
      .insertInto('webhook_endpoints')
      .values({ client_id: clientId, secret_sealed: sealed, previous_secret_sealed: null, previous_until: null, disabled_url: null, disabled_at: null, updated_at: now })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .execute();
    await this.db.updateTable('webhook_endpoints').set({ secret_sealed: sealed, updated_at: now }).where('client_id', '=', clientId).where('secret_sealed', 'is', null).execute();
    const current = await this.endpoint(clientId);
    return current!.secret!;
  }

  /** A new secret; the current one stays valid (and is signed with too) until `previousUntil`. */
  async rotateSecret(clientId: string, secret: string, previousUntil: number, now: number): Promise<void> {
    const aad = `webhook-secret:${clientId}`;
    const current = await this.endpoint(clientId);
    const sealed = this.box.seal(secret, aad);
    if (!current) {
      await this.db
        .insertInto('webhook_endpoints')
        .values({ client_id: clientId, secret_sealed: sealed, previous_secret_sealed: null, previous_until: null, disabled_url: null, disabled_at: null, updated_at: now })
        .execute();
      return;
    }
    await this.db
      .updateTable('webhook_endpoints')
      .set({
        secret_sealed: sealed,
        previous_secret_sealed: current.secret === null ? null : this.box.seal(current.secret, aad),
        previous_until: current.secret === null ? null : previousUntil,
        updated_at: now,
      })
      .where('client_id', '=', clientId)
      .execute();
  }

  /** The URL answered 410 Gone: nothing more is sent to it (a new URL starts afresh). */
  async disableEndpoint(clientId: string, url: string, now: number): Promise<void> {
    await this.db
      .insertInto('webhook_endpoints')
      .values({ client_id: clientId, secret_sealed: null, previous_secret_sealed: null, previous_until: null, disabled_url: url, disabled_at: now, updated_at: now })
      .onConflict((oc) => oc.column('client_id').doUpdateSet({ disabled_url: url, disabled_at: now, updated_at: now }))
      .execute();
  }

  /** The operator set the URL again: deliveries to it resume (those failed by the 410 stay failed; replay them). */
  async enableEndpoint(clientId: string, now: number): Promise<void> {
    await this.db.updateTable('webhook_endpoints').set({ disabled_url: null, disabled_at: null, updated_at: now }).where('client_id', '=', clientId).execute();
  }

  // ---- echoes of the application's own writes

  async recordEcho(accountId: string, calendarId: string, eventId: string, etag: string, now: number): Promise<void> {
    await this.db
      .insertInto('webhook_echoes')
      .values({ account_id: accountId, provider_calendar_id: calendarId, event_id: eventId, etag, created_at: now })
      .onConflict((oc) => oc.columns(['account_id', 'provider_calendar_id', 'event_id', 'etag']).doUpdateSet({ created_at: now }))
      .execute();
  }

  async echoesFor(accountId: string, calendarId: string, eventIds: readonly string[]): Promise<EchoRecord[]> {
    const rows = await selectInChunks([...new Set(eventIds)], (chunk) =>
      this.db
        .selectFrom('webhook_echoes')
        .select(['event_id', 'etag'])
        .where('account_id', '=', accountId)
        .where('provider_calendar_id', '=', calendarId)
        .where('event_id', 'in', chunk)
        .execute(),
    );
    return rows.map((r) => ({ eventId: r.event_id, etag: r.etag }));
  }

  async purgeEchoes(before: number): Promise<number> {
    const result = await this.db.deleteFrom('webhook_echoes').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Whether any subscription watches this calendar (writes to others need no echo record). */
  async isWatched(accountId: string, calendarId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('webhook_subscriptions')
      .select(sql<number>`1`.as('one'))
      .where('account_id', '=', accountId)
      .where('provider_calendar_id', '=', calendarId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
