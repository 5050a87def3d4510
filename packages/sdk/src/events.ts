import type { ClientCore } from './client.js';
import { AlmanacError } from './errors.js';
import type { QueryValue, RequestOptions } from './http.js';
import type {
  CalendarEvent,
  DeleteEventResponse,
  EventCreateData,
  EventDeleteParams,
  EventListParams,
  EventResponse,
  EventsListResponse,
  EventUpdateData,
} from './types.js';

function isoOf(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

/** Query of `GET /api/events` in the wire format Mobiscroll's SDK uses. */
function listQuery(params: EventListParams): Record<string, QueryValue> {
  const { calendarIds } = params;
  return {
    pageSize: params.pageSize,
    start: isoOf(params.start),
    end: isoOf(params.end),
    // The API takes the per-provider object as a JSON string; a string is assumed to be that JSON already.
    calendarIds: calendarIds === undefined || typeof calendarIds === 'string' ? calendarIds : JSON.stringify(calendarIds),
    nextPageToken: params.nextPageToken || undefined,
    singleEvents: params.singleEvents,
  };
}

/** `client.events`. */
export class Events {
  readonly #core: ClientCore;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  /** One page of events, sorted by start across providers. */
  async list(params: EventListParams = {}, options?: RequestOptions): Promise<EventsListResponse> {
    const page = await this.#core.call<EventsListResponse | undefined>(
      { method: 'GET', path: '/events', query: listQuery(params) },
      options,
    );
    // An empty body would otherwise crash `page.events` in callers.
    return page ?? { events: [] };
  }

  /**
   * Every page from `params.nextPageToken` (or the first) to the last, one request per
   * page, fetched lazily as the loop asks for the next one.
   */
  async *pages(params: EventListParams = {}, options?: RequestOptions): AsyncGenerator<EventsListResponse, void, undefined> {
    const seen = new Set<string>();
    let token = params.nextPageToken || undefined;
    for (;;) {
      const page = await this.list({ ...params, nextPageToken: token }, options);
      yield page;
      token = page.nextPageToken || undefined;
      if (token === undefined) return;
      // A server handing back a token it already gave would otherwise loop forever.
      if (seen.has(token)) {
        throw new AlmanacError('The server repeated a nextPageToken; stopping pagination', 'PAGINATION_ERROR');
      }
      seen.add(token);
    }
  }

  /**
   * Every event in the range across all pages: `for await (const e of client.events.iterate({...}))`.
   * Use `pages()` when the page boundaries matter.
   */
  async *iterate(params: EventListParams = {}, options?: RequestOptions): AsyncGenerator<CalendarEvent, void, undefined> {
    for await (const page of this.pages(params, options)) {
      yield* page.events ?? [];
    }
  }

  /** Creates an event. POST is not idempotent, so it is never retried automatically. */
  async create(data: EventCreateData, options?: RequestOptions): Promise<EventResponse> {
    return this.#core.call<EventResponse>({ method: 'POST', path: '/event', body: data }, options);
  }

  /** Updates an event; omitted fields stay unchanged. */
  async update(data: EventUpdateData, options?: RequestOptions): Promise<EventResponse> {
    return this.#core.call<EventResponse>({ method: 'PUT', path: '/event', body: data }, options);
  }

  /** Deletes an event (or occurrences of a series, per `deleteMode`). Parameters go in the query string. */
  async delete(params: EventDeleteParams, options?: RequestOptions): Promise<DeleteEventResponse> {
    const query: Record<string, QueryValue> = {};
    for (const [key, value] of Object.entries(params) as Array<[string, unknown]>) {
      if (value !== undefined && value !== null) query[key] = String(value);
    }
    return this.#core.call<DeleteEventResponse>({ method: 'DELETE', path: '/event', query }, options);
  }
}
