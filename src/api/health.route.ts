import type { FastifyInstance } from 'fastify';

/**
 * `{ "status": "ok" }` as Mobiscroll answers (liveness), plus Almanac's `rateLimits`:
 * `memory` (embedded), `redis`, or `memory-fallback` while Redis is unreachable and
 * limits are counted per instance.
 */
export function registerHealthRoute(app: FastifyInstance, deps: { rateLimitMode: () => string }): void {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['Health'],
        summary: 'Liveness',
        response: { 200: { type: 'object', properties: { status: { type: 'string' }, rateLimits: { type: 'string', enum: ['memory', 'redis', 'memory-fallback'] } } } },
      },
    },
    async () => ({ status: 'ok', rateLimits: deps.rateLimitMode() }),
  );
}
