/** Typed Calendar API v3 calls, each one GoogleHttp request (retries and errors live there). */
import { ProviderError } from '../types.js';
import type { GoogleContext, GoogleHttp } from './google-http.js';
import type {
  GoogleCalendarListResponse,
  GoogleEvent,
  GoogleEventsListResponse,
} from './google-wire-types.js';

export interface EventsListParams {
  timeMin?: string;
  timeMax?: string;
  singleEvents?: boolean;
  orderBy?: 'startTime' | 'updated';
  maxResults?: number;
  pageToken?: string;
  showDeleted?: boolean;
  /** Changes since an earlier listing (cannot be combined with the time range, order or iCalUID). */
  syncToken?: string;
  /** A series and its exceptions share the master's iCalUID. */
  iCalUID?: string;
}

export interface WriteOptions {
  /** The ETag the change is conditional on. */
  etag?: string;
  /** 1 when the body carries conferenceData: without it Google ignores that field. */
  conferenceDataVersion?: 0 | 1;
}

const enc = encodeURIComponent;

export class GoogleCalendarApi {
  constructor(private readonly http: GoogleHttp) {}

  async listCalendarList(ctx: GoogleContext, pageToken?: string): Promise<GoogleCalendarListResponse> {
    return required(
      await this.http.send<GoogleCalendarListResponse>(ctx, {
        method: 'GET',
        path: '/users/me/calendarList',
        query: { maxResults: 250, pageToken },
        idempotent: true,
      }),
    );
  }

  async listEvents(ctx: GoogleContext, calendarId: string, params: EventsListParams): Promise<GoogleEventsListResponse> {
    return required(
      await this.http.send<GoogleEventsListResponse>(ctx, {
        method: 'GET',
        path: `/calendars/${enc(calendarId)}/events`,
        query: { ...params },
        idempotent: true,
      }),
    );
  }

  async listInstances(
    ctx: GoogleContext,
    calendarId: string,
    eventId: string,
    params: Pick<EventsListParams, 'timeMin' | 'timeMax' | 'maxResults' | 'pageToken' | 'showDeleted'>,
  ): Promise<GoogleEventsListResponse> {
    return required(
      await this.http.send<GoogleEventsListResponse>(ctx, {
        method: 'GET',
        path: `/calendars/${enc(calendarId)}/events/${enc(eventId)}/instances`,
        query: { ...params },
        idempotent: true,
      }),
    );
  }

  async getEvent(ctx: GoogleContext, calendarId: string, eventId: string): Promise<GoogleEvent> {
    return required(
      await this.http.send<GoogleEvent>(ctx, {
        method: 'GET',
        path: `/calendars/${enc(calendarId)}/events/${enc(eventId)}`,
        idempotent: true,
      }),
    );
  }

  /**
   * The body carries a client-chosen `id`, so repeating the insert after a fault cannot
   * create a twin: Google answers 409 `duplicate` instead (handled by the caller).
   */
  async insertEvent(ctx: GoogleContext, calendarId: string, body: GoogleEvent, options: WriteOptions = {}): Promise<GoogleEvent> {
    return required(
      await this.http.send<GoogleEvent>(ctx, {
        method: 'POST',
        path: `/calendars/${enc(calendarId)}/events`,
        query: { conferenceDataVersion: options.conferenceDataVersion },
        body,
        idempotent: body.id !== undefined,
      }),
    );
  }

  async patchEvent(
    ctx: GoogleContext,
    calendarId: string,
    eventId: string,
    body: Record<string, unknown>,
    options: WriteOptions = {},
  ): Promise<GoogleEvent> {
    return required(
      await this.http.send<GoogleEvent>(ctx, {
        method: 'PATCH',
        path: `/calendars/${enc(calendarId)}/events/${enc(eventId)}`,
        query: { conferenceDataVersion: options.conferenceDataVersion },
        body,
        ifMatch: options.etag,
        // With If-Match a repeat after a lost answer would fail 412 on our own change: not retried.
        idempotent: false,
      }),
    );
  }

  /** events.watch: a push channel on a calendar's events. Not repeated: a second channel with the same id is refused. */
  async watchEvents(ctx: GoogleContext, calendarId: string, watch: WatchRequest): Promise<GoogleChannel> {
    return required(
      await this.http.send<GoogleChannel>(ctx, {
        method: 'POST',
        path: `/calendars/${enc(calendarId)}/events/watch`,
        body: { id: watch.id, type: 'web_hook', address: watch.address, token: watch.token, params: { ttl: String(watch.ttlSeconds) } },
        idempotent: false,
      }),
    );
  }

  /** channels.stop; stopping twice changes nothing, so it may be repeated. */
  async stopChannel(ctx: GoogleContext, channel: { id: string; resourceId: string }): Promise<void> {
    await this.http.send<unknown>(ctx, { method: 'POST', path: '/channels/stop', body: channel, idempotent: true });
  }

  async deleteEvent(ctx: GoogleContext, calendarId: string, eventId: string, options: WriteOptions = {}): Promise<void> {
    await this.http.send<unknown>(ctx, {
      method: 'DELETE',
      path: `/calendars/${enc(calendarId)}/events/${enc(eventId)}`,
      ifMatch: options.etag,
      idempotent: true,
    });
  }
}

export interface WatchRequest {
  id: string;
  address: string;
  token: string;
  ttlSeconds: number;
}

export interface GoogleChannel {
  kind?: string;
  id?: string;
  resourceId?: string;
  resourceUri?: string;
  token?: string;
  /** Milliseconds since the epoch, as a string. */
  expiration?: string;
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new ProviderError('UNKNOWN', 'Google sent an empty answer');
  return value;
}
