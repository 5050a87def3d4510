/**
 * An emulator of the Microsoft endpoints Almanac calls: the identity platform v2.0
 * (authorize, token) and Microsoft Graph v1.0 calendars and events, on a free
 * 127.0.0.1 port. Written from Microsoft's documentation; a test fixture, never
 * product code. Knobs: consent, faults (429 with Retry-After, 503, anything), page
 * size caps, delta token expiry, token expiry and revocation.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody, sendJson } from './graph-http.js';
import { handleGraph } from './graph-routes.js';
import type { DeltaState } from './graph-routes.js';
import { GraphError, GraphStore } from './graph-store.js';
import type { CalendarRecord, EmailAddress, EventFields, StoredEvent } from './graph-store.js';
import { Subscriptions } from './graph-subscriptions.js';
import { Identity } from './identity.js';
import type { Consent } from './identity.js';

export interface MicrosoftEmulatorOptions {
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
}

export interface GraphFault {
  status: number;
  /** Graph's `error.code`, or the OAuth `error` on identity paths. */
  code?: string;
  message?: string;
  retryAfter?: string;
  times?: number;
  method?: string;
  /** Substring of the path; default: any Graph path. */
  path?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  prefer?: string;
  ifMatch?: string;
  status: number;
}

const DEFAULT_CODES: Record<number, string> = { 429: 'TooManyRequests', 503: 'ServiceNotAvailable', 500: 'InternalServerError', 504: 'GatewayTimeout' };

export class MicrosoftEmulator {
  readonly store = new GraphStore();
  readonly identity: Identity;
  readonly deltas = new Map<string, DeltaState>();
  readonly subscriptions = new Subscriptions((email, resource) => {
    const m = /^\/?me\/(?:calendars\/([^/]+)\/events|events)$/.exec(resource);
    if (!m) return undefined;
    const calendar = m[1] ? this.store.calendars.get(decodeURIComponent(m[1])) : this.store.calendarsOf(email).find((c) => c.isDefaultCalendar);
    return calendar && this.store.mailboxOf.get(calendar.id) === email ? calendar.id : undefined;
  });
  readonly requests: RecordedRequest[] = [];
  readonly knobs = { maxPageSize: 1000 };
  /** Most Graph requests in flight at once per mailbox, as seen. */
  maxConcurrent = 0;
  /** Knob: this many ms before every Graph answer (lets concurrency build up). */
  delayMs = 0;
  private inFlight = new Map<string, number>();
  private faults: (GraphFault & { left: number })[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));
  url = '';

  constructor(options: MicrosoftEmulatorOptions = {}) {
    this.identity = new Identity(options.clientId ?? '6731de76-14a6-49ae-97bc-6eba6914391e', options.clientSecret ?? 'emulator~secret', options.redirectUris ?? []);
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** What MicrosoftSettings need to point at this emulator. */
  settings(): { clientId: string; clientSecret: string; tenant: string; authorityUrl: string; graphUrl: string } {
    return { clientId: this.identity.clientId, clientSecret: this.identity.clientSecret, tenant: 'common', authorityUrl: this.url, graphUrl: `${this.url}/v1.0` };
  }

  /** A user with a default calendar named "Calendar". */
  addUser(email: string, options: { emailClaim?: boolean } = {}): { email: string; defaultCalendar: CalendarRecord } {
    this.identity.addUser(email, options);
    let cal = this.store.calendarsOf(email).find((c) => c.isDefaultCalendar);
    if (!cal) cal = this.store.addCalendar(email, { name: 'Calendar', isDefaultCalendar: true, isRemovable: false, color: 'auto', hexColor: '' });
    return { email, defaultCalendar: cal };
  }

  addCalendar(email: string, spec: Partial<CalendarRecord> & { name: string }): CalendarRecord {
    this.addUser(email);
    return this.store.addCalendar(email, spec);
  }

  seedEvent(calendarId: string, fields: EventFields, organizer?: EmailAddress): StoredEvent {
    const email = this.store.mailboxOf.get(calendarId);
    if (!email) throw new Error(`no calendar ${calendarId}`);
    return this.store.create(calendarId, fields, organizer ?? { name: email.split('@')[0], address: email });
  }

  issueTokens(email: string, scopes = ['openid', 'email', 'profile', 'offline_access', 'Calendars.ReadWrite']) {
    this.addUser(email);
    return this.identity.issue(email, scopes);
  }

  setConsent(consent: Consent, email?: string): void {
    this.identity.nextLogin = { email, consent };
  }

  injectFault(fault: GraphFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Every delta link handed out so far answers 410 SyncStateNotFound. */
  expireDeltaTokens(): void {
    this.deltas.clear();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const isGraph = url.pathname.startsWith('/v1.0/');
    res.on('finish', () => {
      const prefer = req.headers.prefer;
      const ifMatch = req.headers['if-match'];
      this.requests.push({
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        ...(prefer ? { prefer: String(prefer) } : {}),
        ...(ifMatch ? { ifMatch } : {}),
        status: res.statusCode,
      });
    });
    const mailbox = req.headers.authorization ?? '';
    try {
      if (this.answerFault(req, res, url, isGraph)) return;
      const identityPath = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/.exec(url.pathname);
      if (identityPath && method === 'GET' && identityPath[2] === 'authorize') return this.identity.authorize(res, url, identityPath[1]!);
      if (identityPath && method === 'POST' && identityPath[2] === 'token') return await this.identity.token(req, res);
      if (!isGraph) throw new GraphError(404, 'ResourceNotFound', 'Resource not found');
      if (isGraph && mailbox) {
        const n = (this.inFlight.get(mailbox) ?? 0) + 1;
        this.inFlight.set(mailbox, n);
        this.maxConcurrent = Math.max(this.maxConcurrent, n);
        res.on('close', () => this.inFlight.set(mailbox, (this.inFlight.get(mailbox) ?? 1) - 1));
        // Outlook serves at most four concurrent requests per app and mailbox (concepts/throttling).
        if (n > 4) throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
      }
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      await handleGraph(req, res, url, { store: this.store, identity: this.identity, base: `${this.url}/v1.0`, knobs: this.knobs, deltas: this.deltas, subscriptions: this.subscriptions });
    } catch (error) {
      if (error instanceof GraphError) {
        sendJson(res, error.status, errorBody(error), error.headers);
      } else {
        console.error('microsoft emulator: unexpected failure', error);
        sendJson(res, 500, errorBody(new GraphError(500, 'InternalServerError', 'An internal server error occurred.')));
      }
    }
  }

  private answerFault(req: IncomingMessage, res: ServerResponse, url: URL, isGraph: boolean): boolean {
    const fault = this.faults.find((f) => f.left > 0 && (f.method === undefined || f.method === req.method) && (f.path === undefined ? isGraph : url.pathname.includes(f.path)));
    if (!fault) return false;
    fault.left -= 1;
    const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
    if (!isGraph) {
      sendJson(res, fault.status, { error: fault.code ?? 'temporarily_unavailable', error_description: fault.message ?? 'AADSTS50000: Injected fault.' }, headers);
      return true;
    }
    sendJson(res, fault.status, errorBody(new GraphError(fault.status, fault.code ?? DEFAULT_CODES[fault.status] ?? 'UnknownError', fault.message ?? 'Injected fault')), headers);
    return true;
  }
}

export async function startMicrosoftEmulator(options: MicrosoftEmulatorOptions = {}): Promise<MicrosoftEmulator> {
  return new MicrosoftEmulator(options).listen();
}
