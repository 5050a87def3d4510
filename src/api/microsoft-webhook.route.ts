/**
 * `POST /webhooks/microsoft`: where Graph calls for the subscriptions of Microsoft
 * calendars (concepts/change-notifications-delivery-webhooks, -lifecycle-events).
 *
 * - A validation request (`?validationToken=…`) is answered at once with the token as
 *   text/plain (Graph gives up after 10 seconds).
 * - A notification counts only when its `clientState` is the secret of a live channel
 *   with that subscription id; anything else is dropped. A counted one makes the
 *   account's sync job due: the change itself is read through the delta feed.
 * - Lifecycle events: `reauthorizationRequired` marks the channel for renewal now,
 *   `subscriptionRemoved` forgets it (a new one is started), `missed` only makes the job
 *   due (delta catches up). Each also makes the job due.
 * Graph wants an answer within 3 seconds: the answer is 202 once the job is marked due.
 */
import type { FastifyInstance } from 'fastify';
import type { PushChannelsRepository } from '../storage/repositories/push-channels.repo.js';

export const MICROSOFT_WEBHOOK_PATH = '/webhooks/microsoft';
/** Graph batches notifications; more than this in one request is not Graph. */
const MAX_NOTIFICATIONS = 1000;
const MAX_VALIDATION_TOKEN = 1024;

export interface MicrosoftWebhookDeps {
  channels: PushChannelsRepository;
  syncSoon(accountId: string): Promise<void>;
}

interface Notification {
  subscriptionId?: unknown;
  clientState?: unknown;
  lifecycleEvent?: unknown;
}

export function registerMicrosoftWebhookRoute(app: FastifyInstance, deps: MicrosoftWebhookDeps): void {
  app.post(
    MICROSOFT_WEBHOOK_PATH,
    {
      schema: {
        tags: ['Provider notifications'],
        summary: 'Microsoft Graph change notifications',
        description:
          'Called by Microsoft Graph, not by applications. With `?validationToken=` (the subscription handshake) the token is echoed as text/plain; a notification collection `{ "value": [...] }` is 202, each notification counting only when its `subscriptionId` and `clientState` match a stored, unexpired channel; anything else is 400.',
      },
      bodyLimit: 1024 * 1024,
    },
    async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const validationToken = query.validationToken;
    if (typeof validationToken === 'string') {
      if (validationToken.length > MAX_VALIDATION_TOKEN) return reply.code(400).type('text/plain; charset=utf-8').send('validationToken is too long');
      // Echoed as plain text only, so the reflection can never become markup.
      return reply.code(200).header('x-content-type-options', 'nosniff').type('text/plain; charset=utf-8').send(validationToken);
    }
    const value = (request.body as { value?: unknown } | undefined)?.value;
    if (!Array.isArray(value) || value.length > MAX_NOTIFICATIONS) {
      return reply.code(400).send({ error: 'invalid_request', message: 'Expected a Graph notification collection: { "value": [ … ] }' });
    }
    const due = new Set<string>();
    let dropped = 0;
    // Graph batches many notifications of one subscription together: each distinct pair is checked once.
    const verified = new Map<string, ReturnType<typeof deps.channels.verify>>();
    for (const item of value as Notification[]) {
      if (typeof item?.subscriptionId !== 'string' || typeof item.clientState !== 'string' || item.subscriptionId.length > 200 || item.clientState.length > 200) {
        dropped += 1;
        continue;
      }
      const pair = `${item.subscriptionId}\u0000${item.clientState}`;
      let check = verified.get(pair);
      if (!check) verified.set(pair, (check = deps.channels.verify('microsoft', item.subscriptionId, item.clientState)));
      const channel = await check;
      if (!channel) {
        dropped += 1;
        continue;
      }
      // Past its expiry the channel is no longer ours to act on (the keeper forgets it); a
      // lifecycle notice about it is still handled.
      if (item.lifecycleEvent === undefined && channel.expiresAt <= Date.now()) {
        dropped += 1;
        continue;
      }
      if (item.lifecycleEvent === 'reauthorizationRequired') await deps.channels.markForRenewal(channel.id);
      else if (item.lifecycleEvent === 'subscriptionRemoved') await deps.channels.delete(channel.id);
      // An account waiting for its user to reconnect is not synced sooner than its backoff allows.
      if (!channel.accountNeedsReconnect) due.add(channel.accountId);
    }
    for (const accountId of due) await deps.syncSoon(accountId);
    if (dropped > 0) request.log.warn({ dropped, counted: value.length - dropped }, 'microsoft notifications without a matching channel and clientState dropped');
    return reply.code(202).send();
  });
}
