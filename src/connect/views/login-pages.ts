/** The CalDAV and iCloud sign-in forms. */
import { t } from '../i18n/translator.js';
import { html, msg, safeUrl } from './html.js';
import type { SafeHtml } from './html.js';
import { errorSummary, field, inlineError, isInvalid, resolveErrors } from './forms.js';
import type { ResolvedError } from './forms.js';
import { icons, providerMark } from './icons.js';
import { csrfField, renderDocument } from './layout.js';
import type { CaldavErrorCode, CaldavLoginViewModel, IcloudErrorCode, IcloudLoginViewModel, PageViewModel } from './view-models.js';
import { FORM_FIELDS } from './view-models.js';

const CALDAV_ERRORS: Record<CaldavErrorCode, ResolvedError> = {
  server_url_required: { target: 'server-url', inline: 'server-url', invalid: ['server-url'], key: 'form.error.serverUrlRequired' },
  server_url_invalid: { target: 'server-url', inline: 'server-url', invalid: ['server-url'], key: 'form.error.serverUrlInvalid' },
  server_url_blocked: { target: 'server-url', inline: 'server-url', invalid: ['server-url'], key: 'form.error.serverUrlBlocked' },
  server_unreachable: { target: 'server-url', inline: 'server-url', invalid: ['server-url'], key: 'form.error.serverUnreachable' },
  not_caldav: { target: 'server-url', inline: 'server-url', invalid: ['server-url'], key: 'form.error.notCaldav' },
  server_answer_too_large: { target: 'server-url', inline: 'server-url', invalid: ['server-url'], key: 'form.error.serverAnswerTooLarge' },
  username_required: { target: 'username', inline: 'username', invalid: ['username'], key: 'form.error.usernameRequired' },
  username_invalid: { target: 'username', inline: 'username', invalid: ['username'], key: 'form.error.usernameInvalid' },
  password_required: { target: 'password', inline: 'password', invalid: ['password'], key: 'form.error.passwordRequired' },
  invalid_credentials: { target: 'username', invalid: ['username', 'password'], key: 'form.error.invalidCredentials' },
  timeout: { target: 'server-url', invalid: [], key: 'form.error.timeout' },
  rate_limited: { target: 'server-url', invalid: [], key: 'form.error.rateLimited' },
  unknown: { target: 'server-url', invalid: [], key: 'form.error.unknown' },
};

const ICLOUD_ERRORS: Record<IcloudErrorCode, ResolvedError> = {
  apple_id_required: { target: 'apple-id', inline: 'apple-id', invalid: ['apple-id'], key: 'form.error.appleIdRequired' },
  apple_id_invalid: { target: 'apple-id', inline: 'apple-id', invalid: ['apple-id'], key: 'form.error.appleIdInvalid' },
  app_password_required: { target: 'app-password', inline: 'app-password', invalid: ['app-password'], key: 'form.error.appPasswordRequired' },
  invalid_credentials: { target: 'apple-id', invalid: ['apple-id', 'app-password'], key: 'form.error.icloudCredentials' },
  server_answer_too_large: { target: 'apple-id', invalid: [], key: 'form.error.serverAnswerTooLarge' },
  timeout: { target: 'apple-id', invalid: [], key: 'form.error.timeout' },
  rate_limited: { target: 'apple-id', invalid: [], key: 'form.error.rateLimited' },
  unknown: { target: 'apple-id', invalid: [], key: 'form.error.unknown' },
};

function formPage(
  vm: PageViewModel & { actions: { submit: string; back: string; cancel: string } },
  parts: { provider: 'caldav' | 'apple'; title: string; intro: string; errors: ResolvedError[]; fields: SafeHtml; help?: SafeHtml },
): string {
  const { locale } = vm;
  const body = html`<div class="page-heading">${providerMark(parts.provider, 'lg')}<h1 class="title">${parts.title}</h1></div>
<p class="lead">${parts.intro}</p>
${errorSummary(locale, parts.errors)}
${parts.help ?? ''}
<form class="form" method="post" action="${safeUrl(vm.actions.submit)}" novalidate>
${csrfField(vm.csrfToken)}
${parts.fields}
<button type="submit" class="btn btn-primary btn-block">${t(locale, 'action.connect')}</button>
</form>
<p class="secondary-nav"><a class="text-link" href="${safeUrl(vm.actions.back)}">${icons.back()}<span>${t(locale, 'nav.chooseAnotherProvider')}</span></a></p>`;
  const title = parts.errors.length > 0 ? `${t(locale, 'form.errorSummaryTitle')}: ${parts.title}` : parts.title;
  return renderDocument(vm, { title, body, back: { post: vm.actions.cancel } });
}

