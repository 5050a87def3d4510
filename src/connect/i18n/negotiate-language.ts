/**
 * Which catalog a connect page speaks.
 *
 * Order: the `lng` parameter, then `Accept-Language` (by q-value, ties in header
 * order), then English. A tag matches case-insensitively and `_` counts as `-`:
 *   exact catalog (`pt-BR`) → language + region, ignoring a script (`pt-Latn-BR`)
 *   → the bare language (`es-MX` → es, `de-CH` → de) → the language's default
 *   regional catalog when no bare one ships (`pt`, `pt-AO` → pt-PT) → no match.
 * A `lng` that matches nothing gives way to the header (the browser's choice beats
 * English); a malformed header entry is skipped, never fatal.
 */
import { CATALOGS, DEFAULT_LOCALE, LOCALES } from './catalogs.js';
import type { Catalog, Locale } from './catalogs.js';

export type { Locale } from './catalogs.js';

export interface LanguageInput {
  /** The authorize `lng` parameter (or the value the session kept from it). */
  lng?: string | null;
  /** The raw `Accept-Language` request header. */
  acceptLanguage?: string | null;
}

/** Longer headers are cut here before parsing (real ones are under 200 characters). */
export const MAX_ACCEPT_LANGUAGE_LENGTH = 1024;
/** At most this many entries of a header are considered. */
export const MAX_ACCEPT_LANGUAGE_ENTRIES = 32;
const MAX_TAG_LENGTH = 64;

const TAG = /^[a-z]{1,8}(?:-[a-z0-9]{1,8})*$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

function normalizeTag(tag: string): string | undefined {
  const norm = tag.trim().replace(/_/g, '-').toLowerCase();
  if (norm.length === 0 || norm.length > MAX_TAG_LENGTH || !TAG.test(norm)) return undefined;
  return norm;
}

function defaultRegional(language: string): Catalog | undefined {
  for (const catalog of CATALOGS.values()) {
    if (catalog.meta.defaultForLanguage && catalog.locale.toLowerCase().startsWith(`${language}-`)) return catalog;
  }
  return undefined;
}

/** The shipped locale a single language tag resolves to, or undefined when none fits. */
export function matchLocale(tag: string): Locale | undefined {
  const norm = normalizeTag(tag);
  if (norm === undefined) return undefined;
  const exact = CATALOGS.get(norm);
  if (exact) return exact.locale;
  const [language, ...rest] = norm.split('-') as [string, ...string[]];
  // The region is the first 2-letter or 3-digit subtag after an optional 4-letter script.
  const afterScript = rest[0]?.length === 4 ? rest.slice(1) : rest;
  const region = afterScript[0];
  if (region !== undefined && /^(?:[a-z]{2}|\d{3})$/.test(region)) {
    const regional = CATALOGS.get(`${language}-${region}`);
    if (regional) return regional.locale;
  }
  const bare = CATALOGS.get(language);
  if (bare) return bare.locale;
  return defaultRegional(language)?.locale;
}

interface Preference {
  tag: string;
  q: number;
  order: number;
}

/** Parsed `Accept-Language` entries, best first; malformed entries dropped. */
export function parseAcceptLanguage(header: string): Preference[] {
  const prefs: Preference[] = [];
  const entries = header.slice(0, MAX_ACCEPT_LANGUAGE_LENGTH).split(',').slice(0, MAX_ACCEPT_LANGUAGE_ENTRIES);
  entries.forEach((entry, order) => {
    const [rawTag = '', ...params] = entry.split(';');
    const tag = rawTag.trim();
    if (tag !== '*' && normalizeTag(tag) === undefined) return;
    let q = 1;
    for (const param of params) {
      const [name = '', value = ''] = param.split('=').map((s) => s.trim());
      if (name.toLowerCase() !== 'q') continue;
      if (!QVALUE.test(value)) return; // a broken weight makes the whole entry unreliable
      q = Number(value);
    }
    prefs.push({ tag, q, order });
  });
  return prefs.sort((a, b) => b.q - a.q || a.order - b.order);
}

/** The locale for a request: `lng`, then `Accept-Language`, then English. Never throws. */
export function negotiateLanguage(input: LanguageInput): Locale {
  if (typeof input.lng === 'string') {
    const fromParam = matchLocale(input.lng);
    if (fromParam) return fromParam;
  }
  if (typeof input.acceptLanguage === 'string' && input.acceptLanguage.length > 0) {
    const prefs = parseAcceptLanguage(input.acceptLanguage);
    const refused = new Set<Locale>();
    for (const pref of prefs) {
      if (pref.q === 0 && pref.tag !== '*') {
        const match = matchLocale(pref.tag);
        if (match) refused.add(match);
      }
    }
    for (const pref of prefs) {
      if (pref.q === 0) break; // sorted: everything from here on is refused
      if (pref.tag === '*') {
        // "Anything else": English unless refused, then the first shipped locale not refused.
        const any = [DEFAULT_LOCALE, ...LOCALES].find((l) => !refused.has(l));
        if (any) return any;
        continue;
      }
      const match = matchLocale(pref.tag);
      if (match && !refused.has(match)) return match;
    }
  }
  return DEFAULT_LOCALE;
}
