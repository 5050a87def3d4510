/**
 * An emulator of the Google endpoints Almanac calls: OAuth (authorize, token, revoke,
 * userinfo) and Calendar API v3 (calendarList, events, instances), on a free
 * 127.0.0.1 port. Written from Google's documentation; a test fixture, never product
 * code. Knobs let tests inject faults, shorten pages, slow the token endpoint and
 * decide what the user consents to.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Accounts } from './emulator-accounts.js';
import type { CalendarListEntry, Consent, EmulatedUser } from './emulator-accounts.js';
import { handleCalendarApi } from './emulator-calendar-routes.js';
import { ApiError, apiErrorBody, OAuthEndpointError, sendJson } from './emulator-http.js';
import { handleAuthorize, handleRevoke, handleToken, handleUserInfo } from './emulator-oauth-routes.js';
import type { OAuthRouteDeps } from './emulator-oauth-routes.js';
import type { PagingKnobs } from './emulator-paging.js';
import { EventStore } from './emulator-store.js';
import { Channels } from './emulator-channels.js';
import type { CalendarRecord, EventResource } from './emulator-store.js';

export interface GoogleEmulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** Redirect URIs registered for the client; empty accepts any. */
  redirectUris?: string[];
  pageSizeCap?: number;
  emptyPages?: boolean;
  /** Rotating refresh tokens (see `accounts.rotateRefreshTokens`). */
  rotateRefreshTokens?: boolean;
}

/** A canned failure for the next matching request(s), answered before anything else. */
export interface Fault {
  status: number;
  /** `errors[0].reason` (API) or `error` (OAuth endpoints); defaults by status. */
  reason?: string;
  message?: string;
  /** Sent as the Retry-After header. */
  retryAfter?: string;
  /** How many requests it answers; Infinity for a persistent fault. Default 1. */
  times?: number;
  method?: string;
  /** Substring of, or pattern for, the request path. Default: any Calendar API path. */
  path?: string | RegExp;
}

/** Requests the `holdRequests` knob keeps waiting, like a slow network on demand. */
export interface RequestHold {
  /** How many requests are waiting now. */
  waiting(): number;
  /** Resolves once `count` requests are waiting. */
  untilWaiting(count: number): Promise<void>;
  /** Lets every waiting request (and any later one this hold would catch) through. */
  release(): void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  ifMatch?: string;
  status: number;
}

export interface GoogleEndpoints {
  authUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  userInfoUrl: string;
  apiRoot: string;
}

export interface AddCalendarSpec extends Partial<CalendarRecord> {
  accessRole?: CalendarListEntry['accessRole'];
  hidden?: boolean;
  summaryOverride?: string;
}

