/**
 * Google push channels (`events.watch`, `channels.stop`). A channel watches one calendar's
 * events; Google then POSTs an empty message to the address with the channel id, the
 * token we chose and the resource state (`sync` once, then `exists` per change). What
 * changed is not said: the receiver makes the account's sync due and the change feed
 * finds it.
 */
import { randomUUID } from 'node:crypto';
import type { OAuthCredentials, PushChannels } from '../types.js';
import { ProviderError } from '../types.js';
import type { GoogleCalendarApi } from './google-calendar-api.js';

export function createGooglePushChannels(api: GoogleCalendarApi): PushChannels<OAuthCredentials> {
  return {
    async start(ctx, request) {
      const id = randomUUID();
      const channel = await api.watchEvents(ctx, request.calendarId, {
        id,
        address: request.address,
        token: request.token,
        ttlSeconds: Math.max(1, Math.floor(request.ttlMs / 1000)),
      });
      const expiration = Number(channel.expiration);
      if (!channel.resourceId || !Number.isFinite(expiration)) {
        throw new ProviderError('UNKNOWN', 'Google opened a push channel without a resource id or expiration');
      }
      return { channelId: channel.id ?? id, resourceId: channel.resourceId, expiresAt: new Date(expiration) };
    },

    async stop(ctx, channel) {
      if (!channel.resourceId) return;
      try {
        await api.stopChannel(ctx, { id: channel.channelId, resourceId: channel.resourceId });
      } catch (err) {
        // Already expired or stopped at Google: nothing left to stop.
        if (err instanceof ProviderError && err.code === 'NOT_FOUND') return;
        throw err;
      }
    },
  };
}
