import type { preHandlerAsyncHookHandler } from 'fastify';
import { RateLimitedError } from '../domain/errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { setRateLimitHeaders } from './bearer-guard.js';

/** Per-IP limit for the endpoints that take no bearer token (token, revoke, authorize, connect forms). */
export type IpLimit = (bucket: string) => preHandlerAsyncHookHandler;

export function createIpLimit(limiter: RateLimiter, perIp: number): IpLimit {
  return (bucket) =>
    async function ipLimit(request, reply) {
      const result = await limiter.check([{ key: `ip:${bucket}:${request.ip}`, limit: perIp }]);
      setRateLimitHeaders(reply, result);
      if (!result.allowed) throw new RateLimitedError('Too many requests from this address; retry after the time in Retry-After', result.resetSeconds);
    };
}
