/**
 * The webhook machinery of one instance, assembled: the observer the sync engine calls
 * inside each page's unit of work, the delivery worker (started with the background work
 * of `all` and `worker` instances), secrets and the signer.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebhookConfig } from '../config/config.js';
import { createGuardedFetch } from '../http/guarded-fetch.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import type { MirrorRepository } from '../storage/repositories/mirror.repo.js';
import type { WebhooksRepository } from '../storage/repositories/webhooks.repo.js';
import { ChangeNotifier } from './change-notifier.js';
import { DELIVERY_TIMEOUT_MS, DeliveryWorker, type DeliveryOutcome } from './delivery-worker.js';
import { WebhookSigner } from './signing.js';
import { WebhookSecrets } from './webhook-secrets.js';

export const DEFAULT_DELIVERY_LEASE_MS = 60_000;
/** Finished deliveries are kept this long for `almanac webhooks deliveries` and replay. */
export const DELIVERY_RETENTION_MS = 30 * 86_400_000;
/** Records of the application's own writes are kept this long (a sync finds them well before). */
export const ECHO_RETENTION_MS = 7 * 86_400_000;
const PURGE_EVERY_MS = 60 * 60_000;

export interface WebhooksDeps {
  config: WebhookConfig;
  allowPrivateNetworks: boolean;
  repo: WebhooksRepository;
  clients: ClientsRepository;
  mirror: MirrorRepository;
  signingSeed: Buffer;
  log: FastifyBaseLogger;
  observe?: { outcome(outcome: DeliveryOutcome): void; pending(count: number): void };
  tickMs?: number;
  leaseMs?: number;
  now?: () => number;
}

/** The fetch deliveries use: SSRF-guarded (webhook URLs are configured by people), no redirects, the delivery timeout. */
export function createDeliveryFetch(allowPrivateNetworks: boolean): typeof fetch {
  return createGuardedFetch({ allowPrivateNetworks, timeoutMs: DELIVERY_TIMEOUT_MS, maxRedirects: 0, maxResponseBytes: 1024 * 1024 });
}

export class Webhooks {
  readonly secrets: WebhookSecrets;
  readonly signer: WebhookSigner;
  readonly notifier: ChangeNotifier;
  readonly worker: DeliveryWorker;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WebhooksDeps) {
    const now = deps.now ?? Date.now;
    this.secrets = new WebhookSecrets(deps.repo, now);
    this.signer = new WebhookSigner(deps.signingSeed);
    this.worker = new DeliveryWorker({
      repo: deps.repo,
      clients: deps.clients,
      secrets: this.secrets,
      signer: this.signer,
      fetch: createDeliveryFetch(deps.allowPrivateNetworks),
      log: deps.log.child({ component: 'webhooks' }),
      concurrency: deps.config.concurrency,
      tickMs: deps.tickMs ?? 1000,
      leaseMs: deps.leaseMs ?? DEFAULT_DELIVERY_LEASE_MS,
      retrySeconds: deps.config.retrySeconds,
      now,
      ...(deps.observe ? { observe: deps.observe } : {}),
    });
    this.notifier = new ChangeNotifier({ webhooks: deps.repo, mirror: deps.mirror, echoOwnWrites: deps.config.echoOwnWrites, now, queued: () => this.worker.kick() });
  }

  start(): void {
    this.worker.start();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  async purge(): Promise<void> {
    const now = (this.deps.now ?? Date.now)();
    try {
      await this.deps.repo.purgeFinished(now - DELIVERY_RETENTION_MS);
      await this.deps.repo.purgeEchoes(now - ECHO_RETENTION_MS);
    } catch (err) {
      this.deps.log.warn({ err }, 'purging old webhook deliveries failed; the next sweep retries');
    }
  }

  async stop(graceMs?: number): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.worker.stop(graceMs);
  }
}
