// Checks the connect pages' message catalogs against en.json and exits non-zero on any
// problem: a missing or extra key, a placeholder set that differs from English, an
// empty or non-string message, a bad $meta block, or a language with regional
// catalogs but neither a bare catalog nor exactly one `defaultForLanguage`.
// Usage: node scripts/check-catalogs.js [catalog-dir]   (run by `npm run lint`)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? fileURLToPath(new URL('../src/connect/i18n/catalogs/', import.meta.url));
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;
const TAG = /^[a-z]{2,3}(?:-[A-Z]{2}|-[A-Z][a-z]{3}(?:-[A-Z]{2})?)?$/;

const problems = [];
const report = (file, message) => problems.push(`${file}: ${message}`);

function placeholders(text) {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort();
}

function load(file) {
  try {
    const value = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      report(file, 'is not a JSON object');
      return undefined;
    }
    return value;
  } catch (err) {
    report(file, `cannot be read as JSON (${err.message})`);
    return undefined;
  }
}

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
if (!files.includes('en.json')) {
  console.error(`check-catalogs: no en.json in ${dir}`);
  process.exit(1);
}

const en = load('en.json');
if (!en) {
  console.error(problems.join('\n'));
  process.exit(1);
}
const enKeys = Object.keys(en).filter((k) => k !== '$meta');
const metas = new Map();

for (const file of files) {
  const tag = file.slice(0, -'.json'.length);
  if (!TAG.test(tag)) report(file, `file name "${tag}" is not a language tag like "de" or "pt-BR"`);
  const catalog = file === 'en.json' ? en : load(file);
  if (!catalog) continue;

  const meta = catalog.$meta;
  if (meta === null || typeof meta !== 'object') {
    report(file, 'missing "$meta" object ({ "name": "...", "dir": "ltr" | "rtl" })');
  } else {
    if (typeof meta.name !== 'string' || meta.name.trim() === '') report(file, '$meta.name must be the language\'s own name');
    if (meta.dir !== 'ltr' && meta.dir !== 'rtl') report(file, '$meta.dir must be "ltr" or "rtl"');
    if (meta.defaultForLanguage !== undefined && typeof meta.defaultForLanguage !== 'boolean') {
      report(file, '$meta.defaultForLanguage must be true or absent');
    }
    metas.set(tag, meta);
  }

  const keys = Object.keys(catalog).filter((k) => k !== '$meta');
  const missing = enKeys.filter((k) => !Object.hasOwn(catalog, k));
  const extra = keys.filter((k) => !Object.hasOwn(en, k));
  if (missing.length > 0) report(file, `missing keys:\n    ${missing.join('\n    ')}`);
  if (extra.length > 0) report(file, `extra keys (not in en.json):\n    ${extra.join('\n    ')}`);

  for (const key of keys) {
    const value = catalog[key];
    if (typeof value !== 'string') {
      report(file, `"${key}" is not a string`);
      continue;
    }
    if (value.trim() === '') report(file, `"${key}" is empty`);
    if (!Object.hasOwn(en, key) || typeof en[key] !== 'string') continue;
    const want = placeholders(en[key]);
    const got = placeholders(value);
    if (want.join(',') !== got.join(',')) {
      report(file, `"${key}" placeholders {${got.join('}, {')}} differ from English {${want.join('}, {')}}`);
    }
    const stray = value.replace(PLACEHOLDER, '').match(/[{}]/);
    if (stray) report(file, `"${key}" has an unmatched "${stray[0]}"`);
  }
}

// A language served only by regional catalogs needs exactly one default for `xx` / `xx-ZZ`.
const byLanguage = new Map();
for (const tag of metas.keys()) {
  const language = tag.split('-')[0];
  if (!byLanguage.has(language)) byLanguage.set(language, []);
  byLanguage.get(language).push(tag);
}
for (const [language, tags] of byLanguage) {
  const defaults = tags.filter((t) => metas.get(t).defaultForLanguage === true);
  if (tags.includes(language)) {
    if (defaults.length > 0) report(`${defaults[0]}.json`, `defaultForLanguage is pointless: ${language}.json exists`);
  } else if (defaults.length !== 1) {
    report(tags.map((t) => `${t}.json`).join(', '), `exactly one must set "$meta": { "defaultForLanguage": true } (found ${defaults.length})`);
  }
}

if (problems.length > 0) {
  console.error(`check-catalogs: ${problems.length} problem(s) in ${dir}\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-catalogs: ${files.length} catalogs, ${enKeys.length} keys each, consistent with en.json`);
