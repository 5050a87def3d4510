/**
 * The API guard, declared per route: a valid bearer token (signature, expiry and the
 * token family's live state in the database), the route's scope rule, then the rate
 * limits per user of the client (every token of theirs together) and per client.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { ForbiddenError, RateLimitedError, UnauthorizedError, WriteForbiddenError } from '../domain/errors.js';
import type { AuthContext, TokenService } from '../oauth/token.service.js';
import { InvalidTokenError } from '../oauth/token-signer.js';
import type { Scope } from '../oauth/scopes.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RateLimitSettings } from '../config/config.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}

/** What a route needs: any valid token, the calendar list (not free-busy), or write access. */
export type Access = 'any' | 'calendar-list' | 'write';

export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new UnauthorizedError();
  return request.auth;
}

function applyScopeRule(access: Access, scope: Scope): void {
  if (access === 'write' && scope !== 'read-write') throw new WriteForbiddenError();
  if (access === 'calendar-list' && scope === 'free-busy') {
    throw new ForbiddenError('Calendar list access is forbidden for free-busy scope', 'Calendar list access is forbidden for free-busy scope');
  }
}

export function setRateLimitHeaders(reply: FastifyReply, r: { limit: number; remaining: number; resetSeconds: number }): void {
  reply.header('RateLimit-Limit', String(r.limit));
  reply.header('RateLimit-Remaining', String(r.remaining));
  reply.header('RateLimit-Reset', String(r.resetSeconds));
}

export function createBearerGuard(deps: { tokens: TokenService; limiter: RateLimiter; limits: RateLimitSettings }) {
  return (access: Access): preHandlerAsyncHookHandler =>
    async function bearerGuard(request, reply) {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer[ ]+([^\s]+)\s*$/i.exec(header) : null;
      if (!match?.[1]) {
        reply.header('WWW-Authenticate', 'Bearer realm="almanac"');
        throw new UnauthorizedError('Missing bearer access token in the Authorization header');
      }
      try {
        request.auth = await deps.tokens.authenticate(match[1]);
      } catch (err) {
        if (!(err instanceof InvalidTokenError)) throw err;
        reply.header('WWW-Authenticate', `Bearer realm="almanac", error="invalid_token"`);
        throw new UnauthorizedError(err.expired ? 'Access token has expired' : `Invalid access token: ${err.message}`);
      }
      applyScopeRule(access, request.auth.scope);
      const result = await deps.limiter.check([
        // Per user of the client, not per access token: a refresh must not reset the count.
        { key: `user:${request.auth.clientId}:${request.auth.userId}`, limit: deps.limits.perToken },
        { key: `client:${request.auth.clientId}`, limit: deps.limits.perClient },
      ]);
      setRateLimitHeaders(reply, result);
      if (!result.allowed) throw new RateLimitedError('Rate limit exceeded; retry after the time in Retry-After', result.resetSeconds);
    };
}
