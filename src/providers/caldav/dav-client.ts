/**
 * The handful of WebDAV/CalDAV requests the adapters need. It speaks HTTP and XML
 * only: non-2xx answers leave as DavHttpError, and `map-caldav-error.ts` decides
 * what they mean for the API.
 */
import { createDavAuthorizer, sendAuthorized } from './dav-authorizer.js';
import { DavXmlError, errorConditions, multistatusFailure, multistatusSyncToken, parseMultistatus, propfindBody, syncCollectionBody, type DavResponse, type PropName } from './dav-xml.js';

export class DavHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    /** Precondition names of a DAV:error body (`no-uid-conflict`, `need-privileges`). */
    readonly conditions: string[],
    readonly retryAfterMs?: number,
  ) {
    super(`${method} answered HTTP ${status}`);
    this.name = 'DavHttpError';
  }
}

export interface DavCredentials {
  username: string;
  password: string;
}

export interface DavClientOptions extends DavCredentials {
  fetch: typeof fetch;
  signal?: AbortSignal;
}

export interface DavObject {
  url: string;
  etag?: string;
  body: string;
}

export interface DavClient {
  propfind(url: string, props: readonly PropName[], depth: 0 | 1): Promise<DavResponse[]>;
  report(url: string, body: string, depth: 0 | 1): Promise<DavResponse[]>;
  /** RFC 6578 sync-collection (Depth 0, sync-level 1): changed and removed members, and the new token. */
  syncCollection(url: string, token: string | undefined): Promise<{ responses: DavResponse[]; syncToken?: string }>;
  get(url: string): Promise<DavObject>;
  /** Resolves to the new ETag when the server sent one. */
  put(url: string, ics: string, precondition: { ifMatch: string } | { ifNoneMatch: '*' }): Promise<string | undefined>;
  delete(url: string, ifMatch?: string): Promise<void>;
  mkcalendar(url: string, body: string): Promise<void>;
}

/** Seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function failure(response: Response, method: string): Promise<DavHttpError> {
  const text = await response.text().catch(() => '');
  return new DavHttpError(
    response.status,
    method,
    text.includes('<') ? errorConditions(text) : [],
    parseRetryAfter(response.headers.get('retry-after')),
  );
}

/** A write answered 207 succeeded only if every response in it did; else its first failure is the write's. */
async function refusedInMultistatus(response: Response, method: string): Promise<DavHttpError | undefined> {
  if (response.status !== 207) {
    await response.body?.cancel();
    return undefined;
  }
  let failed: { status: number; conditions: string[] } | undefined;
  try {
    failed = multistatusFailure(await response.text());
  } catch {
    failed = { status: 500, conditions: [] };
  }
  return failed ? new DavHttpError(failed.status, method, failed.conditions) : undefined;
}

export function createDavClient(options: DavClientOptions): DavClient {
  const authorizer = createDavAuthorizer(options);

  async function send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Response> {
    return sendAuthorized(authorizer, url, method, body, (authorization) =>
      options.fetch(url, {
        method,
        headers: { authorization, ...headers },
        ...(body === undefined ? {} : { body }),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
  }

  async function multistatusText(method: string, url: string, body: string, depth: 0 | 1): Promise<{ xml: string; base: string }> {
    const response = await send(method, url, { depth: String(depth), 'content-type': 'application/xml; charset=utf-8' }, body);
    if (response.status !== 207) {
      if (response.ok) {
        await response.body?.cancel();
        throw new DavXmlError(`${method} answered HTTP ${response.status} instead of 207 Multi-Status`);
      }
      throw await failure(response, method);
    }
    return { xml: await response.text(), base: response.url || url };
  }

  async function multistatus(method: string, url: string, body: string, depth: 0 | 1): Promise<DavResponse[]> {
    const { xml, base } = await multistatusText(method, url, body, depth);
    return parseMultistatus(xml, base);
  }

  return {
    propfind: (url, props, depth) => multistatus('PROPFIND', url, propfindBody(props), depth),
    report: (url, body, depth) => multistatus('REPORT', url, body, depth),

    async syncCollection(url, token) {
      const { xml, base } = await multistatusText('REPORT', url, syncCollectionBody(token), 0);
      const syncToken = multistatusSyncToken(xml);
      return { responses: parseMultistatus(xml, base), ...(syncToken ? { syncToken } : {}) };
    },

    async get(url) {
      const response = await send('GET', url, { accept: 'text/calendar' });
      if (!response.ok) throw await failure(response, 'GET');
      const etag = response.headers.get('etag') ?? undefined;
      return { url: response.url || url, body: await response.text(), ...(etag ? { etag } : {}) };
    },

    async put(url, ics, precondition) {
      const conditional: Record<string, string> =
        'ifMatch' in precondition ? { 'if-match': precondition.ifMatch } : { 'if-none-match': '*' };
      const response = await send('PUT', url, { 'content-type': 'text/calendar; charset=utf-8', ...conditional }, ics);
      if (!response.ok) throw await failure(response, 'PUT');
      const refused = await refusedInMultistatus(response, 'PUT');
      if (refused) throw refused;
      return response.headers.get('etag') ?? undefined;
    },

    async delete(url, ifMatch) {
      const response = await send('DELETE', url, ifMatch ? { 'if-match': ifMatch } : {});
      if (!response.ok) throw await failure(response, 'DELETE');
      const refused = await refusedInMultistatus(response, 'DELETE');
      if (refused) throw refused;
    },

    async mkcalendar(url, body) {
      const response = await send('MKCALENDAR', url, { 'content-type': 'application/xml; charset=utf-8' }, body);
      if (!response.ok) throw await failure(response, 'MKCALENDAR');
      await response.body?.cancel();
    },
  };
}
