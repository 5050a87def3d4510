/**
 * Messages by key. `t` returns plain text with `{placeholders}` filled: the view layer
 * escapes it (see views/html.ts `msg`, which also lets a placeholder carry markup).
 */
import { CATALOGS, DEFAULT_LOCALE, LOCALES, catalogFor } from './catalogs.js';
import type { Locale, MessageKey } from './catalogs.js';

export type { Locale, MessageKey } from './catalogs.js';
export { LOCALES, DEFAULT_LOCALE };

export type MessageParams = Readonly<Record<string, string | number>>;

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** The raw template of a key: the locale's, else English's (the catalog check makes this rare). */
export function template(locale: Locale, key: MessageKey): string {
  return catalogFor(locale).messages[key] ?? (CATALOGS.get('en')?.messages[key] as string | undefined) ?? key;
}

/** Fills `{name}` placeholders; an unknown placeholder is left as written so it shows in review. */
export function t(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  return template(locale, key).replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/** Text direction of a locale, for `<html dir>`. */
export function dir(locale: Locale): 'ltr' | 'rtl' {
  return catalogFor(locale).meta.dir;
}

/** The language's own name ("Deutsch"), e.g. for a language menu. */
export function languageName(locale: Locale): string {
  return catalogFor(locale).meta.name;
}

/** Splits a template into literal text and placeholder names, for markup-aware rendering. */
export function templateParts(locale: Locale, key: MessageKey): Array<{ text: string } | { param: string }> {
  const source = template(locale, key);
  const parts: Array<{ text: string } | { param: string }> = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const at = match.index ?? 0;
    if (at > last) parts.push({ text: source.slice(last, at) });
    parts.push({ param: match[1] as string });
    last = at + match[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  return parts;
}

/** Turns an arbitrary string (a stored or cookie value) into a shipped Locale, or English. */
export function toLocale(value: string | undefined): Locale {
  return value !== undefined && CATALOGS.has(value.toLowerCase()) ? catalogFor(value).locale : DEFAULT_LOCALE;
}
