/** GET /: connect, or (when connected) the accounts Almanac holds for this user. */
import { PROVIDERS } from '@almanac/sdk';
import type { Context } from '../context.js';
import { csrfField, html, noticeFrom } from '../html.js';

const PROVIDER_NAMES: Record<string, string> = { google: 'Google', microsoft: 'Microsoft', apple: 'iCloud', caldav: 'CalDAV' };

export async function home(ctx: Context): Promise<void> {
  const notice = noticeFrom(ctx.url);
  if (!ctx.connected) {
    ctx.sendPage(
      'Your calendars',
      html`<p>This app reads and writes your calendars through Almanac. Connect a calendar to begin.</p>
<p><a class="button" id="connect" href="/login">Connect calendar</a></p>`,
      notice ? { notice } : {},
    );
    return;
  }

  const status = await ctx.almanac().auth.getConnectionStatus();
  const accounts = PROVIDERS.flatMap((provider) => (status.connections[provider] ?? []).map((account) => ({ provider, account })));
  const savedAt = ctx.store.tokensSavedAt(ctx.session);
  const list =
    accounts.length > 0
      ? html`<ul class="accounts">${accounts.map(
          ({ provider, account }) =>
            html`<li data-provider="${provider}"><strong>${PROVIDER_NAMES[provider] ?? provider}</strong>: ${account.display ?? account.id}${
              account.syncState && account.syncState !== 'ok' ? html` <span class="muted">(${account.syncState})</span>` : ''
            }</li>`,
        )}</ul>`
      : html`<p>No calendar account is connected any more.</p>`;

  ctx.sendPage(
    'Your calendars',
    html`<h2>Connected accounts</h2>
${list}
<p><a href="/calendars">Calendars</a> · <a href="/events">Events this month</a> · <a href="/login">Connect another calendar</a></p>
<h2>Tokens</h2>
<p class="muted">Kept on this server only${savedAt ? `; last saved ${savedAt.toISOString()}` : ''}.</p>
<form method="post" action="/refresh">${csrfField(ctx.session.csrf)}<button type="submit">Refresh tokens now</button></form>`,
    notice ? { notice } : {},
  );
}
