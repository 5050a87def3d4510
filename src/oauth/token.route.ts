/** POST /api/oauth/token (RFC 6749 §3.2): form or JSON bodies, Basic or body client auth. */
import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../domain/errors.js';
import { ParamError, readParams } from '../http/params.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import { authenticateClient, readClientCredentials } from './client-authenticator.js';
import type { TokenService } from './token.service.js';
import type { IpLimit } from '../http/ip-limit.js';

const PARAMS = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'client_id', 'client_secret'] as const;

export function registerTokenRoute(app: FastifyInstance, deps: { tokens: TokenService; clients: ClientsRepository; ipLimit: IpLimit; clientSecretKey: Buffer }): void {
  app.post(
    '/api/oauth/token',
    {
      config: { oauthErrors: true },
      preHandler: deps.ipLimit('token'),
      schema: {
        tags: ['OAuth'],
        summary: 'Exchange an authorization code or rotate a refresh token',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: {
          type: 'object',
          properties: {
            grant_type: { type: 'string', enum: ['authorization_code', 'refresh_token'] },
            code: { type: 'string' },
            redirect_uri: { type: 'string' },
            code_verifier: { type: 'string' },
            refresh_token: { type: 'string' },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string' },
              expires_in: { type: 'integer' },
              refresh_token: { type: 'string' },
              scope: { type: 'string' },
            },
          },
        },
      },
      // The schema documents the body; validation is done by hand below so every failure is an RFC 6749 error.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      let p: Partial<Record<(typeof PARAMS)[number], string>>;
      try {
        if (request.body !== undefined && (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body))) {
          throw new OAuthError('invalid_request', 'Body must be a form or a JSON object');
        }
        p = readParams(request.body as Record<string, unknown> | undefined, PARAMS, { maxLength: 4096 });
      } catch (err) {
        if (err instanceof ParamError) throw new OAuthError('invalid_request', err.message);
        throw err;
      }
      if (!p.grant_type) throw new OAuthError('invalid_request', 'Missing grant_type');
      if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token') {
        throw new OAuthError('unsupported_grant_type', `Unsupported grant_type: use authorization_code or refresh_token`);
      }
      const auth = request.headers.authorization;
      const client = await authenticateClient(deps.clients, readClientCredentials(typeof auth === 'string' ? auth : undefined, p), deps.clientSecretKey);
      const result = p.grant_type === 'authorization_code' ? await deps.tokens.exchangeCode(client, p) : await deps.tokens.refresh(client, p);
      reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
      return result;
    },
  );
}
