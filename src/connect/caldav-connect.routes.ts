/**
 * Connecting CalDAV and iCloud accounts: a login form, verification by discovery
 * before anything is stored, credentials sealed at rest, pending until the session's
 * code is exchanged. A CalDAV account is its server and user name (the same user name
 * on another server is another account); connecting one the user already has repairs
 * it when the code is exchanged. Every failure comes back on the same form with a
 * clear message; nothing is stored then.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { caldavIdentity, emailIdentity, hasControlCharacters } from '../domain/account-identity.js';
import type { BasicCredentials } from '../providers/types.js';
import { CaldavConnectError, type CaldavAccount } from '../providers/caldav/index.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import type { ConnectSession } from './connect-session.js';
import { formField, offeredProviders, type ConnectBaseDeps } from './connect.routes.js';
import { noticeUrl } from './hub-notice.js';
import type { CaldavErrorCode, IcloudErrorCode } from './views/view-models.js';
import { FORM_FIELDS } from './views/view-models.js';

export interface CaldavConnectDeps extends ConnectBaseDeps {
  /** Discovery with the SSRF-guarded fetch; injected so the routes never build a fetch. */
  discoverCaldav(input: { serverUrl: string; username: string; password: string }): Promise<CaldavAccount>;
  discoverApple(input: { appleId: string; appPassword: string }): Promise<CaldavAccount>;
}

const REASON_TO_CALDAV: Record<CaldavConnectError['reason'], CaldavErrorCode> = {
  auth: 'invalid_credentials',
  unreachable: 'server_unreachable',
  not_caldav: 'not_caldav',
  blocked: 'server_url_blocked',
  too_large: 'server_answer_too_large',
};
const REASON_TO_ICLOUD: Record<CaldavConnectError['reason'], IcloudErrorCode> = {
  auth: 'invalid_credentials',
  unreachable: 'unknown',
  not_caldav: 'unknown',
  blocked: 'unknown',
  too_large: 'server_answer_too_large',
};

const MAX_FIELD = 2048;

