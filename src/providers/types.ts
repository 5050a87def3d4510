/**
 * The provider seam. An adapter turns one provider's wire protocol into the domain
 * types of `domain/calendar.ts`. It never touches storage, routes or configuration:
 * everything it needs arrives in the ProviderContext, and every failure leaves it as
 * a ProviderError with one of the codes below.
 */
import type {
  Calendar,
  CalendarEvent,
  EditMode,
  EventInput,
  EventPatch,
  EventRef,
  ProviderId,
} from '../domain/calendar.js';

export type ProviderErrorCode =
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'TEMPORARY'
  | 'AUTH_REVOKED'
  | 'INSUFFICIENT_SCOPE'
  | 'CURSOR_INVALID'
  | 'CONFLICT'
  /**
   * The account may read but not change this: a calendar shared read-only or subscribed,
   * or an event only its organizer may change.
   */
  | 'READ_ONLY'
  | 'INVALID_INPUT'
  | 'UNKNOWN';

export class ProviderError extends Error {
  readonly retryAfterMs?: number;
  /**
   * The provider that failed. Adapters need not set it: the code that calls an adapter
   * for an account does, so answers can name the account's provider.
   */
  provider?: ProviderId;
  constructor(
    readonly code: ProviderErrorCode,
    /**
     * One clause that names the provider and says what happened (no final period); safe
     * to show to the application: never contains credentials or event bodies. The API
     * adds what the application should do about it.
     */
    message: string,
    options?: { retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options?.cause });
    this.name = 'ProviderError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * The provider's answer was larger than the configured cap
 * (ALMANAC_PROVIDER_MAX_RESPONSE_BYTES). The fetch in a ProviderContext rejects with it
 * instead of reading on; adapters turn it into a ProviderError.
 */
export class ResponseTooLargeError extends Error {
  readonly code = 'response_too_large';
  constructor(readonly limitBytes: number) {
    super(`The answer was larger than the ${formatBytes(limitBytes)} limit`);
    this.name = 'ResponseTooLargeError';
  }
}

/** `10485760` → `10 MB`, for messages people read. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** Minimal structured logger (pino-compatible subset). Never pass secrets or event contents. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Username/password credentials of CalDAV and iCloud, with what discovery found. */
export interface BasicCredentials {
  kind: 'basic';
  serverUrl: string;
  username: string;
  password: string;
  principalUrl?: string;
  calendarHomeUrl?: string;
}

/**
 * OAuth credentials of Google and Microsoft. The object refreshes itself (one refresh
 * at a time per account) and persists new tokens through the owner's callback.
 */
export interface OAuthCredentials {
  kind: 'oauth';
  /** A currently valid access token, refreshed first when it is about to expire. */
  getAccessToken(): Promise<string>;
  /** Called after the provider answered 401 to `rejected`: refresh unless another caller already did. */
  refreshAfterRejection(rejected: string): Promise<string>;
  /** Unique per account (and grant) in this process, so adapters can key per-account limits on it. */
  readonly accountKey?: string;
}

export type ProviderCredentials = BasicCredentials | OAuthCredentials;

/** One account's stored credentials and the version they were stored under. */
export interface VersionedCredentials<T = unknown> {
  credentials: T;
  /** Incremented by every write of the account's credentials (a refresh, a reconnect). */
  version: number;
}

/**
 * Where one account's credentials are kept, as code that refreshes them needs it when
 * several instances share the accounts: versioned reads, compare-and-set writes, and a
 * lease so that one instance at a time refreshes. The owner implements it over storage;
 * providers never touch storage themselves.
 */
export interface CredentialStore<T = unknown> {
  /** What is stored now; undefined when the account is gone (disconnected). */
  read(): Promise<VersionedCredentials<T> | undefined>;
  /** The stored version and the holder of an unexpired refresh lease, without opening the credentials. */
  state(): Promise<{ version: number; leaseOwner?: string } | undefined>;
  /** Stores `next` if the stored version is still `expectedVersion`: the new version, or undefined when another write came first. */
  compareAndSet(next: T, expectedVersion: number): Promise<number | undefined>;
  /** Takes the refresh lease for `ttlMs` unless another owner holds an unexpired one; true when taken. */
  acquireLease(owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease back if `owner` still holds it. */
  releaseLease(owner: string): Promise<void>;
}

export interface ProviderContext<C extends ProviderCredentials = ProviderCredentials> {
  credentials: C;
  /**
   * The fetch to use for every request (SSRF-guarded where the URL is user supplied).
   * Answers arrive complete; one over the size cap rejects with ResponseTooLargeError.
   */
  fetch: typeof fetch;
  signal?: AbortSignal;
  log: Logger;
}

export interface EventQuery {
  calendarId: string;
  /** Events that overlap [start, end): event.end > start and event.start < end. */
  start: Date;
  end: Date;
  /** true: series expanded into instances; false: singles and series masters. */
  singleEvents: boolean;
  /** The adapter's own cursor from a previous page of the same query. */
  pageToken?: string;
  /** A hint: the adapter may return fewer or more. */
  pageSize: number;
}

export interface EventPage {
  /**
   * Contract: across successive pages of one query the events come in non-decreasing
   * `start` order (the API layer merges calendars with a k-way merge on that order).
   */
  events: CalendarEvent[];
  nextPageToken?: string;
}

export interface CalendarProvider<C extends ProviderCredentials = ProviderCredentials> {
  readonly id: ProviderId;
  listCalendars(ctx: ProviderContext<C>): Promise<Calendar[]>;
  listEvents(ctx: ProviderContext<C>, q: EventQuery): Promise<EventPage>;
  createEvent(ctx: ProviderContext<C>, input: EventInput): Promise<CalendarEvent>;
  updateEvent(ctx: ProviderContext<C>, ref: EventRef, patch: EventPatch, mode?: EditMode): Promise<CalendarEvent>;
  deleteEvent(ctx: ProviderContext<C>, ref: EventRef, mode?: EditMode): Promise<void>;
}

/*
 * Change feeds: how the sync engine keeps a local mirror of a calendar. A provider
 * reports changes in units, the smallest thing it says changed (a CalDAV calendar object
 * resource with its overrides; a Google series or single event). The engine replaces a
 * unit's mirrored events whole, so a feed never has to say which instance moved.
 */

/** The stretch of time the mirror holds; instances outside it are not expanded. */
export interface SyncWindow {
  start: Date;
  end: Date;
}

export interface MirrorUnit {
  /** Stable within its calendar (CalDAV: the resource href; Google: the series or event id). */
  key: string;
  /** Changes whenever the unit changes (an ETag); opaque. */
  version: string;
  /** The unit's events as `singleEvents=true` lists them, limited to the window. */
  instances: CalendarEvent[];
  /** The unit's events as `singleEvents=false` lists them (series masters, single events), when in the window. */
  masters: CalendarEvent[];
}

export interface ChangePage {
  upserts: MirrorUnit[];
  /** Keys of units that no longer exist. */
  deletions: string[];
  /** Keys seen unchanged while relisting the whole calendar (`full`): they stay. */
  unchanged: string[];
  /**
   * Part of a relisting of the whole calendar: when the last page of a relisting (no
   * `more`) has been applied, every unit it did not report (upsert or unchanged) is gone.
   */
  full: boolean;
  /** Where the next call continues: the rest of this pass while `more`, else the next pass. */
  cursor: string;
  more: boolean;
}

export interface ChangeFeedRequest {
  /** The calendar as listCalendars names it. */
  calendarId: string;
  /** Absent: relist the whole calendar. */
  cursor?: string;
  window: SyncWindow;
  /** A hint for how many units one page should carry. */
  pageSize: number;
  /** The versions the mirror holds for these unit keys (absent keys are unknown to it). */
  knownVersions(keys: readonly string[]): Promise<Map<string, string>>;
}

export interface ChangeFeed<C extends ProviderCredentials = ProviderCredentials> {
  /**
   * One page of changes. A cursor the provider no longer accepts fails with
   * CURSOR_INVALID; the engine then starts a relisting (no cursor).
   */
  readChanges(ctx: ProviderContext<C>, request: ChangeFeedRequest): Promise<ChangePage>;
  /**
   * A cheap marker of a calendar's state taken from its listing (CalDAV getctag or
   * sync-token), when the provider has one: an unchanged marker means an unchanged
   * calendar, so a poll costs no more than the listing.
   */
  changeMarker?(calendar: Calendar): string | undefined;
}

/*
 * Push channels: a provider that can call back when a calendar changes (Google
 * `events.watch`, Microsoft Graph subscriptions). The sync side owns the channels: it
 * decides the address and the secret token, stores them, renews before expiry and
 * stops them; a notification only makes the account's sync job due, so the change
 * itself still arrives through the change feed.
 */

export interface PushChannelRequest {
  /** The calendar as listCalendars names it. */
  calendarId: string;
  /** The https URL the provider must call. */
  address: string;
  /** A secret the provider echoes with every notification (Google's channel token, Graph's clientState). */
  token: string;
  /** How long the channel should live; the provider may grant less. */
  ttlMs: number;
}

export interface PushChannel {
  /** Names the channel in notifications; chosen by the adapter (unique, unguessable not required). */
  channelId: string;
  /** The provider's id of the watched resource, needed to stop the channel (Google). */
  resourceId?: string;
  /** When the provider stops sending; a channel is renewed before. */
  expiresAt: Date;
}

export interface PushChannels<C extends ProviderCredentials = ProviderCredentials> {
  start(ctx: ProviderContext<C>, request: PushChannelRequest): Promise<PushChannel>;
  /** Stops a channel; one the provider no longer knows counts as stopped. */
  stop(ctx: ProviderContext<C>, channel: { channelId: string; resourceId?: string }): Promise<void>;
}
