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

export interface Database {
  clients: ClientsTable;
  end_users: EndUsersTable;
  accounts: AccountsTable;
  auth_codes: AuthCodesTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  pushed_requests: PushedRequestsTable;
}
