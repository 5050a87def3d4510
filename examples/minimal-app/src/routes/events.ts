/** GET /events?month=YYYY-MM[&provider=…&calendarId=…]: a month of events, by day. */
import { PROVIDERS, type CalendarEvent, type EventListParams, type Provider } from '@almanac/sdk';
import type { Context } from '../context.js';
import { dayLabel, monthLabel, monthRange, timeLabel } from '../dates.js';
import { href, html, noticeFrom } from '../html.js';

export function isProvider(value: string | null): value is Provider {
  return (PROVIDERS as readonly string[]).includes(value ?? '');
}

/** Link to the edit page; `at` (the start) lets that page find the event again. */
export function editHref(event: CalendarEvent): string {
  return href('/events/edit', { provider: event.provider, calendarId: event.calendarId, eventId: event.id, at: event.start });
}

export async function events(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const q = ctx.url.searchParams;
  const range = monthRange(q.get('month'));
  const provider = q.get('provider');
  const calendarId = q.get('calendarId');
  const filter = isProvider(provider) && calendarId ? { provider, calendarId } : undefined;

  const client = ctx.almanac();
  const params: EventListParams = { start: range.start, end: range.end, ...(filter ? { calendarIds: { [filter.provider]: [filter.calendarId] } } : {}) };
  // `iterate` follows nextPageToken, so a busy month is not cut at the first page.
  const collect = async () => {
    const all: CalendarEvent[] = [];
    for await (const event of client.events.iterate(params)) all.push(event);
    return all;
  };
  const [calendars, list] = await Promise.all([client.calendars.list(), collect()]);
  const calendarTitle = new Map(calendars.map((c) => [`${c.provider}:${c.id}`, c.title || c.id]));

  const keep = filter ? { provider: filter.provider, calendarId: filter.calendarId } : {};
  const nav = html`<p class="month-nav"><a href="${href('/events', { month: range.previous, ...keep })}" rel="prev">← Previous month</a>
<a href="${href('/events', { month: range.next, ...keep })}" rel="next">Next month →</a>
<a href="${href('/events/new', { month: range.month })}">New event</a></p>`;

  const rows = list.map(
    (e) => html`<tr data-event-id="${e.id}">
<td>${dayLabel(e.start)}</td>
<td>${e.allDay ? 'All day' : `${timeLabel(e.start)}–${timeLabel(e.end)}`}</td>
<td class="event-title">${e.title}${e.recurringEventId ? html` <span class="muted">(repeats)</span>` : ''}${e.location ? html`<br><span class="muted">${e.location}</span>` : ''}</td>
<td>${calendarTitle.get(`${e.provider}:${e.calendarId}`) ?? e.calendarId}</td>
<td><a href="${editHref(e)}">Edit</a></td>
</tr>`,
  );
  const table =
    list.length === 0
      ? html`<p class="empty">No events this month.</p>`
      : html`<table class="events">
<thead><tr><th scope="col">Day</th><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Calendar</th><th scope="col"></th></tr></thead>
<tbody>${rows}</tbody>
</table>`;

  const title = `Events in ${monthLabel(range)}`;
  const scope = filter ? html`<p class="muted">Calendar: ${calendarTitle.get(`${filter.provider}:${filter.calendarId}`) ?? filter.calendarId} · <a href="${href('/events', { month: range.month })}">all calendars</a></p>` : '';
  const notice = noticeFrom(ctx.url);
  ctx.sendPage(title, html`${scope}${nav}${table}`, notice ? { notice } : {});
}
