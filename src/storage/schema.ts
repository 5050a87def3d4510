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
  /** The provider account's identity, usually the email. */
  account_id: string;
  display: string | null;
  /** AES-256-GCM sealed JSON of the provider credentials. */
  credentials: string;
  /** JSON array. */
  granted_scopes: string;
  calendar_permission: number;
  sync_state: string;
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
}
