/** What a scope lets the application do, as message keys. */
import { t } from '../i18n/translator.js';
import type { Locale, MessageKey } from '../i18n/translator.js';
import { html, msg } from './html.js';
import type { SafeHtml } from './html.js';
import { icons } from './icons.js';
import type { ConnectScope } from './view-models.js';

export interface ScopeText {
  name: MessageKey;
  summary: MessageKey;
  can: MessageKey[];
  cannot: MessageKey[];
}

export const SCOPE_TEXT: Record<ConnectScope, ScopeText> = {
  'free-busy': {
    name: 'scope.freeBusy.name',
    summary: 'scope.freeBusy.summary',
    can: ['consent.can.seeBusy'],
    cannot: ['consent.cannot.seeDetails', 'consent.cannot.seeCalendars', 'consent.cannot.editEvents'],
  },
  read: {
    name: 'scope.read.name',
    summary: 'scope.read.summary',
    can: ['consent.can.seeCalendars', 'consent.can.seeEvents'],
    cannot: ['consent.cannot.editEvents'],
  },
  'read-write': {
    name: 'scope.readWrite.name',
    summary: 'scope.readWrite.summary',
    can: ['consent.can.seeCalendars', 'consent.can.seeEvents', 'consent.can.editEvents'],
    cannot: [],
  },
};

/** The scope's text, read-write (the API default) for an unknown value. */
export function scopeText(scope: string): ScopeText {
  return SCOPE_TEXT[scope as ConnectScope] ?? SCOPE_TEXT['read-write'];
}

/** "Requested access: Read and write" with the one-line summary under it. */
export function scopeChip(vm: { locale: Locale; scope: string }): SafeHtml {
  const scope = scopeText(vm.scope);
  return html`<div class="scope-chip">${icons.lock()}<p><span class="scope-name">${msg(vm.locale, 'hub.requestedAccess', {
    access: html`<strong>${t(vm.locale, scope.name)}</strong>`,
  })}</span><span class="scope-summary">${t(vm.locale, scope.summary)}</span></p></div>`;
}