export function renderCaldavLogin(vm: CaldavLoginViewModel): string {
  const { locale } = vm;
  const errors = resolveErrors(vm.errors, CALDAV_ERRORS);
  const fields = html`${field({
    id: 'server-url',
    name: FORM_FIELDS.serverUrl,
    label: t(locale, 'caldav.serverUrl'),
    type: 'url',
    autocomplete: 'url',
    inputmode: 'url',
    ltr: true,
    value: vm.values?.serverUrl,
    placeholder: 'https://',
    hint: t(locale, 'caldav.serverUrlHint'),
    error: inlineError(locale, errors, 'server-url'),
    invalid: isInvalid(errors, 'server-url'),
  })}
${field({
  id: 'username',
  name: FORM_FIELDS.username,
  label: t(locale, 'caldav.username'),
  type: 'text',
  autocomplete: 'username',
  ltr: true,
  value: vm.values?.username,
  error: inlineError(locale, errors, 'username'),
  invalid: isInvalid(errors, 'username'),
})}
${field({
  id: 'password',
  name: FORM_FIELDS.password,
  label: t(locale, 'caldav.password'),
  type: 'password',
  autocomplete: 'current-password',
  ltr: true,
  hint: t(locale, 'caldav.passwordHint'),
  error: inlineError(locale, errors, 'password'),
  invalid: isInvalid(errors, 'password'),
})}`;
  return formPage(vm, { provider: 'caldav', title: t(locale, 'caldav.title'), intro: t(locale, 'caldav.intro'), errors, fields });
}

export const APPLE_ACCOUNT_URL = 'https://appleid.apple.com/';

export function renderIcloudLogin(vm: IcloudLoginViewModel): string {
  const { locale } = vm;
  const errors = resolveErrors(vm.errors, ICLOUD_ERRORS);
  const fields = html`${field({
    id: 'apple-id',
    name: FORM_FIELDS.appleId,
    label: t(locale, 'icloud.appleId'),
    type: 'email',
    autocomplete: 'username',
    inputmode: 'email',
    ltr: true,
    value: vm.values?.appleId,
    hint: t(locale, 'icloud.appleIdHint'),
    error: inlineError(locale, errors, 'apple-id'),
    invalid: isInvalid(errors, 'apple-id'),
  })}
${field({
  id: 'app-password',
  name: FORM_FIELDS.password,
  label: t(locale, 'icloud.appPassword'),
  type: 'password',
  autocomplete: 'current-password',
  ltr: true,
  hint: msg(locale, 'icloud.appPasswordHint', { example: html`<span class="nowrap" dir="ltr">abcd-efgh-ijkl-mnop</span>` }),
  error: inlineError(locale, errors, 'app-password'),
  invalid: isInvalid(errors, 'app-password'),
})}`;
  const site = html`<a class="text-link" href="${APPLE_ACCOUNT_URL}" target="_blank" rel="noopener noreferrer"><bdi>appleid.apple.com</bdi><span class="visually-hidden"> ${t(
    locale,
    'layout.opensInNewTab',
  )}</span></a>`;
  // A <details> disclosure: works without JavaScript, keyboard and screen-reader operable.
  const help = html`<details class="help" id="app-password-help"${errors.some((e) => e.key === 'form.error.icloudCredentials') ? ' open' : ''}>
<summary class="help-title">${icons.info()}<span>${t(locale, 'icloud.helpHeading')}</span></summary>
<ol class="steps">
<li>${msg(locale, 'icloud.helpStep1', { site })}</li>
<li>${msg(locale, 'icloud.helpStep2', {
    section: html`<strong>${t(locale, 'icloud.helpSection')}</strong>`,
    item: html`<strong>${t(locale, 'icloud.helpItem')}</strong>`,
  })}</li>
<li>${t(locale, 'icloud.helpStep3')}</li>
</ol>
<p class="help-note">${t(locale, 'icloud.helpNote')}</p>
</details>`;
  return formPage(vm, { provider: 'apple', title: t(locale, 'icloud.title'), intro: t(locale, 'icloud.intro'), errors, fields, help });
}
