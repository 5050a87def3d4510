import type { Kysely } from 'kysely';

/**
 * Change notifications to client applications: subscriptions per user and calendar,
 * the delivery outbox (written in the sync page's own transaction, claimed with leases),
 * each client's signing secrets (sealed like credentials) and endpoint state, and the
 * record of the application's own writes that keeps them from being echoed back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_subscriptions')
    // The channelId: chosen by the application or generated.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('end_users.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('provider_calendar_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('webhook_subscriptions_user_calendar', ['user_id', 'provider', 'provider_calendar_id'])
    .execute();
  await db.schema.createIndex('webhook_subscriptions_calendar').on('webhook_subscriptions').columns(['account_id', 'provider_calendar_id']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    // The webhook-id header: stable across attempts and replays, so receivers can deduplicate.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('subscription_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    // Deliveries sharing a key go out one after another in `position` order (one calendar of one subscription).
    .addColumn('order_key', 'text', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('event_count', 'integer', (c) => c.notNull())
    // Sealed JSON body: event contents never stored in clear.
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_order').on('webhook_deliveries').columns(['order_key', 'position']).execute();
  // "Is an earlier delivery of this calendar still pending?" is asked for every claim candidate: one index probe, however long the history.
  await db.schema.createIndex('webhook_deliveries_pending_order').on('webhook_deliveries').columns(['order_key', 'status', 'position']).execute();
  await db.schema.createIndex('webhook_deliveries_client').on('webhook_deliveries').columns(['client_id', 'created_at']).execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('client_id', 'text', (c) => c.primaryKey().references('clients.client_id').onDelete('cascade'))
    // AES-256-GCM sealed `whsec_` secret; the previous one stays valid (and signed with) until previous_until.
    .addColumn('secret_sealed', 'text')
    .addColumn('previous_secret_sealed', 'text')
    .addColumn('previous_until', 'bigint')
    // The URL that answered 410 Gone: deliveries to it stop until the client's URL changes.
    .addColumn('disabled_url', 'text')
    .addColumn('disabled_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_echoes')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('provider_calendar_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    // The version the write left behind (empty for a deletion).
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_echoes_pk', ['account_id', 'provider_calendar_id', 'event_id', 'etag'])
    .execute();
  await db.schema.createIndex('webhook_echoes_age').on('webhook_echoes').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['webhook_echoes', 'webhook_endpoints', 'webhook_deliveries', 'webhook_subscriptions']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
