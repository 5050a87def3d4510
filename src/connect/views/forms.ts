/** Labelled inputs and the error summary shared by the login forms. */
import { t } from '../i18n/translator.js';
import type { Locale, MessageKey } from '../i18n/translator.js';
import { html } from './html.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { icons } from './icons.js';

export interface FieldOptions {
  id: string;
  name: string;
  label: string;
  type: 'text' | 'email' | 'url' | 'password';
  autocomplete: string;
  value?: string;
  hint?: HtmlValue;
  /** Shown under the label and linked with aria-describedby. */
  error?: string;
  /** Marks the input invalid without its own message (e.g. wrong username *or* password). */
  invalid?: boolean;
  inputmode?: 'email' | 'url' | 'text';
  /** URLs, emails and passwords read left-to-right even on RTL pages. */
  ltr?: boolean;
  placeholder?: string;
}

export function field(o: FieldOptions): SafeHtml {
  const described = [o.hint ? `${o.id}-hint` : '', o.error ? `${o.id}-error` : ''].filter(Boolean).join(' ');
  const invalid = Boolean(o.error) || o.invalid === true;
  const value = o.type === 'password' ? undefined : o.value;
  return html`<div class="field${invalid ? ' field--error' : ''}">
<label class="field-label" for="${o.id}">${o.label}</label>
${o.hint ? html`<p class="field-hint" id="${o.id}-hint">${o.hint}</p>` : ''}
${o.error ? html`<p class="field-error" id="${o.id}-error">${icons.alert()}<span>${o.error}</span></p>` : ''}
<input class="input" id="${o.id}" name="${o.name}" type="${o.type}" autocomplete="${o.autocomplete}"${
    value !== undefined && value !== '' ? html` value="${value}"` : ''
  }${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.ltr ? html` dir="ltr"` : ''}${
    o.placeholder ? html` placeholder="${o.placeholder}"` : ''
  }${described ? html` aria-describedby="${described}"` : ''}${invalid ? html` aria-invalid="true"` : ''}${
    o.type === 'text' || o.type === 'email' || o.type === 'url' ? html` autocapitalize="none" spellcheck="false"` : ''
  } required maxlength="${o.type === 'url' ? 2048 : 320}">
</div>`;
}

export interface ResolvedError {
  /** Input id the summary links to. */
  target: string;
  /** Input id that shows the message inline (none for form-wide problems). */
  inline?: string;
  /** Inputs marked aria-invalid. */
  invalid: string[];
  key: MessageKey;
}

/**
 * The GOV.UK-style summary at the top of a form: focused on load (autofocus), announced
 * (role="alert"), each problem a link to its field.
 */
export function errorSummary(locale: Locale, errors: ResolvedError[]): SafeHtml {
  if (errors.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>
<h2 class="error-summary-title" id="error-summary-title">${icons.alert()}<span>${t(locale, 'form.errorSummaryTitle')}</span></h2>
<ul class="error-summary-list">${errors.map((e) => html`<li><a href="#${e.target}">${t(locale, e.key)}</a></li>`)}</ul>
</div>`;
}

/** De-duplicates codes and keeps one message per inline field (the first). */
export function resolveErrors<C extends string>(codes: readonly C[] | undefined, table: Record<C, Omit<ResolvedError, never>>): ResolvedError[] {
  const seen = new Set<string>();
  const inlineTaken = new Set<string>();
  const out: ResolvedError[] = [];
  for (const code of codes ?? []) {
    const entry = table[code];
    if (!entry || seen.has(code)) continue;
    seen.add(code);
    const inline = entry.inline && !inlineTaken.has(entry.inline) ? entry.inline : undefined;
    if (inline) inlineTaken.add(inline);
    out.push({ ...entry, inline });
  }
  return out;
}

export function inlineError(locale: Locale, errors: ResolvedError[], id: string): string | undefined {
  const e = errors.find((x) => x.inline === id);
  return e ? t(locale, e.key) : undefined;
}

export function isInvalid(errors: ResolvedError[], id: string): boolean {
  return errors.some((e) => e.invalid.includes(id));
}
