import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Timestamps are epoch milliseconds (bigint in
 * PostgreSQL, integer in SQLite); booleans are 0/1 integers so both dialects agree.
 */
export interface ClientsTable {
  client_id: string;
  name: string;
  display_name: string | null;
  secret_hash: string;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  webhook_url: string | null;
  /** JSON object: see connect/branding. */
  branding: string;
  /** 1: plain authorize requests are refused, only pushed ones (RFC 9126) start a session. */
  require_par: number;
  created_at: number;
  updated_at: number;
}

export interface EndUsersTable {
  id: string;
  client_id: string;
  /** The application's own id for its user (the `user_id` of authorize, `sub` of tokens). */
  external_id: string;
  created_at: number;
}

export interface AccountsTable {
  id: string;
  user_id: string;
  provider: string;
  /** The public id (connection-status `id`, disconnect `account=`): usually the email or user name. */
  account_id: string;
  /** How the account is recognised (domain/account-identity.ts): CalDAV server and user name, or the email. */
  identity: string;
  display: string | null;
  /** AES-256-GCM sealed JSON of the provider credentials. */
  credentials: string;
  /** JSON array. */
  granted_scopes: string;
  calendar_permission: number;
  sync_state: string;
  /** The connect session that added this account; null once it joined the user (its code was exchanged). */
  pending_session: string | null;
  /** When a pending account can no longer join (its session and code are over) and is deleted. */
  pending_expires_at: number | null;
  /** Incremented by every credentials write; a token refresh stores its tokens only over the version it read. */
  credentials_version: Generated<number>;
  /** Who may refresh this account's OAuth tokens now, across instances, and until when. */
  refresh_lease_owner: string | null;
  refresh_lease_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface AuthCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  scope: string;
  redirect_uri: string;
  /** Whether redirect_uri was sent on authorize (then /token must repeat it). */
  redirect_uri_explicit: number;
  code_challenge: string | null;
  expires_at: number;
  used_at: number | null;
  /** The token family this code issued, revoked when the code is replayed. */
  family_id: string | null;
  /** Set when the code was presented again after use. */
  replayed_at: number | null;
  /** The connect session whose pending accounts join the user when this code is exchanged. */
  session_id: string | null;
}

