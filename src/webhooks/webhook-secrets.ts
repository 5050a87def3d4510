/**
 * Each client's `whsec_` signing secret: 24 random bytes, base64, as Standard Webhooks
 * prescribes. Stored sealed (the server must sign with it, so it cannot be hashed);
 * shown to the operator when made (`clients create`, `clients rotate-webhook-secret`).
 * After a rotation the previous secret signs alongside the new one for a grace period,
 * so receivers can switch without missing a delivery.
 */
import { randomBytes } from 'node:crypto';
import type { WebhooksRepository } from '../storage/repositories/webhooks.repo.js';

export const ROTATION_GRACE_MS = 24 * 3_600_000;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export class WebhookSecrets {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly now: () => number = Date.now,
  ) {}

  /** The client's secret, made now when it has none yet. */
  async ensure(clientId: string): Promise<string> {
    const current = await this.repo.endpoint(clientId);
    if (current?.secret) return current.secret;
    return this.repo.ensureSecret(clientId, newWebhookSecret(), this.now());
  }

  /** A new secret (returned once); the old one keeps signing for ROTATION_GRACE_MS. */
  async rotate(clientId: string): Promise<{ secret: string; previousValidUntil: number | null }> {
    const now = this.now();
    const had = (await this.repo.endpoint(clientId))?.secret ?? null;
    const secret = newWebhookSecret();
    await this.repo.rotateSecret(clientId, secret, now + ROTATION_GRACE_MS, now);
    return { secret, previousValidUntil: had ? now + ROTATION_GRACE_MS : null };
  }

  /** The secrets to sign with now: the current one, and the previous one during its grace period. */
  async signingSecrets(clientId: string): Promise<string[]> {
    const current = await this.ensure(clientId);
    const endpoint = await this.repo.endpoint(clientId);
    const previous = endpoint?.previousSecret && endpoint.previousUntil !== null && endpoint.previousUntil > this.now() ? [endpoint.previousSecret] : [];
    return [current, ...previous];
  }
}
