/**
 * The hub: provider selection and connection management on one page. Connected
 * accounts (with disconnect, and reconnect when an account needs attention), the
 * providers on offer, then Continue (to the app) and Cancel. When the session cannot
 * show the user's other accounts, a note says they may exist and stay as they are.
 */
import { t } from '../i18n/translator.js';
import { html, msg, safeUrl } from './html.js';
import type { SafeHtml } from './html.js';
import { icons, providerMark } from './icons.js';
import { appMsg, postButton, renderDocument } from './layout.js';
import { providerDescription, providerName } from './providers.js';
import { scopeChip } from './scope.js';
import type { ConnectedAccountView, HubViewModel } from './view-models.js';
import { FORM_FIELDS } from './view-models.js';

/** Why an account needs the user, if it does. */
export function accountAttention(account: Pick<ConnectedAccountView, 'syncState' | 'calendarPermissionGranted' | 'needsMoreAccess'>): 'reauth' | 'permission' | 'upgrade' | undefined {
  if (account.syncState === 'reauth_required') return 'reauth';
  if (!account.calendarPermissionGranted) return 'permission';
  if (account.needsMoreAccess) return 'upgrade';
  return undefined;
}

const ATTENTION_MESSAGE = { reauth: 'account.reauthRequired', permission: 'account.permissionMissing', upgrade: 'account.moreAccessNeeded' } as const;

function accountItem(vm: HubViewModel, account: ConnectedAccountView, index: number): SafeHtml {
  const { locale } = vm;
  const attention = accountAttention(account);
  const label = account.display?.trim() || account.accountId;
  const showId = label !== account.accountId;
  const statusId = `account-${index}-status`;
  const reconnect =
    attention && account.reconnectHref
      ? html`<a class="btn btn-primary btn-small" href="${safeUrl(account.reconnectHref)}" aria-label="${t(locale, 'account.reconnectLabel', {
          account: account.accountId,
        })}">${t(locale, 'account.reconnect')}</a>`
      : '';
  return html`<li class="account${attention ? ' account--attention' : ''}">
<div class="account-row">${providerMark(account.provider)}
<div class="account-text">
<p class="account-name"><bdi>${label}</bdi></p>
<p class="account-meta">${showId ? html`<bdi class="account-id">${account.accountId}</bdi><span class="sep" aria-hidden="true"> · </span>` : ''}<span>${providerName(
    locale,
    account.provider,
  )}</span></p>
<p class="status ${attention ? 'status--warn' : 'status--ok'}" id="${statusId}">${attention ? icons.alert() : icons.check()}<span>${t(
    locale,
    attention ? 'account.statusAttention' : 'account.statusConnected',
  )}</span></p>
</div>
</div>
${attention ? html`<p class="account-message">${t(locale, ATTENTION_MESSAGE[attention])}</p>` : ''}
<div class="account-actions">${reconnect}${postButton({
    action: vm.actions.disconnect,
    csrfToken: vm.csrfToken,
    label: t(locale, 'account.disconnect'),
    className: 'btn btn-quiet btn-small',
    ariaLabel: t(locale, 'account.disconnectLabel', { account: account.accountId }),
    hidden: { [FORM_FIELDS.provider]: account.provider, [FORM_FIELDS.account]: account.accountId },
  })}</div>
</li>`;
}

export function renderProviderSelection(vm: HubViewModel): string {
  const { locale } = vm;
  const hasAccounts = vm.accounts.length > 0;
  const canFinish = hasAccounts || vm.otherAccountsHidden === true;
  const notice = vm.notice
    ? html`<div class="notice notice--success" role="status">${icons.check()}<p>${msg(
        locale,
        vm.notice.kind === 'connected' ? 'hub.noticeConnected' : 'hub.noticeDisconnected',
        { account: html`<bdi>${vm.notice.account}</bdi>` },
      )}</p></div>`
    : '';

  const accounts = hasAccounts
    ? html`<section class="section" aria-labelledby="connected-heading">
<h2 class="section-title" id="connected-heading">${t(locale, 'hub.connectedHeading')}</h2>
<ul class="accounts" role="list">${vm.accounts.map((a, i) => accountItem(vm, a, i))}</ul>
</section>`
    : '';
  const hiddenNote = vm.otherAccountsHidden ? html`<p class="notice notice--info hidden-accounts">${icons.info()}<span>${t(locale, 'hub.otherAccountsHidden')}</span></p>` : '';

  let providerBody: SafeHtml;
  if (vm.limitReached) providerBody = html`<p class="notice notice--info">${icons.info()}<span>${t(locale, 'hub.limitReached')}</span></p>`;
  else if (vm.providers.length === 0) providerBody = html`<p class="notice notice--info">${icons.info()}<span>${t(locale, 'hub.noProviders')}</span></p>`;
  else {
    providerBody = html`<ul class="providers" role="list">${vm.providers.map(
      (p) => html`<li><a class="provider" href="${safeUrl(p.href)}">${providerMark(p.id)}<span class="provider-text"><span class="provider-name">${providerName(
        locale,
        p.id,
      )}</span><span class="provider-desc">${providerDescription(locale, p.id)}</span></span>${icons.forward()}</a></li>`,
    )}</ul>`;
  }

  const body = html`<h1 class="title">${t(locale, 'hub.title')}</h1>
<p class="lead">${t(locale, 'hub.intro')}</p>
${scopeChip(vm)}
${notice}
${hiddenNote}
${accounts}
<section class="section" aria-labelledby="providers-heading">
<h2 class="section-title" id="providers-heading">${t(locale, hasAccounts ? 'hub.addAnotherHeading' : 'hub.providersHeading')}</h2>
${providerBody}
</section>
<div class="actions">
${canFinish ? html`<p class="actions-hint">${t(locale, hasAccounts ? 'hub.finishHint' : 'hub.finishWithoutChanges')}</p>` : ''}
${
  canFinish
    ? postButton({
        action: vm.actions.finish,
        csrfToken: vm.csrfToken,
        label: appMsg(vm, 'action.continueToApp', 'action.continueToAppGeneric'),
        className: 'btn btn-primary btn-block',
        formClass: 'action-form',
      })
    : ''
}
${postButton({ action: vm.actions.cancel, csrfToken: vm.csrfToken, label: t(locale, 'action.cancel'), className: 'btn btn-secondary btn-block', formClass: 'action-form' })}
</div>`;
  return renderDocument(vm, { title: t(locale, 'hub.title'), body, back: { post: vm.actions.cancel } });
}

/** The same hub page: connection management is its "connected accounts" section. */
export const renderManageConnections = renderProviderSelection;
