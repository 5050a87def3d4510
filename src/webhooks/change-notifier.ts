/**
 * Turns a page of mirror changes into outbox rows, inside the page's own unit of work
 * (before the mirror changes, so the previous state of every touched unit is still
 * there to compare with). Nothing is sent from here: the delivery worker sends what
 * committed, so a crash anywhere loses nothing and a rolled-back page announces nothing.
 *
 * Events are reported as `GET /api/events` lists them with `singleEvents=true`: a series
 * edit arrives as the instances it changed (created, updated or deleted), never as a
 * master. An event is `updated` when anything the API shows of it changed apart from the
 * provider's bookkeeping (`original`, `lastModified`): a series whose resource changed
 * for one occurrence reports that occurrence only. Instances that merely entered or left
 * the mirrored window as it moved with the calendar day are not changes.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CalendarEvent } from '../domain/calendar.js';
import { blocksTime, toBusyBlock } from '../api/events/sanitize-free-busy.js';
import type { MirrorObserver, MirrorPageChange } from '../sync/calendar-syncer.js';
import type { MirrorRepository } from '../storage/repositories/mirror.repo.js';
import type { ActiveSubscription, EchoRecord, NewDelivery, WebhooksRepository } from '../storage/repositories/webhooks.repo.js';
import type { Database } from '../storage/schema.js';

export type ChangeType = 'created' | 'updated' | 'deleted';
export type ChangedEvent = CalendarEvent & { changeType: ChangeType };

/** Events per delivery: a relisting of a large calendar becomes several ordered deliveries. */
export const EVENTS_PER_DELIVERY = 100;

export interface ChangeNotifierDeps {
  webhooks: WebhooksRepository;
  mirror: MirrorRepository;
  /** Deliver changes the application made itself through the API (off by default). */
  echoOwnWrites: boolean;
  now?: () => number;
  /** Called once rows queued by a page are committed (wakes this instance's delivery worker at once). */
  queued?: () => void;
}

export function newDeliveryId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

function etagOf(event: CalendarEvent): string | undefined {
  const etag = (event.original as { etag?: unknown } | null | undefined)?.etag;
  return typeof etag === 'string' && etag !== '' ? etag : undefined;
}

