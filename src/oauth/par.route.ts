/**
 * POST /api/oauth/par: pushed authorization requests (RFC 9126). The client
 * authenticates exactly as at /token, sends the authorize parameters, and gets a
 * one-time request_uri for `GET /api/oauth/authorize?client_id=…&request_uri=…`.
 * Every failure is an RFC 6749 §5.2 error body (RFC 9126 §2.3).
 */
import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../domain/errors.js';
import { ParamError, readParams, readRepeatableParam } from '../http/params.js';
import type { IpLimit } from '../http/ip-limit.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import { AUTHORIZE_PARAMS, AuthorizeRequestError, readAuthorizeRequest, resolveRedirectUri } from './authorize-request.js';
import { authenticateClient, readClientCredentials } from './client-authenticator.js';
import { PUSHED_REQUEST_TTL_SECONDS, type PushedRequests } from './pushed-requests.js';
import { ACCEPTED_SCOPE_VALUES } from './scopes.js';

// `providers` is read on its own: as at authorize, it may be repeated.
const PARAMS = [...AUTHORIZE_PARAMS, 'client_secret', 'request_uri'] as const;

export function registerParRoute(app: FastifyInstance, deps: { clients: ClientsRepository; pushed: PushedRequests; ipLimit: IpLimit; clientSecretKey: Buffer }): void {
  app.post(
    '/api/oauth/par',
    {
      config: { oauthErrors: true },
      preHandler: deps.ipLimit('par'),
      schema: {
        tags: ['OAuth'],
        summary: 'Push an authorization request (RFC 9126)',
        description:
          'Client authentication as at /token (HTTP Basic, or client_id and client_secret in the body) plus the authorize ' +
          'parameters. A session opened with the returned request_uri may show and manage the user’s existing accounts; a plain ' +
          'authorize request may only add accounts. The request_uri works once, within expires_in seconds.',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: {
          type: 'object',
          properties: {
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
            user_id: { type: 'string' },
            response_type: { type: 'string', enum: ['code'] },
            scope: { type: 'string', enum: [...ACCEPTED_SCOPE_VALUES], description: 'As at authorize: calendar means read-write' },
            redirect_uri: { type: 'string' },
            state: { type: 'string' },
            lng: { type: 'string' },
            providers: { description: 'As at authorize: a comma list, the parameter repeated, or both', anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            theme: { type: 'string', enum: ['light', 'dark', 'auto'] },
            code_challenge: { type: 'string' },
            code_challenge_method: { type: 'string', enum: ['S256'] },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: { request_uri: { type: 'string' }, expires_in: { type: 'integer', description: `Seconds (${PUSHED_REQUEST_TTL_SECONDS})` } },
          },
        },
      },
      // Validated by hand below so every failure is an RFC 6749 error.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      let p: Partial<Record<(typeof PARAMS)[number], string>> & { providers?: string[] };
      try {
        if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
          throw new OAuthError('invalid_request', 'Body must be a form or a JSON object with the authorize parameters');
        }
        const body = request.body as Record<string, unknown>;
        p = { ...readParams(body, PARAMS, { maxLength: 2048 }), providers: readRepeatableParam(body, 'providers', { maxLength: 2048, maxItems: 20 }) };
      } catch (err) {
        if (err instanceof ParamError) throw new OAuthError('invalid_request', err.message);
        throw err;
      }
      const auth = request.headers.authorization;
      const client = await authenticateClient(deps.clients, readClientCredentials(typeof auth === 'string' ? auth : undefined, p), deps.clientSecretKey);
      // RFC 9126 §2.1: a pushed request cannot itself refer to a pushed request.
      if (p.request_uri !== undefined) throw new OAuthError('invalid_request', 'request_uri must not be sent to the pushed authorization request endpoint');
      let pushedRequest;
      try {
        pushedRequest = readAuthorizeRequest(p, resolveRedirectUri(client, p.redirect_uri));
      } catch (err) {
        if (err instanceof AuthorizeRequestError) throw new OAuthError(err.error, err.message);
        throw err;
      }
      const pushed = await deps.pushed.push(client.clientId, pushedRequest);
      return reply.code(201).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(pushed);
    },
  );
}
