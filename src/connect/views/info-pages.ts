/** The OAuth interstitial, consent, error and session-expired pages. */
import { parseSupportContact } from '../branding/branding.js';
import { t } from '../i18n/translator.js';
import type { MessageKey } from '../i18n/translator.js';
import { html, msg, safeUrl } from './html.js';
import type { SafeHtml } from './html.js';
import { icons, providerMark } from './icons.js';
import { appMsg, postButton, renderDocument } from './layout.js';
import { providerName } from './providers.js';
import { scopeChip, scopeText } from './scope.js';
import type { ConsentViewModel, ErrorKind, ErrorViewModel, OAuthRedirectViewModel, SessionExpiredViewModel } from './view-models.js';

export function renderOAuthRedirect(vm: OAuthRedirectViewModel): string {
  const { locale } = vm;
  const provider = providerName(locale, vm.provider);
  const body = html`<div class="page-heading">${providerMark(vm.provider, 'lg')}<h1 class="title">${t(locale, 'oauth.title', { provider })}</h1></div>
<p class="lead">${t(locale, 'oauth.intro', { provider })}</p>
<div class="notice notice--info">${icons.info()}<p>${t(locale, 'oauth.permissionTip', { provider })}</p></div>
<div class="actions">
<a class="btn btn-primary btn-block" href="${safeUrl(vm.authorizationUrl)}" rel="noreferrer" data-primary-action>${t(locale, 'oauth.continue', { provider })}${icons.forward()}</a>
</div>
<p class="secondary-nav"><a class="text-link" href="${safeUrl(vm.actions.back)}">${icons.back()}<span>${t(locale, 'nav.chooseAnotherProvider')}</span></a></p>`;
  return renderDocument(vm, { title: t(locale, 'oauth.title', { provider }), body, back: { post: vm.actions.cancel } });
}

function checklist(items: MessageKey[], kind: 'can' | 'cannot', vm: ConsentViewModel): SafeHtml {
  return html`<ul class="checklist checklist--${kind}" role="list">${items.map(
    (key) => html`<li>${kind === 'can' ? icons.check() : icons.cross()}<span>${t(vm.locale, key)}</span></li>`,
  )}</ul>`;
}

export function renderConsent(vm: ConsentViewModel): string {
  const { locale } = vm;
  const scope = scopeText(vm.scope);
  const accounts = vm.accounts ?? [];
  const body = html`<h1 class="title">${t(locale, 'consent.title')}</h1>
${scopeChip(vm)}
<section class="section" aria-labelledby="can-heading">
<h2 class="section-title" id="can-heading">${appMsg(vm, 'consent.canHeading', 'consent.canHeadingGeneric')}</h2>
${checklist(scope.can, 'can', vm)}
</section>
${
  scope.cannot.length > 0
    ? html`<section class="section" aria-labelledby="cannot-heading">
<h2 class="section-title" id="cannot-heading">${appMsg(vm, 'consent.cannotHeading', 'consent.cannotHeadingGeneric')}</h2>
${checklist(scope.cannot, 'cannot', vm)}
</section>`
    : ''
}
${
  accounts.length > 0
    ? html`<section class="section" aria-labelledby="shared-heading">
<h2 class="section-title" id="shared-heading">${t(locale, 'consent.accountsHeading')}</h2>
<ul class="mini-accounts" role="list">${accounts.map(
        (a) => html`<li>${providerMark(a.provider)}<span class="account-text"><span class="account-name"><bdi>${a.display?.trim() || a.accountId}</bdi></span><span class="account-meta">${providerName(
          locale,
          a.provider,
        )}</span></span></li>`,
      )}</ul>
</section>`
    : ''
}
<p class="reassure">${icons.lock()}<span>${t(locale, 'consent.passwordsPrivate')}</span></p>
<div class="actions">
${postButton({ action: vm.actions.allow, csrfToken: vm.csrfToken, label: t(locale, 'consent.allow'), className: 'btn btn-primary btn-block', formClass: 'action-form' })}
${postButton({ action: vm.actions.cancel, csrfToken: vm.csrfToken, label: t(locale, 'consent.deny'), className: 'btn btn-secondary btn-block', formClass: 'action-form' })}
</div>`;
  return renderDocument(vm, { title: t(locale, 'consent.title'), body, back: { post: vm.actions.cancel } });
}