/** What a receiver can see of an event, for telling an update from provider bookkeeping. */
function visible(event: CalendarEvent): string {
  const { original: _original, lastModified: _lastModified, ...rest } = event;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

type Projection = (event: CalendarEvent) => CalendarEvent | null;
const FULL: Projection = (e) => e;
const BUSY: Projection = (e) => (blocksTime(e) ? toBusyBlock(e) : null);

/**
 * The changes between two sets of a calendar's events as one projection shows them: a
 * free-busy subscriber hears of a busy block appearing, moving or going away, nothing else.
 */
export function diffEvents(before: ReadonlyMap<string, CalendarEvent>, after: ReadonlyMap<string, CalendarEvent>, project: Projection): ChangedEvent[] {
  const out: ChangedEvent[] = [];
  for (const [id, next] of after) {
    const now = project(next);
    const prior = before.get(id);
    const was = prior ? project(prior) : null;
    if (now && !was) out.push({ ...now, changeType: 'created' });
    else if (now && was && visible(now) !== visible(was)) out.push({ ...now, changeType: 'updated' });
    else if (!now && was) out.push({ ...was, changeType: 'deleted' });
  }
  for (const [id, prior] of before) {
    if (after.has(id)) continue;
    const was = project(prior);
    if (was) out.push({ ...was, changeType: 'deleted' });
  }
  return out.sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Whether the application itself caused this change (a write through the API left this version behind). */
function isEcho(change: { id: string; recurringEventId?: string; etag?: string; deleted: boolean }, echoes: readonly EchoRecord[]): boolean {
  const wanted = change.deleted ? '' : change.etag;
  if (wanted === undefined) return false;
  return echoes.some((e) => e.etag === wanted && (e.eventId === change.id || (change.recurringEventId !== undefined && e.eventId === change.recurringEventId)));
}

/** What an account's grant became, as the sync engine found it. */
export type GrantState = 'reauth_required' | 'ok';

const GRANT_TYPES: Record<GrantState, string> = { reauth_required: 'grant.reauth_required', ok: 'grant.restored' };

export class ChangeNotifier implements MirrorObserver {
  /** Calendars (row ids) whose page now committing queued rows: the delivery worker is woken once it has. */
  private readonly queuedIn = new Set<string>();

  constructor(private readonly deps: ChangeNotifierDeps) {}

  pageCommitted(calendarRowId: string): void {
    if (!this.queuedIn.delete(calendarRowId)) return;
    this.deps.queued?.();
  }

  /**
   * Tells subscribed applications that a user must reconnect an account (its provider
   * refused the stored credentials), and again when it works once more. Sent once per
   * change of state (the last notice per client and account is looked up), in order with
   * each other. Not part of Mobiscroll's payloads: `type` tells them apart.
   */
  async grantChanged(accountId: string, state: GrantState): Promise<void> {
    const { deps } = this;
    const now = (deps.now ?? Date.now)();
    const type = GRANT_TYPES[state];
    const deliveries: NewDelivery[] = [];
    for (const sub of await deps.webhooks.grantSubscribers(accountId, now)) {
      const orderKey = `grant:${accountId}:${sub.clientId}`;
      const last = await deps.webhooks.lastTypeOf(orderKey);
      // Nothing to restore when no trouble was announced; nothing new when it was already said.
      if (last === type || (last === undefined && state === 'ok')) continue;
      const body = {
        type,
        provider: sub.provider,
        userId: sub.externalUserId,
        account: sub.accountPublicId,
        syncState: state,
        timestamp: new Date(now).toISOString(),
        message: state === 'ok' ? 'The account works again; changes are delivered as before' : 'The provider refused the stored credentials: the user must reconnect this account (open the connect flow again); until then no changes of its calendars are delivered',
      };
      deliveries.push({ id: newDeliveryId(), clientId: sub.clientId, subscriptionId: null, type, orderKey, eventCount: 0, body: JSON.stringify(body) });
    }
    if (deliveries.length === 0) return;
    await deps.webhooks.enqueue(deliveries, now);
    deps.queued?.();
  }

  /**
   * Tells the applications subscribed to a calendar that Almanac could not renew the
   * provider's push channel on it (changes are then found by polling only, so they arrive
   * later), and again once a renewal succeeds. Once per change of state per subscription.
   */
  async pushRenewal(accountId: string, calendarId: string, renewed: boolean): Promise<void> {
    const { deps } = this;
    const now = (deps.now ?? Date.now)();
    const type = renewed ? 'subscription.renewed' : 'subscription.renewal_failed';
    const deliveries: NewDelivery[] = [];
    for (const sub of await deps.webhooks.activeFor(accountId, calendarId, now)) {
      const orderKey = `renewal:${sub.channelId}`;
      const last = await deps.webhooks.lastTypeOf(orderKey);
      if (last === type || (last === undefined && renewed)) continue;
      const body = {
        type,
        provider: sub.provider,
        userId: sub.externalUserId,
        calendarId,
        timestamp: new Date(now).toISOString(),
        metadata: { channelId: sub.channelId },
        message: renewed
          ? 'The provider notifies Almanac of changes to this calendar again; deliveries follow changes within seconds'
          : 'Almanac could not renew the provider’s change notifications for this calendar; changes are still found by polling, so deliveries may come minutes later',
      };
      deliveries.push({ id: newDeliveryId(), clientId: sub.clientId, subscriptionId: sub.channelId, type, orderKey, eventCount: 0, body: JSON.stringify(body) });
    }
    if (deliveries.length === 0) return;
    await deps.webhooks.enqueue(deliveries, now);
    deps.queued?.();
  }

  async pageApplying(tx: Kysely<Database>, change: MirrorPageChange): Promise<void> {
    const { deps } = this;
    const now = (deps.now ?? Date.now)();
    const calendarId = change.calendar.calendar.id;
    const webhooks = deps.webhooks.in(tx);
    const subscriptions = await webhooks.activeFor(change.accountId, calendarId, now);
    if (subscriptions.length === 0) return;

    const touched = [...change.page.upserts.map((u) => u.key), ...change.page.deletions, ...change.swept];
    if (touched.length === 0) return;
    const before = new Map<string, CalendarEvent>();
    if (!change.initial) {
      for (const e of await deps.mirror.in(tx).unitEvents(change.calendar.id, 'instances', touched)) before.set(e.id, e);
    }
    const after = new Map<string, CalendarEvent>();
    for (const unit of change.page.upserts) for (const e of unit.instances) after.set(e.id, e);

    // Instances that only crossed the moving window's edges were neither created nor deleted.
    for (const [id, e] of before) {
      if (!after.has(id) && Date.parse(e.end) <= change.window.start) before.delete(id);
    }
    if (change.previousWindow) {
      const edge = change.previousWindow.end;
      for (const [id, e] of after) if (!before.has(id) && Date.parse(e.start) >= edge) after.delete(id);
    }

    let echoes: EchoRecord[] = [];
    if (!deps.echoOwnWrites) {
      const ids = new Set<string>();
      for (const map of [before, after]) {
        for (const e of map.values()) {
          ids.add(e.id);
          if (e.recurringEventId) ids.add(e.recurringEventId);
        }
      }
      echoes = await webhooks.echoesFor(change.accountId, calendarId, [...ids]);
    }
    const notEcho = (e: ChangedEvent) =>
      !isEcho({ id: e.id, deleted: e.changeType === 'deleted', ...(e.recurringEventId ? { recurringEventId: e.recurringEventId } : {}), ...(etagOf(after.get(e.id) ?? e) ? { etag: etagOf(after.get(e.id) ?? e)! } : {}) }, echoes);

    const byProjection = new Map<Projection, ChangedEvent[]>();
    const deliveries: NewDelivery[] = [];
    for (const sub of subscriptions) {
      const project = sub.scope === 'free-busy' ? BUSY : FULL;
      let events = byProjection.get(project);
      if (!events) {
        events = diffEvents(before, after, project).filter(notEcho);
        byProjection.set(project, events);
      }
      for (let i = 0; i < events.length; i += EVENTS_PER_DELIVERY) {
        const chunk = events.slice(i, i + EVENTS_PER_DELIVERY);
        deliveries.push(this.delivery(sub, chunk, change.initial, now));
      }
    }
    if (deliveries.length === 0) return;
    await webhooks.enqueue(deliveries, now);
    // The rows are visible to the worker's connection once the page commits (pageCommitted).
    this.queuedIn.add(change.calendar.id);
  }

  private delivery(sub: ActiveSubscription, events: ChangedEvent[], initial: boolean, now: number): NewDelivery {
    const kinds = new Set(events.map((e) => e.changeType));
    const body = {
      type: 'calendar.changed',
      provider: sub.provider,
      userId: sub.externalUserId,
      calendarId: sub.calendarId,
      events,
      changeType: kinds.size === 1 ? [...kinds][0]! : 'mixed',
      timestamp: new Date(now).toISOString(),
      metadata: { channelId: sub.channelId, eventCount: events.length, isInitialSync: initial },
    };
    return {
      id: newDeliveryId(),
      clientId: sub.clientId,
      subscriptionId: sub.channelId,
      type: 'calendar.changed',
      orderKey: `subscription:${sub.channelId}`,
      eventCount: events.length,
      body: JSON.stringify(body),
    };
  }
}
