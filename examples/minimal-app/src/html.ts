/**
 * HTML output. Every interpolated value is escaped unless it is already `SafeHtml`,
 * so calendar data (titles, descriptions, provider ids) can never inject markup:
 * it comes from whoever can write to the user's calendars, not from us.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${title}</p>\`` escapes `title`; nested `html` stays as is. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** A URL from data (e.g. an event's `link`) is only linked when it is http(s): no `javascript:`. */
export function httpUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** A path with its query built from parameters, for links and redirects within the app. */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, value);
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface PageOptions {
  title: string;
  /** Whether the user has tokens: decides which navigation links make sense. */
  connected: boolean;
  /** A one-line status message shown above the content. */
  notice?: { kind: 'ok' | 'error'; text: string };
  csrf: string;
}

export function page(opts: PageOptions, body: SafeHtml): string {
  const nav = opts.connected
    ? html`<nav><a href="/">Home</a> <a href="/calendars">Calendars</a> <a href="/events">Events</a> <a href="/events/new">New event</a>
<form method="post" action="/logout" class="inline">${csrfField(opts.csrf)}<button type="submit">Revoke access</button></form></nav>`
    : html`<nav><a href="/">Home</a></nav>`;
  const notice = opts.notice
    ? html`<p class="notice notice-${opts.notice.kind}" role="${opts.notice.kind === 'error' ? 'alert' : 'status'}">${opts.notice.text}</p>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Minimal Almanac app</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><p class="brand">Minimal Almanac app</p>${nav}</header>
<main>
<h1>${opts.title}</h1>
${notice}
${body}
</main>
</body>
</html>
`.value;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}

/**
 * Served as a file rather than inline so the Content-Security-Policy can forbid
 * inline styles and scripts altogether.
 */
export const STYLESHEET = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #1d1d1f; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 1rem; border-bottom: 1px solid #ddd; }
.brand { font-weight: 600; }
nav { display: flex; gap: 1rem; align-items: center; }
form.inline { display: inline; }
.notice { padding: .5rem .75rem; border-radius: .25rem; }
.notice-ok { background: #e6f4ea; }
.notice-error { background: #fde8e8; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
label { display: block; margin-top: .75rem; }
input[type=text], input[type=datetime-local], input[type=number], select, textarea { font: inherit; width: 100%; max-width: 28rem; }
fieldset { margin-top: 1rem; }
button, .button { font: inherit; margin-top: 1rem; }
.muted { color: #666; }
.month-nav { display: flex; gap: 1rem; }
`;

/**
 * Status messages passed across a redirect as `?notice=<code>`. Only these fixed
 * texts can appear, so the query string cannot be used to put words on our page.
 */
const NOTICES: Record<string, { kind: 'ok' | 'error'; text: string }> = {
  connected: { kind: 'ok', text: 'Your calendar is connected.' },
  denied: { kind: 'error', text: 'You cancelled connecting a calendar.' },
  refreshed: { kind: 'ok', text: 'The access token was refreshed and the new tokens were saved.' },
  revoked: { kind: 'ok', text: "This app's access to your calendars was revoked." },
  created: { kind: 'ok', text: 'Event created.' },
  updated: { kind: 'ok', text: 'Event updated.' },
  unchanged: { kind: 'ok', text: 'Nothing to change.' },
  deleted: { kind: 'ok', text: 'Event deleted.' },
};

export function noticeFrom(url: URL): { kind: 'ok' | 'error'; text: string } | undefined {
  const code = url.searchParams.get('notice');
  return code && Object.hasOwn(NOTICES, code) ? NOTICES[code] : undefined;
}
