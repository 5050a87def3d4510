/**
 * GET /api/oauth/authorize. Checks run in RFC 6749 §4.1.2.1 order: until the client and
 * its redirect URI are known good, errors are shown on an error page and never sent
 * to the redirect URI; after that, errors go back to the application as `?error=`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isProviderId, type ProviderId } from '../domain/calendar.js';
import { ParamError, readParams, readRepeatableParam } from '../http/params.js';
import type { IpLimit } from '../http/ip-limit.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import type { EndUsersRepository } from '../storage/repositories/end-users.repo.js';
import { encodeSession, RESTART_COOKIE, RESTART_MAX_AGE_SECONDS, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, type ConnectSession } from '../connect/connect-session.js';
import { isValidCodeChallenge } from './pkce.js';
import { ACCEPTED_SCOPE_VALUES, DEFAULT_SCOPE, parseScopeParam } from './scopes.js';
import { redirectWithParams } from './redirect.js';

// `providers` is read on its own: it is the one parameter that may be repeated.
const PARAMS = ['client_id', 'user_id', 'response_type', 'scope', 'redirect_uri', 'state', 'lng', 'theme', 'code_challenge', 'code_challenge_method'] as const;

export interface AuthorizeDeps {
  clients: ClientsRepository;
  users: EndUsersRepository;
  cookieKey: Buffer;
  secureCookies: boolean;
  ipLimit: IpLimit;
  /** Shows an error page (or JSON to API clients) for errors that must not redirect. */
  showError(request: FastifyRequest, reply: FastifyReply, e: { status: number; error: string; message: string; lng?: string }): FastifyReply;
}

class RedirectableError extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export function registerAuthorizeRoute(app: FastifyInstance, deps: AuthorizeDeps): void {
  app.get(
    '/api/oauth/authorize',
    {
      preHandler: deps.ipLimit('authorize'),
      schema: {
        tags: ['OAuth'],
        summary: 'Start the connect flow for one of the application’s users',
        description: 'Answers 302 to the connect pages with the request kept in the signed oauth_req cookie.',
        querystring: {
          type: 'object',
          properties: {
            client_id: { type: 'string' },
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
      let p: Partial<Record<(typeof PARAMS)[number], string>>;
      let providerParams: string[] | undefined;
      try {
        p = readParams(query, PARAMS, { maxLength: 2048 });
        providerParams = readRepeatableParam(query, 'providers', { maxLength: 2048, maxItems: 20 });
      } catch (err) {
        if (!(err instanceof ParamError)) throw err;
        // Which redirect URI a repeated parameter means cannot be known: show the error here.
        return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: err.message });
      }
      const lng = p.lng && p.lng.length <= 35 ? p.lng : undefined;

      // 1. The client.
      if (!p.client_id) return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: 'Missing client_id', lng });
      const client = p.client_id.length <= 200 ? await deps.clients.find(p.client_id) : undefined;
      if (!client) return deps.showError(request, reply, { status: 401, error: 'invalid_client', message: 'Unknown client_id', lng });

      // 2. The redirect URI: exact match against the registration, never a redirect to anything else.
      let redirectUri: string;
      if (p.redirect_uri !== undefined) {
        if (!client.redirectUris.includes(p.redirect_uri)) {
          return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: 'redirect_uri is not registered for this client', lng });
        }
        redirectUri = p.redirect_uri;
      } else if (client.redirectUris.length === 1 && client.redirectUris[0]) {
        redirectUri = client.redirectUris[0];
      } else {
        return deps.showError(request, reply, { status: 400, error: 'invalid_request', message: 'redirect_uri is required: this client has several registered', lng });
      }

      // 3. Everything else is reported to the application.
      try {
        if (p.response_type !== undefined && p.response_type !== 'code') throw new RedirectableError('unsupported_response_type', 'Only response_type=code is supported');
        if (!p.user_id || p.user_id.trim() === '') throw new RedirectableError('invalid_request', 'Missing user_id');
        if (p.user_id.length > 256) throw new RedirectableError('invalid_request', 'user_id is longer than 256 characters');
        const scope = p.scope === undefined ? DEFAULT_SCOPE : parseScopeParam(p.scope);
        if (!scope) throw new RedirectableError('invalid_scope', 'scope must be free-busy, read or read-write (calendar means read-write)');
        if (p.state !== undefined && p.state.length > 1024) throw new RedirectableError('invalid_request', 'state is longer than 1024 characters');
        if (p.code_challenge !== undefined) {
          if (p.code_challenge_method !== 'S256') throw new RedirectableError('invalid_request', 'code_challenge_method must be S256');
          if (!isValidCodeChallenge(p.code_challenge)) throw new RedirectableError('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]');
        } else if (p.code_challenge_method !== undefined) {
          throw new RedirectableError('invalid_request', 'code_challenge_method without code_challenge');
        }
        let providers: ProviderId[] | undefined;
        // Comma lists and repeated parameters (the Ruby and Go SDKs repeat it) mean the same: their union.
        const given = (providerParams ?? []).filter((v) => v.trim() !== '');
        if (given.length > 0) {
          const listed = given.flatMap((v) => v.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
          providers = [...new Set(listed.filter(isProviderId))];
          if (providers.length === 0) throw new RedirectableError('invalid_request', 'providers lists no known provider (google, microsoft, apple, caldav)');
        }
        const theme = p.theme === 'light' || p.theme === 'dark' || p.theme === 'auto' ? p.theme : undefined;

        const user = await deps.users.findOrCreate(client.clientId, p.user_id);
        const session: ConnectSession = {
          sid: randomUUID(),
          clientId: client.clientId,
          userId: user.id,
          externalUserId: user.externalId,
          scope,
          redirectUri,
          redirectUriExplicit: p.redirect_uri !== undefined,
          ...(p.state !== undefined ? { state: p.state } : {}),
          ...(p.code_challenge !== undefined ? { codeChallenge: p.code_challenge } : {}),
          ...(lng ? { lng } : {}),
          ...(theme ? { theme } : {}),
          ...(providers ? { providers } : {}),
          iat: Date.now(),
        };
        const cookie = { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies } as const;
        reply.setCookie(SESSION_COOKIE, encodeSession(deps.cookieKey, session), { ...cookie, maxAge: SESSION_MAX_AGE_SECONDS });
        reply.setCookie(RESTART_COOKIE, encodeSession(deps.cookieKey, session, RESTART_COOKIE), { ...cookie, path: '/connect', maxAge: RESTART_MAX_AGE_SECONDS });
        return reply.header('Cache-Control', 'no-store').redirect('/connect', 302);
      } catch (err) {
        if (!(err instanceof RedirectableError)) throw err;
        return reply.redirect(redirectWithParams(redirectUri, { error: err.error, error_description: err.message, state: p.state }), 302);
      }
    },
  );
}
