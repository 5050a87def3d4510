/**
 * The message catalogs, read once from `catalogs/*.json` when this module loads.
 *
 * Adding a language is adding one file, named by its tag (`nl.json`, `zh-TW.json`):
 * the file lists every key of `en.json` plus a `$meta` block, and
 * `scripts/check-catalogs.js` (run by `npm run lint`) fails the build when it doesn't.
 *
 * `$meta`:
 *   name                 the language's own name ("Português (Brasil)")
 *   dir                  "ltr" | "rtl"
 *   defaultForLanguage   true on the one regional catalog that serves the bare language
 *                        and its unshipped regions when no bare catalog exists
 *                        (pt-PT serves `pt` and `pt-AO`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type enCatalog from './catalogs/en.json';
import { assetDirectory } from '../source-dir.js';

/** Every message key: the keys of en.json, so a typo in a view is a compile error. */
export type MessageKey = Exclude<keyof typeof enCatalog, '$meta'>;

declare const localeBrand: unique symbol;
/** The tag of a shipped catalog ("en", "pt-BR"), as `negotiateLanguage` returns it. */
export type Locale = string & { readonly [localeBrand]: true };

export interface CatalogMeta {
  name: string;
  dir: 'ltr' | 'rtl';
  defaultForLanguage?: boolean;
}

export interface Catalog {
  locale: Locale;
  meta: CatalogMeta;
  messages: Readonly<Record<string, string>>;
}

export const DEFAULT_LOCALE = 'en' as Locale;

function loadCatalogs(): ReadonlyMap<string, Catalog> {
  const dir = assetDirectory(import.meta.url, './catalogs/', 'en.json');
  const out = new Map<string, Catalog>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const tag = file.slice(0, -'.json'.length);
    const raw = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    const { $meta, ...rest } = raw;
    const metaObj = ($meta ?? {}) as Partial<CatalogMeta>;
    const messages: Record<string, string> = {};
    for (const [key, value] of Object.entries(rest)) if (typeof value === 'string') messages[key] = value;
    out.set(tag.toLowerCase(), {
      locale: tag as Locale,
      meta: {
        name: typeof metaObj.name === 'string' ? metaObj.name : tag,
        dir: metaObj.dir === 'rtl' ? 'rtl' : 'ltr',
        defaultForLanguage: metaObj.defaultForLanguage === true,
      },
      messages,
    });
  }
  if (!out.has('en')) throw new Error(`connect i18n: en.json not found in ${dir}`);
  return out;
}

/** Keyed by lower-cased tag. */
export const CATALOGS: ReadonlyMap<string, Catalog> = loadCatalogs();

/** The shipped locales, in file-name order. */
export const LOCALES: readonly Locale[] = [...CATALOGS.values()].map((c) => c.locale);

/** The catalog for a locale, English when the locale is not shipped. */
export function catalogFor(locale: string): Catalog {
  return CATALOGS.get(locale.toLowerCase()) ?? (CATALOGS.get('en') as Catalog);
}
