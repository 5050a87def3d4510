import type { preHandlerAsyncHookHandler } from 'fastify';
import { RateLimitedError } from '../domain/errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { setRateLimitHeaders } from './bearer-guard.js';

/** Per-IP limit for the endpoints that take no bearer token (token, revoke, authorize, connect forms). */
export type IpLimit = (bucket: string, options?: { divisor?: number }) => preHandlerAsyncHookHandler;

/** `divisor` tightens one bucket relative to the configured per-IP limit (password forms). */
export function createIpLimit(limiter: RateLimiter, perIp: number): IpLimit {
  return (bucket, options = {}) =>
    async function ipLimit(request, reply) {
      const limit = Math.max(1, Math.floor(perIp / (options.divisor ?? 1)));
      const result = await limiter.check([{ key: `ip:${bucket}:${request.ip}`, limit }]);
      setRateLimitHeaders(reply, result);
      if (!result.allowed) throw new RateLimitedError('Too many requests from this address; retry after the time in Retry-After', result.resetSeconds);
    };
}
