/**
 * GET /metrics in Prometheus' text format, for a scraper holding ALMANAC_METRICS_TOKEN
 * (`Authorization: Bearer …`, compared in constant time). Without the setting there is
 * no such route: request counts and latencies are operational detail, not public.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function registerMetricsRoute(app: FastifyInstance, deps: { metrics: Metrics; token: string }): void {
  const expected = digest(deps.token);
  app.get(
    METRICS_PATH,
    {
      schema: {
        tags: ['Operations'],
        summary: 'Prometheus metrics',
        description: 'Prometheus text exposition format. Needs `Authorization: Bearer <ALMANAC_METRICS_TOKEN>`; absent (404) when that setting is not configured.',
        security: [{ metricsToken: [] }],
        response: { 200: { description: 'Prometheus text format (version 0.0.4)', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (request, reply) => {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      // Digests have equal length whatever was presented, so the comparison leaks nothing.
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
        // 401 is documented with the other error answers (http/openapi.ts), not in this route's schema.
        return (reply as FastifyReply).code(401).header('WWW-Authenticate', 'Bearer realm="almanac-metrics"').send({ error: 'Unauthorized', message: 'GET /metrics needs the metrics token (ALMANAC_METRICS_TOKEN) as a bearer token' });
      }
      return reply.header('Content-Type', deps.metrics.registry.contentType).header('Cache-Control', 'no-store').send(await deps.metrics.registry.metrics());
    },
  );
}
