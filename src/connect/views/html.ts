/**
 * The `html` tagged template: every interpolation is HTML-escaped unless it is a
 * SafeHtml (built by `html` itself or by an explicit `raw()`). Templates must quote
 * attribute values with double quotes; escaping then covers text and attributes alike.
 */
import { templateParts } from '../i18n/translator.js';
import type { Locale, MessageKey } from '../i18n/translator.js';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

/** Marks trusted markup as safe. Never pass user, client or request data. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || typeof value === 'boolean') return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] as string);
  return new SafeHtml(out);
}

/**
 * A URL fit for href/src/action: relative, http(s), mailto or tel. Anything else
 * (javascript:, data:, vbscript:, malformed) becomes "#". Defence in depth: the
 * CSP already refuses inline script.
 */
export function safeUrl(url: string | undefined): string {
  if (url === undefined) return '#';
  const trimmed = url.replace(/[\u0000-\u0020\u007f]/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed);
  if (!scheme) return url.trim().length > 0 ? url.trim() : '#';
  return ['http', 'https', 'mailto', 'tel'].includes((scheme[1] as string).toLowerCase()) ? url.trim() : '#';
}

export type MessageArgs = Readonly<Record<string, string | number | SafeHtml>>;

/** A translated message as markup: its text escaped, SafeHtml parameters kept as markup. */
export function msg(locale: Locale, key: MessageKey, args: MessageArgs = {}): SafeHtml {
  let out = '';
  for (const part of templateParts(locale, key)) {
    if ('text' in part) out += escapeHtml(part.text);
    else if (Object.hasOwn(args, part.param)) out += render(args[part.param] as string | number | SafeHtml);
    else out += escapeHtml(`{${part.param}}`);
  }
  return new SafeHtml(out);
}
