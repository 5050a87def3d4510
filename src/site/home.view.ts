/** GET /: what this server is, where its documentation and health checks are, and the demo flow. */
import { t } from '../connect/i18n/translator.js';
import { html, msg, safeUrl } from '../connect/views/index.js';
import { renderDocument } from '../connect/views/layout.js';
import type { SiteViewModel } from './page-frame.js';

export interface HomeViewModel extends SiteViewModel {
  /** The demo flow's authorize URL, when there is a demo client. */
  demoAuthorizeUrl?: string;
  links: { docs: string; openapi: string; health: string; ready: string };
}

export function renderHome(vm: HomeViewModel): string {
  const { locale } = vm;
  const code = (text: string) => html`<code dir="ltr">${text}</code>`;
  const tryIt = vm.demoAuthorizeUrl
    ? html`<p>${t(locale, 'home.tryDemo')}</p>
<div class="actions"><a class="btn btn-primary btn-block" href="${safeUrl(vm.demoAuthorizeUrl)}" data-primary-action>${t(locale, 'home.tryDemoButton')}</a></div>`
    : html`<p>${msg(locale, 'home.tryNoDemo', { command: code('npx almanac clients create --name … --redirect-uri …') })}</p>`;
  const link = (href: string, key: Parameters<typeof t>[1]) => html`<li><a class="text-link" href="${safeUrl(href)}">${t(locale, key)}</a></li>`;
  const body = html`<h1 class="title">${t(locale, 'home.title')}</h1>
<p class="lead">${t(locale, 'home.lead')}</p>
<section class="section" aria-labelledby="try-heading">
<h2 class="section-title" id="try-heading">${t(locale, 'home.tryHeading')}</h2>
${tryIt}
</section>
<section class="section" aria-labelledby="dev-heading">
<h2 class="section-title" id="dev-heading">${t(locale, 'home.developersHeading')}</h2>
<ul class="link-list" role="list">${link(vm.links.docs, 'home.linkDocs')}${link(vm.links.openapi, 'home.linkOpenApi')}${link(vm.links.health, 'home.linkHealth')}${link(vm.links.ready, 'home.linkReady')}</ul>
<p>${msg(locale, 'home.repoDocs', { folder: code('docs/') })}</p>
</section>`;
  return renderDocument(vm, { title: t(locale, 'home.title'), body, identity: html`<span class="app-name">${t(locale, 'site.identity')}</span>` });
}
