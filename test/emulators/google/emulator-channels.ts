/**
 * Push notification channels, after Google's "Push notifications" guide: `events.watch`
 * opens a channel on a calendar's events (`id`, `type: web_hook`, an https `address`,
 * an optional `token`, `params.ttl` in seconds, default 604800), answers with the
 * channel's `resourceId`, `resourceUri` and `expiration` (ms since the epoch, as a
 * string), and sends a `sync` message at once; every later change to the calendar's
 * events sends `exists`. Each message is an empty POST with the X-Goog-Channel-ID,
 * X-Goog-Channel-Token (when set), X-Goog-Channel-Expiration, X-Goog-Resource-ID,
 * X-Goog-Resource-URI, X-Goog-Resource-State and X-Goog-Message-Number headers.
 * `channels.stop` ends a channel (by `id` and `resourceId`). Expired channels send nothing.
 *
 * Google only delivers to https addresses with a valid certificate. Tests run Almanac over
 * plain http, so `deliverVia` names the http origin that stands in for the https one (a
 * TLS-terminating proxy in front of Almanac); the path and query of the address are kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ApiError, apiErrors } from './emulator-http.js';

export interface Channel {
  id: string;
  resourceId: string;
  resourceUri: string;
  calendarId: string;
  address: string;
  token?: string;
  expiration: number;
  /** The user who opened it: only they may stop it. */
  sub: string;
  messageNumber: number;
  stopped: boolean;
}

export interface Delivery {
  channelId: string;
  state: 'sync' | 'exists';
  messageNumber: number;
  /** Almanac's answer, or 0 when the request failed. */
  status: number;
}

export interface ChannelKnobs {
  /** The longest lifetime granted, whatever the request asks (ms). */
  maxTtlMs: number;
  /** The http origin that receives what is addressed to the https one. */
  deliverVia?: string;
  /** Knob: changes send no notification (Google documents that messages may be lost). */
  dropNotifications: boolean;
  /**
   * Knob: calendars whose events cannot be watched (Google answers 400
   * pushNotSupportedForRequestedResource, e.g. for holiday and other public calendars).
   */
  unwatchable: Set<string>;
}

const DEFAULT_TTL_S = 604_800;
const CHANNEL_ID = /^[A-Za-z0-9\-_+/=]{1,64}$/;

export class Channels {
  readonly channels = new Map<string, Channel>();
  readonly deliveries: Delivery[] = [];
  readonly knobs: ChannelKnobs = { maxTtlMs: DEFAULT_TTL_S * 1000, dropNotifications: false, unwatchable: new Set() };
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly apiBase: () => string) {}

  watch(calendarId: string, sub: string, body: Record<string, unknown>): Record<string, unknown> {
    const { id, type, address, token } = body;
    if (typeof id !== 'string' || !CHANNEL_ID.test(id)) throw apiErrors.invalid('Invalid channel id.');
    if (type !== 'web_hook' && type !== 'webhook') throw apiErrors.invalid('Invalid channel type.');
    if (typeof address !== 'string') throw new ApiError(400, 'required', 'Required');
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      throw apiErrors.invalid('Invalid address.');
    }
    if (url.protocol !== 'https:') throw new ApiError(400, 'push.webhookUrlNotHttps', 'WebHook callback must be HTTPS: ' + address);
    if (token !== undefined && (typeof token !== 'string' || token.length > 256)) throw apiErrors.invalid('Invalid channel token.');
    if ([...this.channels.values()].some((c) => c.id === id && !c.stopped)) throw new ApiError(400, 'channelIdNotUnique', 'Channel id not unique');
    if (this.knobs.unwatchable.has(calendarId)) throw new ApiError(400, 'pushNotSupportedForRequestedResource', 'Push notifications are not supported by this resource.');
    const params = (body.params ?? {}) as Record<string, unknown>;
    const ttlS = params.ttl === undefined ? DEFAULT_TTL_S : Number(params.ttl);
    if (!Number.isFinite(ttlS) || ttlS <= 0) throw apiErrors.invalid('Invalid ttl.');
    const asked = typeof body.expiration === 'number' || typeof body.expiration === 'string' ? Number(body.expiration) : undefined;
    const now = Date.now();
    const expiration = Math.min(now + ttlS * 1000, now + this.knobs.maxTtlMs, asked ?? Infinity);
    const channel: Channel = {
      id,
      // One resource id per watched collection, as at Google.
      resourceId: createHash('sha256').update(`events:${calendarId}`).digest('base64url').slice(0, 27),
      resourceUri: `${this.apiBase()}/calendar/v3/calendars/${encodeURIComponent(calendarId)}/events?alt=json`,
      calendarId,
      address,
      ...(typeof token === 'string' ? { token } : {}),
      expiration,
      sub,
      messageNumber: 0,
      stopped: false,
    };
    this.channels.set(`${id}\u0000${randomBytes(4).toString('hex')}`, channel);
    this.send(channel, 'sync');
    return {
      kind: 'api#channel',
      id,
      resourceId: channel.resourceId,
      resourceUri: channel.resourceUri,
      ...(channel.token !== undefined ? { token: channel.token } : {}),
      expiration: String(expiration),
    };
  }

  stop(sub: string, body: Record<string, unknown>): void {
    const channel = [...this.channels.values()].find((c) => c.id === body.id && c.resourceId === body.resourceId && !c.stopped);
    if (!channel) throw apiErrors.notFound();
    if (channel.sub !== sub) throw new ApiError(403, 'forbidden', 'Unauthorized to access channel');
    channel.stopped = true;
  }

  /** Channels that would still notify now. */
  active(calendarId?: string): Channel[] {
    const now = Date.now();
    return [...this.channels.values()].filter((c) => !c.stopped && c.expiration > now && (calendarId === undefined || c.calendarId === calendarId));
  }

  /** A change to a calendar's events: every live channel on it is told. */
  changed(calendarId: string): void {
    if (this.knobs.dropNotifications) return;
    for (const channel of this.active(calendarId)) this.send(channel, 'exists');
  }

  /** Resolves once every message sent so far has been answered. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private send(channel: Channel, state: 'sync' | 'exists'): void {
    channel.messageNumber += 1;
    const messageNumber = channel.messageNumber;
    const target = new URL(channel.address);
    const url = this.knobs.deliverVia ? new URL(`${target.pathname}${target.search}`, this.knobs.deliverVia) : target;
    const headers: Record<string, string> = {
      'x-goog-channel-id': channel.id,
      'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': channel.resourceUri,
      'x-goog-resource-state': state,
      'x-goog-message-number': String(messageNumber),
    };
    if (channel.token !== undefined) headers['x-goog-channel-token'] = channel.token;
    const delivery: Delivery = { channelId: channel.id, state, messageNumber, status: 0 };
    this.deliveries.push(delivery);
    const sent = fetch(url, { method: 'POST', headers })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer();
      })
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }
}
