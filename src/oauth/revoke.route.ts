/** POST /api/oauth/revoke: always 200 unless `token` is missing or not a string (API.md). */
import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../domain/errors.js';
import { ParamError, readParam } from '../http/params.js';
import type { TokenService } from './token.service.js';
import type { IpLimit } from '../http/ip-limit.js';

export function registerRevokeRoute(app: FastifyInstance, deps: { tokens: TokenService; ipLimit: IpLimit }): void {
  app.post(
    '/api/oauth/revoke',
    {
      config: { oauthErrors: true },
      preHandler: deps.ipLimit('revoke'),
      schema: {
        tags: ['OAuth'],
        summary: "Revoke every access and refresh token of the token's user and client",
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: { type: 'object', properties: { token: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { success: { type: 'boolean' } } } },
      },
      validatorCompiler: () => () => true,
    },
    async (request) => {
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OAuthError('invalid_request', 'Body must contain a token');
      let token: string | undefined;
      try {
        token = readParam(body as Record<string, unknown>, 'token', { maxLength: 8192 });
      } catch (err) {
        if (err instanceof ParamError) throw new OAuthError('invalid_request', 'token must be a single string');
        throw err;
      }
      if (!token) throw new OAuthError('invalid_request', 'Missing token');
      await deps.tokens.revoke(token);
      return { success: true };
    },
  );
}
