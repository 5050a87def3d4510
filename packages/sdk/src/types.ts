// Wire types for Almanac's API (docs/API.md). Field names are the server's JSON
// names, unchanged, so a value can be logged or forwarded as is. Dates travel as
// ISO 8601 strings: the SDK does not revive them into Date objects, because that
// would make the runtime value disagree with what the server sent.

/** Calendar providers Almanac can connect. */
export type Provider = 'google' | 'microsoft' | 'apple' | 'caldav';

/** Every provider name, in the order the API reports them. */
export const PROVIDERS: readonly Provider[] = ['google', 'microsoft', 'apple', 'caldav'];

/**
 * Provider names as constants. Mobiscroll's SDK has a TypeScript enum of this name;
 * a frozen object gives code written against it (`ProviderEnum.Google`) the same values.
 */
export const ProviderEnum = Object.freeze({
  Google: 'google',
  Microsoft: 'microsoft',
  Apple: 'apple',
  CalDav: 'caldav',
} as const);
export type ProviderEnum = (typeof ProviderEnum)[keyof typeof ProviderEnum];

/** Access level an application asks for in the authorize URL. */
export type Scope = 'free-busy' | 'read' | 'read-write';

/** Language of the connect pages. The API itself always answers in English. */
export type ConnectLanguage = 'en' | 'es' | 'fr' | 'ar' | (string & {});

export type ConnectTheme = 'light' | 'dark' | 'auto';

// ---------------------------------------------------------------------------
// OAuth

/** Query of `GET /api/oauth/authorize`, in the SDK's camelCase form. */
export interface AuthorizeParams {
  /** Your application's own id for this user (sent as `user_id`). */
  userId: string;
  /** Defaults to `read-write` on the server. */
  scope?: Scope | (string & {});
  /** Opaque value echoed back to your redirect URI; use it against CSRF. */
  state?: string;
  /** Limit the providers the connect page offers: a comma list or an array. */
  providers?: string | readonly Provider[];
  lng?: ConnectLanguage;
  theme?: ConnectTheme;
  /** PKCE S256 challenge (see `createPkcePair`). `code_challenge_method=S256` is added for you. */
  codeChallenge?: string;
  /** Overrides the client's `redirectUri` for this URL; must be registered for the client. */
  redirectUri?: string;
}

/**
 * `generateAuthUrl` for a pushed request: only the `request_uri` that
 * `pushAuthorizationRequest` returned (the other parameters were pushed with it).
 */
export interface PushedAuthorizeParams {
  requestUri: string;
}

/** Body of a successful `POST /api/oauth/par` (RFC 9126). */
export interface PushedAuthorizationResponse {
  /** `urn:ietf:params:oauth:request_uri:…`, usable once. */
  request_uri: string;
  /** Seconds until the request_uri expires (60 on Almanac): redirect the user right away. */
  expires_in: number;
}

/** Body of a successful `POST /api/oauth/token`. */
export interface TokenResponse {
  access_token: string;
  /** Always `Bearer`. */
  token_type: string;
  /** Seconds; 3600 on Almanac. */
  expires_in?: number;
  /** Rotated on every refresh: always keep the newest one. */
  refresh_token?: string;
  /** Extra fields a server may add are kept when tokens are merged after a refresh. */
  [extra: string]: unknown;
}

/** Form fields of `POST /api/oauth/token` with `grant_type=authorization_code`. */
export interface AuthorizationCodeGrantRequest {
  grant_type: 'authorization_code';
  code: string;
  redirect_uri: string;
  code_verifier?: string;
  client_id?: string;
  client_secret?: string;
}

/** Form fields of `POST /api/oauth/token` with `grant_type=refresh_token`. */
export interface RefreshTokenGrantRequest {
  grant_type: 'refresh_token';
  refresh_token: string;
  /** Sent for compatibility with Mobiscroll's SDK; the server ignores it. */
  redirect_uri?: string;
  client_id?: string;
  client_secret?: string;
}

/** Body of `POST /api/oauth/revoke`. */
export interface RevokeRequest {
  token: string;
}

/** Body of `POST /api/oauth/revoke` (always 200 for a string token). */
export interface RevokeResponse {
  success: boolean;
}

