/** GET /calendars: every calendar of every connected account. */
import type { Context } from '../context.js';
import { href, html, noticeFrom } from '../html.js';

export async function calendars(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const list = await ctx.almanac().calendars.list();
  const notice = noticeFrom(ctx.url);
  const body =
    list.length === 0
      ? html`<p>No calendars yet. <a href="/login">Connect a calendar</a>.</p>`
      : html`<table class="calendars">
<thead><tr><th scope="col">Calendar</th><th scope="col">Provider</th><th scope="col">Time zone</th><th scope="col"></th></tr></thead>
<tbody>${list.map(
          (c) => html`<tr data-calendar-id="${c.id}">
<td>${c.title || c.id}${c.description ? html`<br><span class="muted">${c.description}</span>` : ''}</td>
<td>${c.provider}</td>
<td>${c.timeZone}</td>
<td><a href="${href('/events', { provider: c.provider, calendarId: c.id })}">Events</a></td>
</tr>`,
        )}</tbody>
</table>`;
  ctx.sendPage('Calendars', body, notice ? { notice } : {});
}
