import { sql, type Kysely } from 'kysely';

/**
 * Connections that take effect when the application exchanges the code, account
 * identity beyond the user name, and pushed authorization requests:
 *
 * - accounts: rebuilt (SQLite cannot drop the old unique user/provider/account_id
 *   constraint, so both dialects copy into a new table) with `identity` (how an account
 *   is recognised: CalDAV server and user name, or the email) and `pending_session` /
 *   `pending_expires_at` (an account a connect session added, invisible until that
 *   session's code is exchanged). Uniqueness holds among a user's active accounts only.
 *   Existing CalDAV rows get a `legacy:` identity that the runtime upgrades once it can
 *   decrypt their server (their credentials are sealed; a migration has no key).
 * - auth_codes.session_id: the connect session whose accounts a code's exchange joins.
 * - clients.require_par: refuse plain authorize requests for that client.
 * - pushed_requests: RFC 9126 request_uri values (keyed hashes), single use.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts_v2')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('end_users.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('identity', 'text', (c) => c.notNull())
    .addColumn('display', 'text')
    .addColumn('credentials', 'text', (c) => c.notNull())
    .addColumn('granted_scopes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('calendar_permission', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sync_state', 'text', (c) => c.notNull().defaultTo('ok'))
    .addColumn('pending_session', 'text')
    .addColumn('pending_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Google accounts are their (lower-case) email and iCloud accounts their Apple ID already; CalDAV needs the server.
  await sql`
    insert into accounts_v2 (id, user_id, provider, account_id, identity, display, credentials, granted_scopes, calendar_permission, sync_state, pending_session, pending_expires_at, created_at, updated_at)
    select id, user_id, provider, account_id,
           case when provider = 'caldav' then 'legacy:' || account_id else lower(account_id) end,
           display, credentials, granted_scopes, calendar_permission, sync_state, null, null, created_at, updated_at
    from accounts`.execute(db);
  await db.schema.dropTable('accounts').execute();
  await db.schema.alterTable('accounts_v2').renameTo('accounts').execute();
  const active = sql<boolean>`pending_session is null`;
  await db.schema.createIndex('accounts_active_identity').on('accounts').columns(['user_id', 'provider', 'identity']).unique().where(active).execute();
  await db.schema.createIndex('accounts_active_public_id').on('accounts').columns(['user_id', 'provider', 'account_id']).unique().where(active).execute();
  await db.schema
    .createIndex('accounts_pending_identity')
    .on('accounts')
    .columns(['pending_session', 'provider', 'identity'])
    .unique()
    .where(sql<boolean>`pending_session is not null`)
    .execute();
  await db.schema.createIndex('accounts_user').on('accounts').column('user_id').execute();
  await db.schema.createIndex('accounts_pending_expiry').on('accounts').column('pending_expires_at').execute();

  await db.schema.alterTable('auth_codes').addColumn('session_id', 'text').execute();
  await db.schema.alterTable('clients').addColumn('require_par', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('pushed_requests')
    .addColumn('request_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    /** JSON of the validated authorize request. */
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('pushed_requests_expires').on('pushed_requests').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pushed_requests').ifExists().execute();
  await db.schema.alterTable('clients').dropColumn('require_par').execute();
  await db.schema.alterTable('auth_codes').dropColumn('session_id').execute();
  await db.schema
    .createTable('accounts_v1')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('end_users.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('display', 'text')
    .addColumn('credentials', 'text', (c) => c.notNull())
    .addColumn('granted_scopes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('calendar_permission', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sync_state', 'text', (c) => c.notNull().defaultTo('ok'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('accounts_user_provider_account', ['user_id', 'provider', 'account_id'])
    .execute();
  // Pending connections never took effect; only active accounts go back.
  await sql`
    insert into accounts_v1 (id, user_id, provider, account_id, display, credentials, granted_scopes, calendar_permission, sync_state, created_at, updated_at)
    select id, user_id, provider, account_id, display, credentials, granted_scopes, calendar_permission, sync_state, created_at, updated_at
    from accounts where pending_session is null`.execute(db);
  await db.schema.dropTable('accounts').execute();
  await db.schema.alterTable('accounts_v1').renameTo('accounts').execute();
}