export interface PushedRequestsTable {
  /** Keyed hash of the request_uri. */
  request_hash: string;
  client_id: string;
  /** JSON of the validated authorize request. */
  params: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface TokenFamiliesTable {
  id: string;
  client_id: string;
  user_id: string;
  scope: string;
  created_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface RefreshTokensTable {
  jti_hash: string;
  family_id: string;
  created_at: number;
  rotated_at: number | null;
}

/** The calendars of an account as last listed by the sync engine. */
export interface CalendarsTable {
  id: string;
  account_id: string;
  /** The calendar id the provider and the API use. */
  provider_calendar_id: string;
  /** Order of the provider's listing. */
  position: number;
  /** Sealed JSON of the API Calendar (title, zone, colour, description, original). */
  payload: string;
  created_at: number;
  updated_at: number;
}

/** One row per account: when its next sync is due and which worker holds it. */
export interface SyncJobsTable {
  account_id: string;
  next_run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  /** When the current (or last) run was claimed. */
  claimed_at: number | null;
  /** 1 when a sync was asked for (push, write) while a run held the job: it runs again right after. */
  rerun: Generated<number>;
  /** Consecutive failed runs (drives the backoff). */
  failures: Generated<number>;
  last_success_at: number | null;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_at: number | null;
  calendars_listed_at: number | null;
}

export interface CalendarSyncTable {
  calendar_id: string;
  /** `pending` until the first full listing completed, then `ready`. */
  status: Generated<string>;
  /** The change feed's cursor: where the next page starts. */
  cursor: string | null;
  /** The listing's change marker (getctag / sync-token) when the mirror was last brought up to date. */
  change_marker: string | null;
  /** Bumped when a relisting starts; units not seen by it keep an older one and are swept. */
  generation: Generated<number>;
  /** 1 while a relisting is in progress. */
  relisting: Generated<number>;
  /** The window the pass in progress expands into. */
  pass_window_start: number | null;
  pass_window_end: number | null;
  /** The window the mirror holds, once a relisting completed. */
  window_start: number | null;
  window_end: number | null;
  /** Longest event in the mirror: bounds the range scan of overlapping events. */
  max_duration_ms: Generated<number>;
  last_success_at: number | null;
  last_relisted_at: number | null;
  last_error_code: string | null;
  last_error_message: string | null;
  /** Bumped by writes through the API and by push notifications; the mirror is behind until a sync catches up. */
  write_generation: Generated<number>;
  /** The write_generation the last completed sync started after. */
  synced_generation: Generated<number>;
  /** Last push notification from the provider. */
  pushed_at: number | null;
}

export interface MirrorUnitsTable {
  calendar_id: string;
  unit_key: string;
  version: string;
  generation: number;
}

export interface MirrorEventsTable {
  calendar_id: string;
  /** `i`: as singleEvents=true lists it; `m`: as singleEvents=false does. */
  view: string;
  event_id: string;
  unit_key: string;
  start_ms: number;
  end_ms: number;
  status: string | null;
  /** Sealed JSON of the API CalendarEvent: contents never stored in clear. */
  payload: string;
  /** The mirror clock's value when this version was written. */
  created_seq: number;
  /** The clock's value when a newer version (or a deletion) replaced it; null while current. */
  deleted_seq: number | null;
  /** When it was replaced: superseded versions are purged once no walk can still need them. */
  deleted_at: number | null;
}

export interface MirrorClockTable {
  id: number;
  seq: number;
}

export interface PushChannelsTable {
  /** Our channel id (what the provider echoes back). */
  id: string;
  calendar_id: string;
  provider: string;
  /** The provider's id for the watched resource. */
  resource_id: string | null;
  /** Keyed hash of the secret token the provider echoes with each notification. */
  token_hash: string;
  expires_at: number;
  created_at: number;
}

export interface DemoClientTable {
  client_id: string;
  /** The demo client's secret sealed with the credentials key; null when it is not known (adopted from an older install). */
  secret_sealed: string | null;
  updated_at: number;
}

/** A client application's subscription to one calendar of one of its users (its id is the channelId). */
export interface WebhookSubscriptionsTable {
  id: string;
  client_id: string;
  user_id: string;
  account_id: string;
  provider: string;
  provider_calendar_id: string;
  /** The scope of the token that subscribed: free-busy subscriptions get busy blocks only. */
  scope: string;
  expires_at: number | null;
  created_at: number;
}

/** The outbox: one row per delivery, written in the transaction that found the change. */
export interface WebhookDeliveriesTable {
  id: string;
  client_id: string;
  subscription_id: string | null;
  /** `calendar.changed`, `ping`. */
  type: string;
  order_key: string;
  position: number;
  event_count: number;
  /** Sealed JSON body. */
  payload: string;
  /** `pending` (waiting or in flight), `delivered`, `failed` (no attempts left, or the endpoint is gone). */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

export interface WebhookEndpointsTable {
  client_id: string;
  secret_sealed: string | null;
  previous_secret_sealed: string | null;
  previous_until: number | null;
  disabled_url: string | null;
  disabled_at: number | null;
  updated_at: number;
}

/** What the application itself wrote through the API, so the change is not sent back to it. */
export interface WebhookEchoesTable {
  account_id: string;
  provider_calendar_id: string;
  event_id: string;
  etag: string;
  created_at: number;
}

export interface Database {
  clients: ClientsTable;
  end_users: EndUsersTable;
  accounts: AccountsTable;
  auth_codes: AuthCodesTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  calendars: CalendarsTable;
  sync_jobs: SyncJobsTable;
  calendar_sync: CalendarSyncTable;
  mirror_units: MirrorUnitsTable;
  mirror_events: MirrorEventsTable;
  mirror_clock: MirrorClockTable;
  push_channels: PushChannelsTable;
  pushed_requests: PushedRequestsTable;
  demo_client: DemoClientTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_echoes: WebhookEchoesTable;
}