const ERROR_KEYS: Record<ErrorKind, string> = {
  unknown_client: 'unknownClient',
  invalid_redirect_uri: 'invalidRedirect',
  invalid_request: 'invalidRequest',
  provider_denied: 'providerDenied',
  provider_error: 'providerError',
  admin_consent_required: 'adminConsent',
  csrf: 'csrf',
  rate_limited: 'rateLimited',
  no_providers: 'noProviders',
  account_limit: 'accountLimit',
  not_found: 'notFound',
  server_error: 'server',
};

/** Message keys of an error kind (server_error's for an unknown kind). */
export function errorKeys(kind: ErrorKind): { title: MessageKey; body: MessageKey; action: MessageKey } {
  const base = ERROR_KEYS[kind] ?? ERROR_KEYS.server_error;
  return { title: `error.${base}.title` as MessageKey, body: `error.${base}.body` as MessageKey, action: `error.${base}.action` as MessageKey };
}

function supportLine(vm: ErrorViewModel | SessionExpiredViewModel): SafeHtml {
  const contact = parseSupportContact(vm.branding.supportContact);
  if (!contact) return html`<p class="support">${t(vm.locale, 'error.supportAdmin')}</p>`;
  const value =
    contact.kind === 'text'
      ? html`<bdi>${contact.text}</bdi>`
      : html`<a class="text-link" href="${safeUrl(contact.href)}"${contact.kind === 'url' ? html` rel="noopener noreferrer"` : ''}><bdi>${contact.text}</bdi></a>`;
  return html`<p class="support">${msg(vm.locale, 'error.support', { contact: value })}</p>`;
}

function backToApp(vm: ErrorViewModel | SessionExpiredViewModel, cancel: string | undefined, primary: boolean): SafeHtml {
  const label = appMsg(vm, 'nav.backToApp', 'nav.backToAppGeneric');
  const className = `btn ${primary ? 'btn-primary' : 'btn-secondary'} btn-block`;
  if (vm.backUrl) return html`<a class="${className}" href="${safeUrl(vm.backUrl)}">${label}</a>`;
  if (cancel && vm.csrfToken !== undefined) return postButton({ action: cancel, csrfToken: vm.csrfToken, label, className, formClass: 'action-form' });
  return html``;
}

export function renderError(vm: ErrorViewModel): string {
  const { locale } = vm;
  const keys = errorKeys(vm.kind);
  const retry = vm.retryUrl ? html`<a class="btn btn-primary btn-block" href="${safeUrl(vm.retryUrl)}">${t(locale, 'action.tryAgain')}</a>` : html``;
  const back = backToApp(vm, vm.actions?.cancel, !vm.retryUrl);
  const body = html`<div class="status-icon status-icon--error">${icons.alert()}</div>
<h1 class="title">${t(locale, keys.title)}</h1>
<p class="lead">${t(locale, keys.body)}</p>
<section class="section" aria-labelledby="what-to-do">
<h2 class="section-title" id="what-to-do">${t(locale, 'error.whatToDo')}</h2>
<p>${t(locale, keys.action)}</p>
</section>
${retry.value || back.value ? html`<div class="actions">${retry}${back}</div>` : ''}
${supportLine(vm)}
${vm.reference ? html`<p class="reference">${msg(locale, 'error.reference', { id: html`<code dir="ltr">${vm.reference}</code>` })}</p>` : ''}`;
  return renderDocument(vm, { title: t(locale, keys.title), body });
}

export function renderSessionExpired(vm: SessionExpiredViewModel): string {
  const { locale } = vm;
  const restart = vm.restartUrl ? html`<a class="btn btn-primary btn-block" href="${safeUrl(vm.restartUrl)}">${t(locale, 'expired.restart')}</a>` : html``;
  const back = backToApp(vm, undefined, !vm.restartUrl);
  const body = html`<div class="status-icon status-icon--info">${icons.clock()}</div>
<h1 class="title">${t(locale, 'expired.title')}</h1>
<p class="lead">${t(locale, 'expired.body')}</p>
<p>${t(locale, vm.restartUrl ? 'expired.actionRestart' : 'expired.actionBack')}</p>
${restart.value || back.value ? html`<div class="actions">${restart}${back}</div>` : ''}`;
  return renderDocument(vm, { title: t(locale, 'expired.title'), body });
}
