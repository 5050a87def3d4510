/**
 * Graph change notifications for events (concepts/change-notifications-delivery-webhooks,
 * change-notifications-lifecycle-events, api-reference subscription-post-subscriptions):
 * POST /subscriptions validates the notification URL (and the lifecycle URL) by POSTing
 * `?validationToken=…` to it and expecting 200 text/plain with the token within 10 s;
 * event subscriptions live at most 4230 minutes; PATCH renews, DELETE removes.
 * Notifications and lifecycle events are sent when a test asks (`notify`, `lifecycle`).
 * One deviation, for tests: http notification URLs are accepted (Graph requires https).
 */
import { randomUUID } from 'node:crypto';
import { GraphError } from './graph-store.js';

export interface Subscription {
  id: string;
  email: string;
  calendarId: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  clientState?: string;
  expirationDateTime: string;
}

const MAX_MINUTES = 4230;

export class Subscriptions {
  readonly byId = new Map<string, Subscription>();
  /** Every answer a notification or lifecycle POST got: status and time taken. */
  readonly deliveries: { kind: string; status: number; ms: number }[] = [];
  /**
   * `deliverVia`: the http origin that receives what is addressed to an https one (tests run
   * Almanac over plain http, as if behind a TLS-terminating proxy); path and query are kept.
   */
  readonly knobs: { deliverVia?: string } = {};

  constructor(private readonly calendarOf: (email: string, resource: string) => string | undefined) {}

  async create(email: string, body: Record<string, unknown>): Promise<Subscription> {
    const str = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const changeType = str('changeType');
    const notificationUrl = str('notificationUrl');
    const resource = str('resource');
    const expiration = Date.parse(str('expirationDateTime') ?? '');
    if (!changeType || !changeType.split(',').every((c) => ['created', 'updated', 'deleted'].includes(c.trim()))) throw new GraphError(400, 'ValidationError', 'changeType is invalid.');
    if (!notificationUrl || !/^https?:\/\//.test(notificationUrl)) throw new GraphError(400, 'ValidationError', 'The notification URL must be an https URL.');
    if (!resource) throw new GraphError(400, 'ValidationError', 'resource is required.');
    const calendarId = this.calendarOf(email, resource);
    if (!calendarId) throw new GraphError(400, 'ExtensionError', 'Operation: Create; Exception: [Status Code: NotFound; Reason: The resource was not found]');
    if (Number.isNaN(expiration) || expiration <= Date.now()) throw new GraphError(400, 'ValidationError', 'expirationDateTime must be in the future.');
    if (expiration > Date.now() + MAX_MINUTES * 60_000) throw new GraphError(400, 'ValidationError', `Subscription expiration can only be ${MAX_MINUTES} minutes in the future.`);
    const clientState = str('clientState');
    if (clientState && clientState.length > 128) throw new GraphError(400, 'ValidationError', 'clientState is longer than 128 characters.');
    const lifecycleNotificationUrl = str('lifecycleNotificationUrl');
    for (const url of new Set([notificationUrl, ...(lifecycleNotificationUrl ? [lifecycleNotificationUrl] : [])])) await this.validate(url);
    const sub: Subscription = { id: randomUUID(), email, calendarId, resource, changeType, notificationUrl, ...(lifecycleNotificationUrl ? { lifecycleNotificationUrl } : {}), ...(clientState ? { clientState } : {}), expirationDateTime: new Date(expiration).toISOString() };
    this.byId.set(sub.id, sub);
    return sub;
  }

  renew(email: string, id: string, body: Record<string, unknown>): Subscription {
    const sub = this.byId.get(id);
    if (!sub || sub.email !== email) throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
    const expiration = Date.parse(String(body.expirationDateTime ?? ''));
    if (Number.isNaN(expiration) || expiration <= Date.now() || expiration > Date.now() + MAX_MINUTES * 60_000) throw new GraphError(400, 'ValidationError', 'expirationDateTime is out of range.');
    sub.expirationDateTime = new Date(expiration).toISOString();
    return sub;
  }

  remove(email: string, id: string): void {
    const sub = this.byId.get(id);
    if (!sub || sub.email !== email) throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
    this.byId.delete(id);
  }

  /** The validation handshake: the endpoint must echo the token as text/plain, 200, within 10 s. */
  private async validate(url: string): Promise<void> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = this.route(url);
    target.searchParams.set('validationToken', token);
    const started = Date.now();
    let ok = false;
    try {
      const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '', signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      ok = res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('text/plain') && text === token;
      this.deliveries.push({ kind: 'validation', status: res.status, ms: Date.now() - started });
    } catch {
      ok = false;
    }
    if (!ok) throw new GraphError(400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
  }

  /** Sends a change notification for an event to every subscription on its calendar; the statuses answered. */
  async notify(calendarId: string, eventId: string, changeType: 'created' | 'updated' | 'deleted', overrides: Partial<{ clientState: string }> = {}): Promise<number[]> {
    const statuses: number[] = [];
    for (const sub of this.byId.values()) {
      if (sub.calendarId !== calendarId) continue;
      statuses.push(
        await this.post('notification', sub.notificationUrl, {
          value: [
            {
              subscriptionId: sub.id,
              subscriptionExpirationDateTime: sub.expirationDateTime,
              changeType,
              resource: `Users/${sub.email}/Events/${eventId}`,
              resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/${sub.email}/Events/${eventId}`, '@odata.etag': 'W/"x"', id: eventId },
              clientState: overrides.clientState ?? sub.clientState ?? null,
              tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad',
            },
          ],
        }),
      );
    }
    return statuses;
  }

  /** Sends a lifecycle event (reauthorizationRequired, subscriptionRemoved, missed); subscriptionRemoved also ends it. */
  async lifecycle(id: string, lifecycleEvent: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<number> {
    const sub = this.byId.get(id);
    if (!sub) throw new Error(`no subscription ${id}`);
    if (lifecycleEvent === 'subscriptionRemoved') this.byId.delete(id);
    return this.post(`lifecycle:${lifecycleEvent}`, sub.lifecycleNotificationUrl ?? sub.notificationUrl, {
      value: [{ subscriptionId: sub.id, subscriptionExpirationDateTime: sub.expirationDateTime, tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad', clientState: sub.clientState ?? null, lifecycleEvent }],
    });
  }

  /** Where a request addressed to `url` goes (see `knobs.deliverVia`). */
  private route(url: string): URL {
    const target = new URL(url);
    if (!this.knobs.deliverVia || target.protocol !== 'https:') return target;
    const via = new URL(this.knobs.deliverVia);
    return new URL(`${target.pathname}${target.search}`, via);
  }

  private async post(kind: string, url: string, body: unknown): Promise<number> {
    const started = Date.now();
    const res = await fetch(this.route(url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    await res.text();
    this.deliveries.push({ kind, status: res.status, ms: Date.now() - started });
    return res.status;
  }
}
