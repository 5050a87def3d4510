/**
 * Every Prometheus metric Almanac exports, declared in one table: adding one is one
 * line here plus the call that records it. Each app gets its own registry (tests run
 * several apps in one process); process-wide metrics (CPU, memory, event loop) are
 * collected only for the real server.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type Make<M> = (registry: Registry) => M;

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Make<Counter<L>> {
  return (registry) => new Counter<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
}

function histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Make<Histogram<L>> {
  return (registry) => new Histogram<L>({ name, help, labelNames: [...labelNames], buckets, registers: [registry] });
}

/** For values that go up and down (queue depth, sync lag): set where the value changes. */
export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Make<Gauge<L>> {
  return (registry) => new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const DEFINITIONS = {
  httpRequests: counter('almanac_http_requests_total', 'HTTP requests answered, by method, route pattern and status code', ['method', 'route', 'status']),
  httpDuration: histogram('almanac_http_request_duration_seconds', 'Time from receiving an HTTP request to answering it', ['method', 'route', 'status'], SECONDS),
  providerCalls: counter('almanac_provider_calls_total', 'Calendar provider operations made for API requests, by outcome (ok or the provider error code)', ['provider', 'outcome']),
  providerDuration: histogram('almanac_provider_call_duration_seconds', 'Duration of calendar provider operations made for API requests', ['provider'], SECONDS),
  webhookDeliveries: counter('almanac_webhook_delivery_attempts_total', 'Webhook delivery attempts by outcome: delivered, retry (will be tried again), failed (no attempts left), gone (the URL answered 410)', ['outcome']),
  webhookQueueDepth: gauge('almanac_webhook_queue_depth', 'Webhook deliveries waiting to be sent or retried (all instances), as last counted by this instance', []),
  rateLimitRejections: counter('almanac_rate_limit_rejections_total', "Requests refused by Almanac's own rate limits, by limit (token, client, ip)", ['limit']),
} satisfies Record<string, Make<unknown>>;

export type Metrics = { readonly [K in keyof typeof DEFINITIONS]: ReturnType<(typeof DEFINITIONS)[K]> } & {
  readonly registry: Registry;
};

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const made = Object.fromEntries(Object.entries(DEFINITIONS).map(([key, make]) => [key, make(registry)]));
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'almanac_' });
  return { registry, ...made } as Metrics;
}