/** RFC 6749 error body returned by the OAuth endpoints. */
export interface OAuthErrorBody {
  error:
    | 'invalid_request'
    | 'invalid_client'
    | 'invalid_grant'
    | 'unsupported_grant_type'
    | (string & {});
  error_description?: string;
}

export type SyncState = 'ok' | 'reauth_required' | (string & {});

/** One connected provider account. */
export interface ConnectedAccount {
  /** Usually the account's email address. */
  id: string;
  display?: string;
  grantedScopes?: string[];
  /** `false` when the user connected but withheld calendar access on the provider's consent screen. */
  calendarPermissionGranted?: boolean;
  /** `reauth_required` when the provider has since rejected the stored credentials. */
  syncState?: SyncState;
}

/** Body of `GET /api/oauth/connection-status`. */
export interface ConnectionStatusResponse {
  connections: Record<Provider, ConnectedAccount[]>;
  limitReached: boolean;
}

/** Query of `POST /api/oauth/disconnect`. */
export interface DisconnectParams {
  provider: Provider;
  /** Omit to disconnect every account of the provider. */
  account?: string;
}

export interface DisconnectResponse {
  success: boolean;
  message?: string;
}

// ---------------------------------------------------------------------------
// Calendars

/** One element of the bare array returned by `GET /api/calendars`. */
export interface Calendar {
  provider: Provider;
  id: string;
  title: string;
  timeZone: string;
  color: string;
  description: string;
  /** Almanac extra: true when this account may read but not write the calendar. */
  readOnly?: boolean;
  /** The provider's own calendar object. */
  original: Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Events

export type AttendeeStatus = 'accepted' | 'declined' | 'tentative' | 'none';
export type EventAvailability = 'busy' | 'free';
export type EventPrivacy = 'public' | 'private' | 'confidential';
export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';
export type ConferenceProvider = 'google-meet' | 'microsoft-teams' | 'zoom' | 'webex';

export interface EventAttendee {
  email: string;
  status: AttendeeStatus;
  /** Set on the organizer Almanac adds for Microsoft, iCloud and CalDAV events. */
  organizer?: boolean;
}

export interface ConferenceData {
  provider: ConferenceProvider;
  [extra: string]: unknown;
}

/** An event as the API returns it. */
export interface CalendarEvent {
  provider: Provider;
  id: string;
  calendarId: string;
  title: string;
  description?: string;
  /** ISO 8601 UTC. All-day events start at midnight UTC. */
  start: string;
  /** ISO 8601 UTC. All-day events end at midnight UTC of the day after (exclusive). */
  end: string;
  allDay: boolean;
  /** Series id, on instances of a recurring event. */
  recurringEventId?: string;
  color?: string;
  location?: string;
  attendees?: EventAttendee[];
  custom?: Record<string, unknown>;
  /** Join URL. */
  conference?: string;
  conferenceData?: ConferenceData;
  availability?: EventAvailability;
  privacy?: EventPrivacy;
  status?: EventStatus;
  lastModified?: string;
  link?: string;
  /** The provider's own event object. */
  original: Record<string, unknown>;
}

export type RecurrenceFrequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
export type Weekday = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';

interface RecurrenceBase {
  frequency: RecurrenceFrequency;
  interval?: number;
  byDay?: Weekday[];
  byMonthDay?: number[];
  byMonth?: number[];
}

/**
 * Recurrence of a new or updated event. `count` and `until` exclude each other
 * (the server answers 400 when both are sent), which the union type enforces.
 */
export type RecurrenceRule =
  | (RecurrenceBase & { count?: number; until?: never })
  | (RecurrenceBase & { count?: never; /** `YYYYMMDDTHHMMSSZ` */ until?: string });

/** Which occurrences an update or delete of a recurring event touches. */
export type RecurrenceMode = 'this' | 'following' | 'all';

/** Body of `POST /api/event`. */
export interface EventCreateData {
  provider: Provider;
  calendarId: string;
  title: string;
  /** A Date is sent as its ISO string. */
  start: Date | string;
  end: Date | string;
  description?: string;
  location?: string;
  allDay?: boolean;
  /** Attendee emails. */
  attendees?: string[];
  recurrence?: RecurrenceRule;
  custom?: Record<string, unknown>;
  /** A join URL, or `{ url, provider }`. */
  conference?: string | { url: string; provider?: ConferenceProvider };
  /** `autoGenerate: true` asks the provider to create a Meet or Teams link where it can. */
  conferenceData?: { provider: ConferenceProvider; autoGenerate?: boolean };
  availability?: EventAvailability;
  privacy?: EventPrivacy;
  status?: EventStatus;
}

/** Body of `PUT /api/event`. Omitted fields stay unchanged. */
export interface EventUpdateData extends Partial<Omit<EventCreateData, 'provider' | 'calendarId'>> {
  provider: Provider;
  calendarId: string;
  eventId: string;
  recurringEventId?: string;
  updateMode?: RecurrenceMode;
}

/** Query of `DELETE /api/event`. */
export interface EventDeleteParams {
  provider: Provider;
  calendarId: string;
  eventId: string;
  recurringEventId?: string;
  /** `all` or no mode removes the whole series. */
  deleteMode?: RecurrenceMode;
}

/** Calendar ids to read, per provider. Ids the user does not own are ignored. */
export type CalendarIdsFilter = Partial<Record<Provider, string[]>>;

/** Query of `GET /api/events`. */
export interface EventListParams {
  /** Default 250, capped at 1000 by the server. */
  pageSize?: number;
  /** Default: first day of the current month. A Date is sent as its ISO string. */
  start?: Date | string;
  /** Default: last day of the current month. */
  end?: Date | string;
  /** Sent as JSON, e.g. `{"google":["a@b.com"]}`. */
  calendarIds?: CalendarIdsFilter;
  /** Opaque token from the previous page. */
  nextPageToken?: string;
  /** Default `true` (recurring series expanded into instances). */
  singleEvents?: boolean;
}

/** Body of `GET /api/events`. */
export interface EventsListResponse {
  events: CalendarEvent[];
  /** Number of events on this page, across providers. */
  pageSize?: number;
  /** Present only when more events remain. */
  nextPageToken?: string;
}

/**
 * Body of `POST` and `PUT /api/event`: the event's fields at the root (what the
 * Node and Go SDKs read) and again under `event` (what the Python SDK reads).
 */
export type EventResponse = CalendarEvent & { success: boolean; event: CalendarEvent };

/** Body of `DELETE /api/event`. */
export interface DeleteEventResponse {
  success: boolean;
  message?: string;
}

// ---------------------------------------------------------------------------
// Errors, health, webhooks

/** Error body of the non-OAuth endpoints. */
export interface ApiErrorBody {
  error: string;
  message?: string;
  /** Field-level detail on 400/422. */
  details?: unknown;
}

/** Body of `GET /api/health`. */
export interface HealthResponse {
  status: 'ok';
}

/** Body of `POST /api/subscribe-webhook`. */
export interface WebhookSubscribeData {
  provider: Provider;
  calendarId: string;
  channelId?: string;
  /** Milliseconds. */
  expiration?: number;
}

export interface WebhookSubscribeResponse {
  success: boolean;
  provider: Provider;
  subscription: { channelId: string; resourceId?: string; expiration?: number; webhookUrl: string };
  serverWebhookUrl: string;
  channelId: string;
}

/** Body of `POST /api/unsubscribe-webhook`. */
export interface WebhookUnsubscribeData {
  provider: Provider;
  channelId: string;
  resourceId?: string;
}

export interface WebhookUnsubscribeResponse {
  success: boolean;
  message?: string;
}

/** Almanac extra: one entry of `GET /api/webhook-subscriptions`. */
export interface WebhookSubscription {
  channelId: string;
  provider: Provider;
  calendarId: string;
  expiration?: number;
  webhookUrl: string | null;
  scope: string;
  createdAt: string;
}

export interface WebhookSubscriptionsResponse {
  subscriptions: WebhookSubscription[];
}

export type WebhookChangeType = 'created' | 'updated' | 'deleted';

export type WebhookEvent = CalendarEvent & { changeType: WebhookChangeType };

/** What Almanac POSTs to the client's webhook URL. */
export interface WebhookDelivery {
  /** Almanac extra: `calendar.changed` for these deliveries (others: `webhook.test`, `grant.reauth_required`, `grant.restored`). */
  type?: 'calendar.changed';
  provider: Provider;
  userId: string;
  calendarId: string;
  events: WebhookEvent[];
  changeType: WebhookChangeType | 'mixed';
  timestamp: string;
  metadata: { channelId: string; eventCount: number; isInitialSync: boolean };
}
