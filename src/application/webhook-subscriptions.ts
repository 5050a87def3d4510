/**
 * Subscribing an application to a user's calendar (POST /api/subscribe-webhook and its
 * companions). A subscription belongs to the client and user of the token, names one
 * calendar the user has, and is idempotent per calendar: subscribing again answers the
 * existing channel (a new expiration or scope is taken over). Changes are found by the
 * sync engine and sent by the delivery worker; nothing here talks to a provider beyond
 * confirming that the calendar exists.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { ProviderId } from '../domain/calendar.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { CalendarDirectory } from './calendar-directory.js';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import type { SubscriptionRecord, WebhooksRepository } from '../storage/repositories/webhooks.repo.js';

export interface SubscribeRequest {
  clientId: string;
  userId: string;
  scope: string;
  provider: ProviderId;
  calendarId: string;
  channelId?: string;
  /** Epoch ms after which no more deliveries are made. */
  expiration?: number;
}

export interface WebhookSubscriptionsDeps {
  directory: CalendarDirectory;
  clients: ClientsRepository;
  webhooks: WebhooksRepository;
  now?: () => number;
}

export class WebhookSubscriptions {
  constructor(private readonly deps: WebhookSubscriptionsDeps) {}

  private async webhookUrl(clientId: string): Promise<string> {
    const client = await this.deps.clients.find(clientId);
    if (!client?.webhookUrl) {
      throw new ValidationError('This client has no webhook URL to deliver to: set one with `almanac clients update CLIENT_ID --webhook-url URL`');
    }
    return client.webhookUrl;
  }

  async subscribe(req: SubscribeRequest, log: FastifyBaseLogger): Promise<{ subscription: SubscriptionRecord; webhookUrl: string }> {
    const { deps } = this;
    const now = (deps.now ?? Date.now)();
    const webhookUrl = await this.webhookUrl(req.clientId);
    if (req.expiration !== undefined && req.expiration <= now) throw new ValidationError('expiration must be in the future (epoch milliseconds)');
    const existing = await deps.webhooks.findSubscriptionFor(req.userId, req.provider, req.calendarId);
    if (existing) {
      if (req.channelId !== undefined && req.channelId !== existing.channelId) {
        throw new ConflictError(`This calendar already has a subscription with channelId ${existing.channelId}; unsubscribe it first to use another channelId`);
      }
      await deps.webhooks.updateSubscription(existing.channelId, { scope: req.scope, ...(req.expiration !== undefined ? { expiresAt: req.expiration } : {}) });
      return { subscription: { ...existing, scope: req.scope, expiresAt: req.expiration ?? existing.expiresAt }, webhookUrl };
    }
    // Throws 404 for a calendar the user does not have, 400 for one of another provider.
    const { handle } = await deps.directory.resolve(req.userId, req.provider, req.calendarId, log);
    const subscription: SubscriptionRecord = {
      channelId: req.channelId ?? randomUUID(),
      clientId: req.clientId,
      userId: req.userId,
      accountId: handle.account.id,
      provider: req.provider,
      calendarId: req.calendarId,
      scope: req.scope,
      expiresAt: req.expiration ?? null,
      createdAt: now,
    };
    if (!(await deps.webhooks.insertSubscription(subscription))) {
      // Subscribed concurrently to the same calendar: answer that one.
      const raced = await deps.webhooks.findSubscriptionFor(req.userId, req.provider, req.calendarId);
      if (raced && (req.channelId === undefined || raced.channelId === req.channelId)) return { subscription: raced, webhookUrl };
      throw new ConflictError(`channelId ${subscription.channelId} is already in use`);
    }
    return { subscription, webhookUrl };
  }

  async unsubscribe(userId: string, provider: ProviderId, channelId: string): Promise<void> {
    const existing = await this.deps.webhooks.findSubscription(channelId);
    if (!existing || existing.userId !== userId) throw new NotFoundError(`No webhook subscription with channelId ${channelId}`);
    if (existing.provider !== provider) throw new ValidationError(`channelId ${channelId} is a ${existing.provider} subscription, not ${provider}`);
    await this.deps.webhooks.deleteSubscription(channelId, userId);
  }

  async list(clientId: string, userId: string): Promise<{ subscriptions: SubscriptionRecord[]; webhookUrl: string | null }> {
    const client = await this.deps.clients.find(clientId);
    return { subscriptions: await this.deps.webhooks.listSubscriptions(userId), webhookUrl: client?.webhookUrl ?? null };
  }
}