const DEFAULT_FAULT: Record<number, { reason: string; message: string; domain: string }> = {
  401: { reason: 'authError', message: 'Invalid Credentials', domain: 'global' },
  403: { reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', domain: 'usageLimits' },
  404: { reason: 'notFound', message: 'Not Found', domain: 'global' },
  410: { reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.', domain: 'global' },
  429: { reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', domain: 'usageLimits' },
  500: { reason: 'backendError', message: 'Backend Error', domain: 'global' },
  503: { reason: 'backendError', message: 'Backend Error', domain: 'global' },
};
const USAGE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'dailyLimitExceeded']);

export class GoogleEmulator {
  readonly accounts = new Accounts();
  readonly store = new EventStore();
  /** Push channels (events.watch, channels.stop) and the notifications they sent. */
  readonly channels = new Channels(() => this.url);
  readonly knobs: PagingKnobs & { tokenDelayMs: number };
  readonly stats = { tokenRequests: {} as Record<string, number> };
  readonly requests: RecordedRequest[] = [];
  readonly clientId: string;
  readonly clientSecret: string;
  private faults: (Fault & { left: number })[] = [];
  private holds: { left: number; method?: string; path?: string | RegExp; gate: Promise<void>; arrived(): void }[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private readonly oauth: OAuthRouteDeps;
  url = '';

  constructor(options: GoogleEmulatorOptions = {}) {
    this.clientId = options.clientId ?? 'almanac-test.apps.googleusercontent.com';
    this.clientSecret = options.clientSecret ?? 'GOCSPX-emulator-secret';
    this.store.onChange = (calendarId) => this.channels.changed(calendarId);
    this.accounts.rotateRefreshTokens = options.rotateRefreshTokens ?? false;
    this.knobs = { pageSizeCap: options.pageSizeCap ?? Number.MAX_SAFE_INTEGER, emptyPages: options.emptyPages ?? false, tokenDelayMs: 0 };
    this.oauth = {
      accounts: this.accounts,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      redirectUris: options.redirectUris ?? [],
      ensureUser: (email) => void this.addUser(email),
      stats: this.stats,
      tokenDelayMs: () => this.knobs.tokenDelayMs,
    };
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get endpoints(): GoogleEndpoints {
    return {
      authUrl: `${this.url}/o/oauth2/v2/auth`,
      tokenUrl: `${this.url}/token`,
      revokeUrl: `${this.url}/revoke`,
      userInfoUrl: `${this.url}/oauth2/v3/userinfo`,
      apiRoot: this.url,
    };
  }

  /** Everything GoogleSettings needs to point at this emulator. */
  settings(): GoogleEndpoints & { clientId: string; clientSecret: string } {
    return { clientId: this.clientId, clientSecret: this.clientSecret, ...this.endpoints };
  }

  /** A user with a primary calendar whose id is the email (as at Google). */
  addUser(email: string, options: { timeZone?: string } = {}): EmulatedUser {
    const user = this.accounts.addUser(email);
    if (!this.store.calendars.has(email)) {
      this.store.addCalendar({
        id: email,
        summary: email,
        timeZone: options.timeZone ?? 'UTC',
        colorId: '14',
        backgroundColor: '#9fe1e7',
        foregroundColor: '#000000',
      });
      user.calendarList.push({ calendarId: email, accessRole: 'owner', primary: true });
    }
    return user;
  }

  /** A secondary calendar in the user's list (id like Google's `…@group.calendar.google.com`). */
  addCalendar(email: string, spec: AddCalendarSpec = {}): CalendarRecord {
    const user = this.addUser(email);
    const { accessRole, hidden, summaryOverride, ...fields } = spec;
    const calendar = this.store.calendars.get(fields.id ?? '') ??
      this.store.addCalendar({
        id: fields.id ?? `${randomBytes(16).toString('hex')}@group.calendar.google.com`,
        summary: fields.summary ?? 'Calendar',
        description: fields.description,
        timeZone: fields.timeZone ?? 'UTC',
        colorId: fields.colorId ?? '7',
        backgroundColor: fields.backgroundColor ?? '#42d692',
        foregroundColor: fields.foregroundColor ?? '#000000',
      });
    user.calendarList.push({ calendarId: calendar.id, accessRole: accessRole ?? 'owner', hidden, summaryOverride });
    return calendar;
  }

  seedEvent(calendarId: string, resource: Partial<EventResource>): EventResource {
    return this.store.seed(calendarId, resource);
  }

  issueTokens(email: string, scopes: string[] = ['openid', 'email', 'https://www.googleapis.com/auth/calendar']): {
    accessToken: string;
    refreshToken: string;
    expiresIn: number;
  } {
    this.addUser(email);
    return this.accounts.issueTokens(email, scopes);
  }

  /** Who signs in on the next authorize and what they consent to. */
  setConsent(consent: Consent, email?: string): void {
    this.accounts.nextLogin = { email, consent };
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /**
   * Knob: the next `count` matching requests (default: any Calendar API request) wait
   * before they are read, until `release()`. Lets a test decide the order in which
   * requests that are already on the wire get their answers. A request whose client
   * disconnected meanwhile is dropped unanswered, as if lost before it reached Google.
   */
  holdRequests(spec: { count: number; method?: string; path?: string | RegExp }): RequestHold {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let waiting = 0;
    const watchers: { count: number; resolve(): void }[] = [];
    const hold = {
      left: spec.count,
      method: spec.method,
      path: spec.path,
      gate,
      arrived: () => {
        waiting += 1;
        for (const w of watchers.filter((x) => waiting >= x.count)) w.resolve();
      },
    };
    this.holds.push(hold);
    return {
      waiting: () => waiting,
      untilWaiting: (count) => (waiting >= count ? Promise.resolve() : new Promise<void>((resolve) => watchers.push({ count, resolve }))),
      release: () => {
        hold.left = 0;
        this.holds = this.holds.filter((h) => h !== hold);
        open();
      },
    };
  }

  async close(): Promise<void> {
    await this.channels.settled();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const isApi = url.pathname.startsWith('/calendar/v3/');
    res.on('finish', () => {
      const ifMatch = req.headers['if-match'];
      this.requests.push({
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        ...(ifMatch ? { ifMatch } : {}),
        status: res.statusCode,
      });
    });
    try {
      await this.waitIfHeld(req, url, isApi);
      // A client that went away while its request was held never reached Google: nothing happens.
      if (req.socket.destroyed) return;
      if (this.answerFault(req, res, url, isApi)) return;
      if (isApi) return await handleCalendarApi(req, res, url, { store: this.store, channels: this.channels, accounts: this.accounts, knobs: this.knobs });
      if (method === 'GET' && url.pathname === '/o/oauth2/v2/auth') return handleAuthorize(res, url, this.oauth);
      if (method === 'POST' && url.pathname === '/token') return await handleToken(req, res, this.oauth);
      if (method === 'POST' && url.pathname === '/revoke') return await handleRevoke(req, res, url, this.oauth);
      if (method === 'GET' && (url.pathname === '/oauth2/v3/userinfo' || url.pathname === '/v1/userinfo')) {
        return handleUserInfo(req, res, this.oauth);
      }
      sendJson(res, 404, apiErrorBody(new ApiError(404, 'notFound', 'Not Found')));
    } catch (error) {
      if (error instanceof ApiError) {
        sendJson(res, error.status, apiErrorBody(error), error.extra.retryAfter ? { 'retry-after': error.extra.retryAfter } : {});
      } else if (error instanceof OAuthEndpointError) {
        sendJson(res, error.status, { error: error.error, error_description: error.description });
      } else {
        console.error('google emulator: unexpected failure', error);
        sendJson(res, 500, apiErrorBody(new ApiError(500, 'backendError', 'Backend Error')));
      }
    }
  }

  private async waitIfHeld(req: IncomingMessage, url: URL, isApi: boolean): Promise<void> {
    const hold = this.holds.find(
      (h) =>
        h.left > 0 &&
        (h.method === undefined || h.method === req.method) &&
        (h.path === undefined ? isApi : typeof h.path === 'string' ? url.pathname.includes(h.path) : h.path.test(url.pathname)),
    );
    if (!hold) return;
    hold.left -= 1;
    hold.arrived();
    await hold.gate;
  }

  private answerFault(req: IncomingMessage, res: ServerResponse, url: URL, isApi: boolean): boolean {
    const fault = this.faults.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method === req.method) &&
        (f.path === undefined ? isApi : typeof f.path === 'string' ? url.pathname.includes(f.path) : f.path.test(url.pathname)),
    );
    if (!fault) return false;
    fault.left -= 1;
    const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
    if (!isApi) {
      sendJson(res, fault.status, { error: fault.reason ?? 'server_error', error_description: fault.message ?? 'Injected fault' }, headers);
      return true;
    }
    const defaults = DEFAULT_FAULT[fault.status] ?? { reason: 'unknown', message: 'Injected fault', domain: 'global' };
    const reason = fault.reason ?? defaults.reason;
    const domain = USAGE_REASONS.has(reason) ? 'usageLimits' : defaults.domain;
    sendJson(res, fault.status, apiErrorBody(new ApiError(fault.status, reason, fault.message ?? defaults.message, domain)), headers);
    return true;
  }
}

export async function startGoogleEmulator(options: GoogleEmulatorOptions = {}): Promise<GoogleEmulator> {
  return new GoogleEmulator(options).listen();
}
