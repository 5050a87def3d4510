import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGS, LOCALES } from '../../src/connect/i18n/catalogs.js';
import { dir, languageName, t, toLocale } from '../../src/connect/i18n/translator.js';
import type { Locale } from '../../src/connect/i18n/translator.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const catalogDir = join(root, 'src/connect/i18n/catalogs');
const script = join(root, 'scripts/check-catalogs.js');
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)].map((m) => m[1]))].sort();

const en = CATALOGS.get('en')?.messages ?? {};

test('the eight required languages ship', () => {
  assert.deepEqual([...LOCALES].sort(), ['ar', 'de', 'en', 'es', 'fr', 'it', 'pt-BR', 'pt-PT']);
});

for (const catalog of CATALOGS.values()) {
  test(`catalog ${catalog.locale}: every English key, no extra key, same placeholders, nothing empty`, () => {
    const missing = Object.keys(en).filter((k) => !(k in catalog.messages));
    const extra = Object.keys(catalog.messages).filter((k) => !(k in en));
    assert.deepEqual(missing, [], 'missing keys');
    assert.deepEqual(extra, [], 'extra keys');
    for (const [key, value] of Object.entries(catalog.messages)) {
      assert.ok(value.trim().length > 0, `${key} is empty`);
      assert.deepEqual(placeholders(value), placeholders(en[key] as string), `${key} placeholders`);
    }
  });
}

test('translations are translations: most messages differ from English', () => {
  for (const catalog of CATALOGS.values()) {
    if (catalog.locale === 'en') continue;
    const same = Object.keys(en).filter((k) => catalog.messages[k] === en[k]);
    // Brand names (Google, iCloud, CalDAV…) legitimately stay the same.
    assert.ok(same.length < 12, `${catalog.locale}: ${same.length} untranslated: ${same.join(', ')}`);
  }
});

test('dir, language names and fallbacks', () => {
  assert.equal(dir('ar' as Locale), 'rtl');
  for (const l of LOCALES) if (l !== 'ar') assert.equal(dir(l), 'ltr');
  assert.equal(languageName('pt-BR' as Locale), 'Português (Brasil)');
  assert.equal(toLocale('PT-br'), 'pt-BR');
  assert.equal(toLocale('xx'), 'en');
  assert.equal(t('fr' as Locale, 'nav.backToApp', { app: 'Acme' }), 'Retour à Acme');
  assert.equal(t('en' as Locale, 'nav.backToApp'), 'Back to {app}'); // missing param stays visible
  assert.equal(t('zz' as Locale, 'action.cancel'), 'Cancel'); // unknown locale → English
});

test('check-catalogs.js passes on the shipped catalogs', () => {
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  assert.match(out, /8 catalogs/);
});

test('check-catalogs.js fails, listing the problems, on a broken catalog', () => {
  const dirPath = mkdtempSync(join(tmpdir(), 'catalogs-'));
  try {
    for (const file of readdirSync(catalogDir)) writeFileSync(join(dirPath, file), readFileSync(join(catalogDir, file)));
    const es = JSON.parse(readFileSync(join(dirPath, 'es.json'), 'utf8')) as Record<string, unknown>;
    delete es['action.cancel'];
    es['bogus.key'] = 'x';
    es['nav.backToApp'] = 'Volver a {aplicacion}';
    writeFileSync(join(dirPath, 'es.json'), JSON.stringify(es));
    const pt = JSON.parse(readFileSync(join(dirPath, 'pt-PT.json'), 'utf8')) as { $meta: Record<string, unknown> };
    delete pt.$meta.defaultForLanguage;
    writeFileSync(join(dirPath, 'pt-PT.json'), JSON.stringify(pt));
    writeFileSync(join(dirPath, 'nl.json'), '{ "$meta": { "name": "Nederlands", "dir": "ltr" } }');

    const run = spawnSync(process.execPath, [script, dirPath], { encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /es\.json: missing keys:\s+action\.cancel/);
    assert.match(run.stderr, /es\.json: extra keys \(not in en\.json\):\s+bogus\.key/);
    assert.match(run.stderr, /"nav\.backToApp" placeholders \{aplicacion\} differ from English \{app\}/);
    assert.match(run.stderr, /pt-BR\.json, pt-PT\.json: exactly one must set/);
    assert.match(run.stderr, /nl\.json: missing keys/);
  } finally {
    rmSync(dirPath, { recursive: true, force: true });
  }
});