export function registerCaldavConnectRoutes(app: FastifyInstance, deps: CaldavConnectDeps): void {
  const { sessions, pages } = deps;
  // Each login post makes Almanac try a password on someone's server: a tenth of the general per-IP budget.
  const loginLimit = deps.ipLimit('connect-login', { divisor: 10 });

  /** The session and client for a login step, or undefined after an explanatory page was sent. */
  async function step(request: FastifyRequest, reply: FastifyReply, provider: 'caldav' | 'apple', posted: boolean): Promise<{ session: ConnectSession; client: ClientRecord } | undefined> {
    const session = posted ? await sessions.requirePosted(request, reply) : await sessions.require(request, reply);
    if (!session) return undefined;
    const client = await deps.clients.find(session.clientId);
    if (!client) {
      await sessions.showError(request, reply, session, { status: 401, kind: 'unknown_client', error: 'invalid_client', message: 'This application is no longer registered.' });
      return undefined;
    }
    if (!offeredProviders(deps.registry, session).includes(provider)) {
      await sessions.showError(request, reply, session, { status: 404, kind: 'not_found', error: 'not_found', message: 'This provider is not offered here.', retryUrl: '/connect' });
      return undefined;
    }
    return { session, client };
  }

  /** Stages the verified account for this session, unless it would go over the per-user limit. */
  async function connect(request: FastifyRequest, reply: FastifyReply, session: ConnectSession, provider: 'caldav' | 'apple', found: CaldavAccount, password: string): Promise<FastifyReply> {
    const identity = provider === 'caldav' ? caldavIdentity(found.principalUrl, found.accountId) : emailIdentity(found.accountId);
    if (await deps.sessionAccounts.wouldExceedLimit(session, provider, identity)) {
      return sessions.showError(request, reply, session, { status: 400, kind: 'account_limit', error: 'account_limit', message: 'This user has connected the maximum number of accounts.', retryUrl: '/connect' });
    }
    const credentials: BasicCredentials = {
      kind: 'basic',
      serverUrl: found.serverUrl,
      username: found.accountId,
      password,
      principalUrl: found.principalUrl,
      calendarHomeUrl: found.calendarHomeUrl,
    };
    const shownId = await deps.sessionAccounts.stage(session, { provider, identity, plainId: found.accountId, display: null, credentials, grantedScopes: ['caldav'], calendarPermissionGranted: true });
    return reply.redirect(noticeUrl(deps.cookieKey, session.sid, 'connected', shownId), 303);
  }

  app.get('/connect/caldav', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const s = await step(request, reply, 'caldav', false);
    return s ? pages.caldavLogin(request, reply, s) : reply;
  });

  app.post('/connect/caldav', { preHandler: loginLimit, schema: { hide: true } }, async (request, reply) => {
    const s = await step(request, reply, 'caldav', true);
    if (!s) return reply;
    const serverUrl = (formField(request, FORM_FIELDS.serverUrl) ?? '').trim();
    const username = (formField(request, FORM_FIELDS.username) ?? '').trim();
    const password = formField(request, FORM_FIELDS.password) ?? '';
    const errors: CaldavErrorCode[] = [];
    if (!serverUrl) errors.push('server_url_required');
    // URL parsing silently drops tabs and line breaks: refuse them rather than connect to something else than typed.
    else if (serverUrl.length > MAX_FIELD || hasControlCharacters(serverUrl)) errors.push('server_url_invalid');
    if (!username) errors.push('username_required');
    else if (hasControlCharacters(username)) errors.push('username_invalid');
    if (!password) errors.push('password_required');
    if (username.length > MAX_FIELD || password.length > MAX_FIELD) errors.push('invalid_credentials');
    const values = { serverUrl: serverUrl.slice(0, MAX_FIELD), username: username.slice(0, MAX_FIELD) };
    if (errors.length > 0) return pages.caldavLogin(request, reply, { ...s, errors, values, status: 400 });
    let found: CaldavAccount;
    try {
      found = await deps.discoverCaldav({ serverUrl, username, password });
    } catch (err) {
      if (!(err instanceof CaldavConnectError)) throw err;
      request.log.info({ reason: err.reason }, 'caldav connect refused');
      return pages.caldavLogin(request, reply, { ...s, errors: [REASON_TO_CALDAV[err.reason]], values, status: 400 });
    }
    return connect(request, reply, s.session, 'caldav', found, password);
  });

  app.get('/connect/icloud', { preHandler: deps.ipLimit('connect'), schema: { hide: true } }, async (request, reply) => {
    const s = await step(request, reply, 'apple', false);
    return s ? pages.icloudLogin(request, reply, s) : reply;
  });

  app.post('/connect/icloud', { preHandler: loginLimit, schema: { hide: true } }, async (request, reply) => {
    const s = await step(request, reply, 'apple', true);
    if (!s) return reply;
    const appleId = (formField(request, FORM_FIELDS.appleId) ?? '').trim();
    const appPassword = (formField(request, FORM_FIELDS.password) ?? '').replace(/\s+/g, '');
    const errors: IcloudErrorCode[] = [];
    if (!appleId) errors.push('apple_id_required');
    else if (appleId.length > 320 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(appleId) || hasControlCharacters(appleId)) errors.push('apple_id_invalid');
    if (!appPassword) errors.push('app_password_required');
    else if (appPassword.length > 256) errors.push('invalid_credentials');
    const values = { appleId: appleId.slice(0, 320) };
    if (errors.length > 0) return pages.icloudLogin(request, reply, { ...s, errors, values, status: 400 });
    let found: CaldavAccount;
    try {
      found = await deps.discoverApple({ appleId, appPassword });
    } catch (err) {
      if (!(err instanceof CaldavConnectError)) throw err;
      request.log.info({ reason: err.reason }, 'icloud connect refused');
      return pages.icloudLogin(request, reply, { ...s, errors: [REASON_TO_ICLOUD[err.reason]], values, status: err.reason === 'auth' ? 400 : 502 });
    }
    return connect(request, reply, s.session, 'apple', found, appPassword);
  });
}
