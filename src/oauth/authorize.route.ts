/**
 * GET /api/oauth/authorize, plain or with the request_uri of a pushed request (RFC 9126).
 * Checks run in RFC 6749 §4.1.2.1 order: until the client and its redirect URI are known
 * good, errors are shown on an error page and never sent to the redirect URI; after
 * that, errors go back to the application as `?error=`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ParamError, readParams, readRepeatableParam } from '../http/params.js';
import type { IpLimit } from '../http/ip-limit.js';
import type { ClientRecord, ClientsRepository } from '../storage/repositories/clients.repo.js';
import type { EndUsersRepository } from '../storage/repositories/end-users.repo.js';
import { encodeSession, RESTART_COOKIE, RESTART_MAX_AGE_SECONDS, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, type ConnectSession } from '../connect/connect-session.js';
import { AUTHORIZE_PARAMS, AuthorizeRequestError, readAuthorizeRequest, readLanguage, resolveRedirectUri, type AuthorizeRequest } from './authorize-request.js';
import type { PushedRequests } from './pushed-requests.js';
import { redirectWithParams } from './redirect.js';
import { ACCEPTED_SCOPE_VALUES, DEFAULT_SCOPE } from './scopes.js';

// `providers` is read on its own: it is the one parameter that may be repeated.
const PARAMS = [...AUTHORIZE_PARAMS, 'request_uri'] as const;

export interface AuthorizeDeps {
  clients: ClientsRepository;
  users: EndUsersRepository;
  pushed: PushedRequests;
  cookieKey: Buffer;
  secureCookies: boolean;
  ipLimit: IpLimit;
  /** Shows an error page (or JSON to API clients) for errors that must not redirect. */
  showError(request: FastifyRequest, reply: FastifyReply, e: { status: number; error: string; message: string; lng?: string }): FastifyReply;
}

const PUSHED_REFUSALS = {
  unknown: 'request_uri is unknown, or was pushed by another client',
  used: 'request_uri has already been used: push a new authorization request',
  expired: 'request_uri has expired: push a new authorization request',
} as const;

export function registerAuthorizeRoute(app: FastifyInstance, deps: AuthorizeDeps): void {
  /** Opens the connect session: the request goes into the signed cookie, the browser to the hub. */
  async function openSession(reply: FastifyReply, client: ClientRecord, r: AuthorizeRequest, pushed: boolean): Promise<FastifyReply> {
    const user = await deps.users.findOrCreate(client.clientId, r.externalUserId);
    const session: ConnectSession = {
      sid: randomUUID(),
      clientId: client.clientId,
      userId: user.id,
      externalUserId: user.externalId,
      scope: r.scope,
      redirectUri: r.redirectUri,
      redirectUriExplicit: r.redirectUriExplicit,
      ...(r.state !== undefined ? { state: r.state } : {}),
      ...(r.codeChallenge !== undefined ? { codeChallenge: r.codeChallenge } : {}),
      ...(r.lng ? { lng: r.lng } : {}),
      ...(r.theme ? { theme: r.theme } : {}),
      ...(r.providers ? { providers: r.providers } : {}),
      ...(pushed ? { pushed: true as const } : {}),
      iat: Date.now(),
    };
    const cookie = { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies } as const;
    reply.setCookie(SESSION_COOKIE, encodeSession(deps.cookieKey, session), { ...cookie, maxAge: SESSION_MAX_AGE_SECONDS });
    reply.setCookie(RESTART_COOKIE, encodeSession(deps.cookieKey, session, RESTART_COOKIE), { ...cookie, path: '/connect', maxAge: RESTART_MAX_AGE_SECONDS });
    return reply.header('Cache-Control', 'no-store').redirect('/connect', 302);
  }

  app.get(
    '/api/oauth/authorize',
    {
      preHandler: deps.ipLimit('authorize'),
      schema: {
        tags: ['OAuth'],
        summary: 'Start the connect flow for one of the application’s users',
        description:
          'Answers 302 to the connect pages with the request kept in the signed oauth_req cookie. Either the authorize parameters ' +
          '(a plain request: the session may only add accounts) or client_id and the request_uri of a pushed request (POST ' +
          '/api/oauth/par: the session may also show and manage the user’s existing accounts).',
        querystring: {
          type: 'object',
          properties: {
            client_id: { type: 'string' },
            request_uri: { type: 'string', description: 'From POST /api/oauth/par; the other parameters are then taken from the pushed request' },
            user_id: { type: 'string' },
            response_type: { type: 'string', enum: ['code'] },
            scope: {
              type: 'string',
              enum: [...ACCEPTED_SCOPE_VALUES],
              default: DEFAULT_SCOPE,
              description: 'free-busy: events as opaque busy blocks, no calendar list, no writes. read: calendars and full events, no writes. read-write: everything. calendar: the same as read-write (the default of Mobiscroll’s Python and PHP SDKs).',
            },
            redirect_uri: { type: 'string' },
            state: { type: 'string' },
            lng: { type: 'string' },
            providers: {
              description: 'Providers the connect page offers: a comma list of google, microsoft, apple, caldav, or the parameter repeated (providers=google&providers=caldav), or both. Unknown names are ignored.',
              anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
            },
            theme: { type: 'string', enum: ['light', 'dark', 'auto'] },
            code_challenge: { type: 'string' },
            code_challenge_method: { type: 'string', enum: ['S256'] },
          },
        },
      },
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      let p: Partial<Record<(typeof PARAMS)[number], string>> & { providers?: string[] };
      try {
        p = { ...readParams(query, PARAMS, { maxLength: 2048 }), providers: readRepeatableParam(query, 'providers', { maxLength: 2048, maxItems: 20 }) };
      } catch (err) {
        if (!(err instanceof ParamError)) throw err;
        // Which redirect URI a repeated parameter means cannot be known: show the error here.
        return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: err.message });
      }
      const lng = readLanguage(p.lng);

      // 1. The client.
      if (!p.client_id) return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: 'Missing client_id', lng });
      const client = p.client_id.length <= 200 ? await deps.clients.find(p.client_id) : undefined;
      if (!client) return deps.showError(request, reply, { status: 401, error: 'invalid_client', message: 'Unknown client_id', lng });

      // A pushed request: its parameters were validated when the client pushed them; nothing else in the URL counts.
      if (p.request_uri !== undefined) {
        const opened = await deps.pushed.open(client.clientId, p.request_uri);
        if (opened.kind !== 'ok') return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: PUSHED_REFUSALS[opened.kind], lng });
        return openSession(reply, client, opened.request, true);
      }

      // 2. The redirect URI: exact match against the registration, never a redirect to anything else.
      let redirect: { redirectUri: string; explicit: boolean };
      try {
        redirect = resolveRedirectUri(client, p.redirect_uri);
      } catch (err) {
        if (!(err instanceof AuthorizeRequestError)) throw err;
        return deps.showError(request, reply, { status: 400, error: err.error, message: err.message, lng });
      }

      // 3. Everything else is reported to the application.
      try {
        if (client.requirePar) {
          throw new AuthorizeRequestError('invalid_request', 'This client requires pushed authorization requests: POST the parameters to /api/oauth/par and open /api/oauth/authorize?client_id=…&request_uri=…');
        }
        return await openSession(reply, client, readAuthorizeRequest(p, redirect), false);
      } catch (err) {
        if (!(err instanceof AuthorizeRequestError)) throw err;
        return reply.redirect(redirectWithParams(redirect.redirectUri, { error: err.error, error_description: err.message, state: p.state }), 302);
      }
    },
  );
}
