/**
 * Sends the outbox. Every tick it claims due deliveries up to its concurrency (a lease
 * per row, so any number of instances share the outbox and none sends a delivery another
 * holds), signs each attempt afresh (the timestamp is the attempt's), and records the
 * outcome only while it still holds the lease. A delivery is claimable only when the
 * previous one of its calendar is no longer pending, so one calendar's changes arrive in
 * order even while one of them is being retried. An instance killed mid-attempt leaves
 * the row leased; when the lease expires any instance sends it again with the same
 * webhook-id (at-least-once: receivers deduplicate on it).
 */
import { randomBytes } from 'node:crypto';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import type { ClaimedDelivery, WebhooksRepository } from '../storage/repositories/webhooks.repo.js';
import { nextAttemptAt, parseRetryAfter } from './retry-schedule.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import type { WebhookSigner } from './signing.js';

/** One attempt may take this long, answer included. */
export const DELIVERY_TIMEOUT_MS = 15_000;

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed' | 'gone';

/** Where attempts are logged (pino-compatible; never bodies or secrets). */
export interface DeliveryLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DeliveryWorkerOptions {
  repo: WebhooksRepository;
  clients: ClientsRepository;
  secrets: WebhookSecrets;
  signer: WebhookSigner;
  /** The SSRF-guarded fetch with the delivery timeout. */
  fetch: typeof fetch;
  log: DeliveryLog;
  concurrency: number;
  tickMs: number;
  leaseMs: number;
  /** Delays before each further attempt, in seconds. */
  retrySeconds: readonly number[];
  now?: () => number;
  random?: () => number;
  /** Metrics: an attempt's outcome, and the number of deliveries still pending. */
  observe?: { outcome(outcome: DeliveryOutcome): void; pending(count: number): void };
}

const USER_AGENT = 'Almanac-Webhooks/1';
const PENDING_GAUGE_EVERY_MS = 5_000;

/** Short, safe text for the delivery record: never the receiver's body. */
function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  if (e?.name === 'BlockedAddressError' || e?.name === 'RefusedUrlError' || e?.name === 'TooManyRedirectsError') return (e.message ?? '').slice(0, 300);
  return `${e?.name ?? 'Error'}: ${(e?.message ?? String(err)).slice(0, 200)}`;
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastGaugeAt = 0;
  private readonly instance = randomBytes(4).toString('hex');

  constructor(private readonly options: DeliveryWorkerOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.tickMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err: unknown) => this.options.log.error({ err }, 'webhook delivery tick failed'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const now = this.now();
    if (this.options.observe && now - this.lastGaugeAt >= PENDING_GAUGE_EVERY_MS) {
      this.lastGaugeAt = now;
      this.options.observe.pending(await this.options.repo.countPending());
    }
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    const claimed = await this.options.repo.claimDue(() => `${this.instance}.${randomBytes(8).toString('hex')}`, { now, leaseMs: this.options.leaseMs, limit: free });
    for (const delivery of claimed) {
      const run: Promise<void> = this.attempt(delivery)
        .then(() => undefined)
        .catch((err: unknown) => this.options.log.error({ err, delivery: delivery.id }, 'webhook delivery crashed'))
        .finally(() => {
          this.running.delete(run);
          // The calendar's next delivery may be claimable now.
          this.kick();
        });
      this.running.add(run);
    }
  }

  /** One attempt: send, then record the outcome (if the lease is still ours). */
  async attempt(delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
    const { repo, log } = this.options;
    const client = await this.options.clients.find(delivery.clientId);
    const url = client?.webhookUrl ?? null;
    if (!url) return this.retryOrFail(delivery, { at: this.now(), status: null, error: 'the client has no webhook URL' });
    const endpoint = await repo.endpoint(delivery.clientId);
    if (endpoint?.disabledUrl === url) {
      await repo.markFailed(delivery, { at: this.now(), status: null, error: 'the webhook URL answered 410 Gone earlier' });
      return this.record('gone');
    }
    const secrets = await this.options.secrets.signingSecrets(delivery.clientId);
    const started = this.now();
    let response: Response;
    try {
      response = await this.options.fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...this.options.signer.headers(delivery.id, new Date(started), delivery.body, secrets),
        },
        body: delivery.body,
        // An attempt never outlives its lease, so no other worker can start the same delivery while it runs.
        signal: AbortSignal.timeout(Math.min(DELIVERY_TIMEOUT_MS, Math.floor(this.options.leaseMs * 0.8))),
      });
    } catch (err) {
      log.warn({ delivery: delivery.id, client: delivery.clientId, attempt: delivery.attempts + 1, reason: describeError(err) }, 'webhook delivery failed');
      return this.retryOrFail(delivery, { at: this.now(), status: null, error: describeError(err) });
    }
    const at = this.now();
    const status = response.status;
    if (status >= 200 && status < 300) {
      await repo.markDelivered(delivery, { at, status, error: null });
      log.info({ delivery: delivery.id, client: delivery.clientId, attempt: delivery.attempts + 1, status, ms: at - started }, 'webhook delivered');
      return this.record('delivered');
    }
    if (status === 410) {
      // The receiver says this endpoint is gone for good: stop sending there until the URL changes.
      await repo.disableEndpoint(delivery.clientId, url, at);
      await repo.markFailed(delivery, { at, status, error: 'the webhook URL answered 410 Gone; its deliveries stop until the URL changes' });
      await repo.failPendingOf(delivery.clientId, { at, status, error: 'the webhook URL answered 410 Gone' });
      log.warn({ client: delivery.clientId }, 'webhook URL answered 410 Gone: deliveries to it are disabled');
      return this.record('gone');
    }
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after'), at) : undefined;
    log.warn({ delivery: delivery.id, client: delivery.clientId, attempt: delivery.attempts + 1, status }, 'webhook delivery refused');
    return this.retryOrFail(delivery, { at, status, error: `the receiver answered ${status}` }, retryAfterMs);
  }

  private async retryOrFail(delivery: ClaimedDelivery, outcome: { at: number; status: number | null; error: string }, retryAfterMs?: number): Promise<DeliveryOutcome> {
    const attempts = delivery.attempts + 1;
    const next = nextAttemptAt(this.options.retrySeconds, attempts, outcome.at, {
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(this.options.random ? { random: this.options.random } : {}),
    });
    if (next === null) {
      await this.options.repo.markFailed(delivery, outcome);
      this.options.log.warn({ delivery: delivery.id, client: delivery.clientId, attempts }, 'webhook delivery failed for good');
      return this.record('failed');
    }
    await this.options.repo.markRetry(delivery, outcome, next);
    return this.record('retry');
  }

  private record(outcome: DeliveryOutcome): DeliveryOutcome {
    this.options.observe?.outcome(outcome);
    return outcome;
  }

  status(): { running: boolean; inFlight: number } {
    return { running: !this.stopped, inFlight: this.running.size };
  }

  /** Stops claiming and waits up to `graceMs` for attempts in flight; the rest are sent again after their lease. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    const all = Promise.allSettled([...this.running]);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }
}
