/**
 * The demo app's callback page, where the connect flow ends: the code and the commands
 * that exchange it and call the API, or why no code came (cancelled, an error). Drawn
 * like the connect pages, in the flow's language and theme.
 */
import { t } from '../connect/i18n/translator.js';
import { html, msg, safeUrl } from '../connect/views/index.js';
import type { SafeHtml } from '../connect/views/index.js';
import { icons } from '../connect/views/icons.js';
import { renderDocument } from '../connect/views/layout.js';
import type { SiteViewModel } from '../site/page-frame.js';

export type DemoOutcome = { kind: 'code'; code: string; state?: string } | { kind: 'cancelled' } | { kind: 'error'; error: string; description?: string } | { kind: 'empty' };

export interface DemoCallbackViewModel extends SiteViewModel {
  outcome: DemoOutcome;
  publicUrl: string;
  clientId?: string;
  /** Where "start again" goes: the demo's authorize URL. */
  restartUrl?: string;
  docsUrl: string;
}

function command(lines: string[]): SafeHtml {
  // Focusable so a keyboard user can scroll a long line; LTR whatever the page's direction.
  return html`<pre class="command" dir="ltr" tabindex="0"><code>${lines.join(' \\\n  ')}</code></pre>`;
}

function codeBody(vm: DemoCallbackViewModel, code: string, state: string | undefined): SafeHtml {
  const { locale } = vm;
  const client = vm.clientId ?? '$CLIENT_ID';
  const exchange = command([`curl -s ${vm.publicUrl}/api/oauth/token`, `-u "${client}:$CLIENT_SECRET"`, '-d grant_type=authorization_code', `-d code=${code}`]);
  const call = command([`curl -s ${vm.publicUrl}/api/calendars`, '-H "Authorization: Bearer $ACCESS_TOKEN"']);
  return html`<div class="status-icon status-icon--ok">${icons.check()}</div>
<h1 class="title">${t(locale, 'demo.codeTitle')}</h1>
<p class="lead">${t(locale, 'demo.codeLead')}</p>
<h2 class="section-title">${t(locale, 'demo.codeLabel')}</h2>
<code class="code-value" dir="ltr">${code}</code>
<section class="section" aria-labelledby="exchange-heading">
<h2 class="section-title" id="exchange-heading">${t(locale, 'demo.exchangeHeading')}</h2>
<p>${msg(locale, 'demo.exchangeHint', { command: html`<code class="nowrap" dir="ltr">npx almanac demo</code>` })}</p>
${exchange}
<p>${t(locale, 'demo.apiHint')}</p>
${call}
</section>
${state !== undefined ? html`<p class="reference">${msg(locale, 'demo.state', { state: html`<code dir="ltr">${state}</code>` })}</p>` : ''}`;
}

function noCodeBody(vm: DemoCallbackViewModel, outcome: Exclude<DemoOutcome, { kind: 'code' }>): SafeHtml {
  const { locale } = vm;
  const [title, body] =
    outcome.kind === 'cancelled' ? (['demo.cancelledTitle', 'demo.cancelledBody'] as const) : outcome.kind === 'error' ? (['demo.errorTitle', 'demo.errorBody'] as const) : (['demo.emptyTitle', 'demo.emptyBody'] as const);
  const icon = outcome.kind === 'error' ? html`<div class="status-icon status-icon--error">${icons.alert()}</div>` : html`<div class="status-icon status-icon--info">${icons.info()}</div>`;
  const detail =
    outcome.kind === 'error'
      ? html`<p class="reference">${msg(locale, 'demo.errorCode', { code: html`<code dir="ltr">${outcome.error}</code>` })}${outcome.description ? html` <bdi dir="ltr">${outcome.description}</bdi>` : ''}</p>`
      : html``;
  return html`${icon}
<h1 class="title">${t(locale, title)}</h1>
<p class="lead">${t(locale, body)}</p>
${detail}`;
}

export function renderDemoCallback(vm: DemoCallbackViewModel): string {
  const { locale, outcome } = vm;
  const main = outcome.kind === 'code' ? codeBody(vm, outcome.code, outcome.state) : noCodeBody(vm, outcome);
  const again = vm.restartUrl
    ? html`<a class="btn ${outcome.kind === 'code' ? 'btn-secondary' : 'btn-primary'} btn-block" href="${safeUrl(vm.restartUrl)}">${t(locale, outcome.kind === 'code' ? 'demo.startAgain' : 'action.tryAgain')}</a>`
    : html``;
  const body = html`${main}
<div class="actions">${again}</div>
<p class="secondary-nav"><a class="text-link" href="${safeUrl(vm.docsUrl)}">${t(locale, 'home.linkDocs')}</a></p>`;
  const title = outcome.kind === 'code' ? 'demo.codeTitle' : outcome.kind === 'cancelled' ? 'demo.cancelledTitle' : outcome.kind === 'error' ? 'demo.errorTitle' : 'demo.emptyTitle';
  return renderDocument(vm, { title: t(locale, title), body, identity: html`<span class="app-name">${t(locale, 'demo.identity')}</span>` });
}
