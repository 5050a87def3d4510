/**
 * Records every answered request: count and duration by method, route pattern (never
 * the raw URL, which would carry ids and unbounded label values) and status code.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/** Requests that matched no route share one label value. */
export const UNMATCHED_ROUTE = '(unmatched)';

export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
