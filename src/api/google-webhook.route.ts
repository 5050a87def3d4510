/**
 * POST /webhooks/google: where Google delivers events.watch notifications. Google sends
 * an empty body and everything in headers (X-Goog-Channel-ID, X-Goog-Channel-Token,
 * X-Goog-Resource-ID, X-Goog-Resource-State, X-Goog-Message-Number). `sync` opens a
 * channel and is only acknowledged; `exists` (and `not_exists`) mean the calendar's events
 * changed. Answered as soon as the notification is recorded: Google counts a slow answer
 * as a failure.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { PushNotifications } from './push-notifications.js';

class RejectedNotificationError extends AppError {
  constructor() {
    super(401, 'notification_rejected', 'Unknown or expired channel, or a wrong channel token');
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function registerGoogleWebhookRoute(app: FastifyInstance, deps: { notifications: PushNotifications }): void {
  app.post('/webhooks/google', { schema: { hide: true } }, async (request, reply) => {
    const h = request.headers;
    const channelId = header(h['x-goog-channel-id']);
    const state = header(h['x-goog-resource-state']);
    if (!channelId || !state) {
      throw new AppError(400, 'invalid_request', 'A Google notification carries X-Goog-Channel-ID and X-Goog-Resource-State');
    }
    const resourceId = header(h['x-goog-resource-id']);
    const outcome = await deps.notifications.receive('google', {
      channelId,
      token: header(h['x-goog-channel-token']) ?? '',
      ...(resourceId !== undefined ? { resourceId } : {}),
      kind: state === 'sync' ? 'sync' : 'change',
    });
    if (outcome === 'rejected') {
      // The channel id is no secret; the token is never logged.
      request.log.info({ provider: 'google', channel: channelId.slice(0, 64) }, 'push notification rejected');
      throw new RejectedNotificationError();
    }
    return reply.code(200).send();
  });
}
