/**
 * Graph subscriptions as push channels (api-reference subscription-post-subscriptions):
 * one subscription per calendar on `me/calendars/{id}/events` for created, updated and
 * deleted events, with the same address for lifecycle notifications and the channel's
 * secret as `clientState`. Event subscriptions live at most 4230 minutes; the keeper
 * renews by starting again before `expiresAt`. Graph validates the address before it
 * answers (the webhook route echoes the validation token).
 */
import { ProviderError } from '../types.js';
import type { OAuthCredentials, PushChannels } from '../types.js';
import type { GraphCalendarApi } from './graph-calendar-api.js';

/** Graph's ceiling for event subscriptions, less a margin for clock skew. */
export const MAX_SUBSCRIPTION_MS = (4230 - 10) * 60_000;

interface GraphSubscription {
  id: string;
  expirationDateTime: string;
}

export function createGraphPushChannels(api: GraphCalendarApi): PushChannels<OAuthCredentials> {
  return {
    async start(ctx, request) {
      if (request.token.length > 128) throw new ProviderError('INVALID_INPUT', 'Microsoft takes a clientState of at most 128 characters');
      const expires = new Date(Date.now() + Math.min(request.ttlMs, MAX_SUBSCRIPTION_MS));
      const created = await api.http.send<GraphSubscription>(ctx, {
        method: 'POST',
        path: '/subscriptions',
        body: {
          changeType: 'created,updated,deleted',
          notificationUrl: request.address,
          lifecycleNotificationUrl: request.address,
          resource: `me/calendars/${encodeURIComponent(request.calendarId)}/events`,
          expirationDateTime: expires.toISOString(),
          clientState: request.token,
        },
        idempotent: false,
      });
      if (!created?.id) throw new ProviderError('UNKNOWN', 'Microsoft answered a subscription without its id');
      const granted = Date.parse(created.expirationDateTime);
      return { channelId: created.id, expiresAt: new Date(Number.isNaN(granted) ? expires.getTime() : granted) };
    },

    async stop(ctx, channel) {
      try {
        await api.http.send(ctx, { method: 'DELETE', path: `/subscriptions/${encodeURIComponent(channel.channelId)}`, idempotent: true });
      } catch (error) {
        if (error instanceof ProviderError && error.code === 'NOT_FOUND') return;
        throw error;
      }
    },
  };
}
