import type { Kysely } from 'kysely';

/**
 * The sync engine's tables: calendars per account, per-account sync jobs (schedule and
 * lease), per-calendar sync state, the encrypted event mirror, provider push channels,
 * and the lease that lets one instance at a time refresh an account's OAuth tokens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('refresh_lease_owner', 'text').execute();
  await db.schema.alterTable('accounts').addColumn('refresh_lease_until', 'bigint').execute();

  await db.schema
    .createTable('calendars')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('provider_calendar_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('calendars_account_provider_id', ['account_id', 'provider_calendar_id'])
    .execute();

  await db.schema
    .createTable('sync_jobs')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('next_run_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('claimed_at', 'bigint')
    .addColumn('rerun', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success_at', 'bigint')
    .addColumn('last_error_code', 'text')
    .addColumn('last_error_message', 'text')
    .addColumn('last_error_at', 'bigint')
    .addColumn('calendars_listed_at', 'bigint')
    .execute();
  await db.schema.createIndex('sync_jobs_due').on('sync_jobs').columns(['next_run_at']).execute();

  await db.schema
    .createTable('calendar_sync')
    .addColumn('calendar_id', 'text', (c) => c.primaryKey().references('calendars.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('cursor', 'text')
    .addColumn('change_marker', 'text')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('relisting', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pass_window_start', 'bigint')
    .addColumn('pass_window_end', 'bigint')
    .addColumn('window_start', 'bigint')
    .addColumn('window_end', 'bigint')
    .addColumn('max_duration_ms', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_success_at', 'bigint')
    .addColumn('last_relisted_at', 'bigint')
    .addColumn('last_error_code', 'text')
    .addColumn('last_error_message', 'text')
    .addColumn('write_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('synced_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pushed_at', 'bigint')
    .execute();

  await db.schema
    .createTable('mirror_units')
    .addColumn('calendar_id', 'text', (c) => c.notNull().references('calendars.id').onDelete('cascade'))
    .addColumn('unit_key', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('mirror_units_pk', ['calendar_id', 'unit_key'])
    .execute();

  await db.schema
    .createTable('mirror_events')
    .addColumn('calendar_id', 'text', (c) => c.notNull().references('calendars.id').onDelete('cascade'))
    .addColumn('view', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('unit_key', 'text', (c) => c.notNull())
    .addColumn('start_ms', 'bigint', (c) => c.notNull())
    .addColumn('end_ms', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_seq', 'bigint', (c) => c.notNull())
    .addColumn('deleted_seq', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .addPrimaryKeyConstraint('mirror_events_pk', ['calendar_id', 'view', 'event_id', 'created_seq'])
    .execute();
  await db.schema.createIndex('mirror_events_by_start').on('mirror_events').columns(['calendar_id', 'view', 'start_ms', 'event_id']).execute();
  await db.schema.createIndex('mirror_events_by_unit').on('mirror_events').columns(['calendar_id', 'unit_key']).execute();

  // One counter for every change to the mirror, advanced inside each change's transaction
  // (its row lock orders commits), so a reader's snapshot is a single number.
  await db.schema.createTable('mirror_clock').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('seq', 'bigint', (c) => c.notNull()).execute();
  await db.insertInto('mirror_clock' as never).values({ id: 1, seq: 0 } as never).execute();

  await db.schema
    .createTable('push_channels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('calendar_id', 'text', (c) => c.notNull().references('calendars.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text')
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('push_channels_calendar').on('push_channels').column('calendar_id').execute();
  await db.schema.createIndex('push_channels_expiry').on('push_channels').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['push_channels', 'mirror_clock', 'mirror_events', 'mirror_units', 'calendar_sync', 'sync_jobs', 'calendars']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  for (const column of ['refresh_lease_until', 'refresh_lease_owner']) {
    await db.schema.alterTable('accounts').dropColumn(column).execute();
  }
}
