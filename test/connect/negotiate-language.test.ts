import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchLocale, negotiateLanguage, parseAcceptLanguage } from '../../src/connect/i18n/negotiate-language.js';

type Row = [rule: string, input: { lng?: string; acceptLanguage?: string }, expected: string];

const rows: Row[] = [
  // lng parameter, every shipped locale
  ['lng en', { lng: 'en' }, 'en'],
  ['lng es', { lng: 'es' }, 'es'],
  ['lng fr', { lng: 'fr' }, 'fr'],
  ['lng de', { lng: 'de' }, 'de'],
  ['lng it', { lng: 'it' }, 'it'],
  ['lng pt-PT', { lng: 'pt-PT' }, 'pt-PT'],
  ['lng pt-BR', { lng: 'pt-BR' }, 'pt-BR'],
  ['lng ar', { lng: 'ar' }, 'ar'],
  // order: lng beats Accept-Language, which beats English
  ['lng wins over header', { lng: 'fr', acceptLanguage: 'de' }, 'fr'],
  ['header when no lng', { acceptLanguage: 'it' }, 'it'],
  ['English when nothing', {}, 'en'],
  ['English when header empty', { acceptLanguage: '' }, 'en'],
  ['unknown lng falls to header', { lng: 'ja', acceptLanguage: 'es' }, 'es'],
  ['unknown lng and no header', { lng: 'ja' }, 'en'],
  ['malformed lng falls to header', { lng: '<script>', acceptLanguage: 'de' }, 'de'],
  // case-insensitive, `_` for `-`
  ['upper case', { lng: 'PT-BR' }, 'pt-BR'],
  ['mixed case', { lng: 'Pt-bR' }, 'pt-BR'],
  ['underscore', { lng: 'pt_BR' }, 'pt-BR'],
  ['underscore + case', { lng: 'PT_br' }, 'pt-BR'],
  ['header underscore', { acceptLanguage: 'pt_br' }, 'pt-BR'],
  ['surrounding spaces', { lng: '  fr  ' }, 'fr'],
  // unshipped region → bare language
  ['es-MX → es', { lng: 'es-MX' }, 'es'],
  ['de-CH → de', { lng: 'de-CH' }, 'de'],
  ['fr-CA → fr', { lng: 'fr-CA' }, 'fr'],
  ['ar-EG → ar', { lng: 'ar-EG' }, 'ar'],
  ['en-GB → en', { lng: 'en-GB' }, 'en'],
  ['it-CH → it', { lng: 'it-CH' }, 'it'],
  ['es-419 → es', { lng: 'es-419' }, 'es'],
  ['header de-AT → de', { acceptLanguage: 'de-AT,de;q=0.9' }, 'de'],
  // Portuguese
  ['bare pt → pt-PT', { lng: 'pt' }, 'pt-PT'],
  ['pt-AO → pt-PT', { lng: 'pt-AO' }, 'pt-PT'],
  ['pt-MZ → pt-PT', { lng: 'pt-mz' }, 'pt-PT'],
  ['pt-PT exact', { lng: 'pt-pt' }, 'pt-PT'],
  ['pt-BR exact', { lng: 'pt-br' }, 'pt-BR'],
  ['header pt → pt-PT', { acceptLanguage: 'pt' }, 'pt-PT'],
  ['header pt-BR', { acceptLanguage: 'pt-BR,pt;q=0.9,en;q=0.8' }, 'pt-BR'],
  ['script subtag pt-Latn-BR', { lng: 'pt-Latn-BR' }, 'pt-BR'],
  // anything else → English
  ['zh → en', { lng: 'zh' }, 'en'],
  ['header ja,ko → en', { acceptLanguage: 'ja,ko;q=0.5' }, 'en'],
  ['nonsense → en', { acceptLanguage: '!!!' }, 'en'],
  // q-values
  ['q order beats header order', { acceptLanguage: 'fr;q=0.5, de;q=0.9' }, 'de'],
  ['ties keep header order', { acceptLanguage: 'it;q=0.8, es;q=0.8' }, 'it'],
  ['implicit q=1', { acceptLanguage: 'es;q=0.9, ar' }, 'ar'],
  ['unsupported first, supported later', { acceptLanguage: 'ja, ko;q=0.9, fr;q=0.1' }, 'fr'],
  ['q=0 means not acceptable', { acceptLanguage: 'fr;q=0, de;q=0.1' }, 'de'],
  ['only q=0 → en', { acceptLanguage: 'fr;q=0' }, 'en'],
  ['q with spaces', { acceptLanguage: 'fr ; q=0.2 , es ; q = 0.7' }, 'es'],
  ['q=1.000 allowed', { acceptLanguage: 'de;q=1.000' }, 'de'],
  // *
  ['* alone → en', { acceptLanguage: '*' }, 'en'],
  ['* after unsupported → en', { acceptLanguage: 'ja, *;q=0.5' }, 'en'],
  ['* ranks by its q', { acceptLanguage: 'fr;q=0.5, *;q=0.8' }, 'en'],
  ['* with en refused → next shipped', { acceptLanguage: 'en;q=0, *' }, 'ar'],
  ['supported beats lower *', { acceptLanguage: '*;q=0.1, es' }, 'es'],
  // malformed entries skipped safely
  ['bad q skipped', { acceptLanguage: 'fr;q=abc, de;q=0.5' }, 'de'],
  ['q > 1 skipped', { acceptLanguage: 'fr;q=2, it;q=0.3' }, 'it'],
  ['q with 4 decimals skipped', { acceptLanguage: 'fr;q=0.1234, it;q=0.3' }, 'it'],
  ['negative q skipped', { acceptLanguage: 'fr;q=-1, es;q=0.2' }, 'es'],
  ['empty entries', { acceptLanguage: ',,, ;q=0.5, fr' }, 'fr'],
  ['garbage tag skipped', { acceptLanguage: 'x"y, <b>, de' }, 'de'],
  ['overlong subtag skipped', { acceptLanguage: 'abcdefghi, fr' }, 'fr'],
  ['other params ignored', { acceptLanguage: 'fr;level=1;q=0.4, es;q=0.3' }, 'fr'],
];

for (const [rule, input, expected] of rows) {
  test(`negotiateLanguage: ${rule}`, () => {
    assert.equal(negotiateLanguage(input), expected);
  });
}

test('negotiateLanguage: very long header is capped', () => {
  const header = `${'xx-YY;q=0.5,'.repeat(50_000)}fr`;
  assert.equal(negotiateLanguage({ acceptLanguage: header }), 'en'); // "fr" lies past the cap
  assert.equal(negotiateLanguage({ acceptLanguage: `ja,${' '.repeat(5000)}` }), 'en');
  assert.equal(negotiateLanguage({ acceptLanguage: `de,${'x'.repeat(100_000)}` }), 'de');
});

test('negotiateLanguage: non-string inputs never throw', () => {
  assert.equal(negotiateLanguage({ lng: null, acceptLanguage: null }), 'en');
  assert.equal(negotiateLanguage({ lng: 42 as unknown as string }), 'en');
  assert.equal(negotiateLanguage({ acceptLanguage: ['fr'] as unknown as string }), 'en');
  assert.equal(negotiateLanguage({ lng: 'a'.repeat(10_000) }), 'en');
});

test('parseAcceptLanguage: sorted by q, malformed dropped, at most 32 entries', () => {
  assert.deepEqual(
    parseAcceptLanguage('fr;q=0.5, de, x!;q=1, es;q=0.9').map((p) => [p.tag, p.q]),
    [
      ['de', 1],
      ['es', 0.9],
      ['fr', 0.5],
    ],
  );
  assert.equal(parseAcceptLanguage(Array.from({ length: 100 }, () => 'fr').join(',')).length, 32);
});

test('matchLocale: undefined when nothing fits', () => {
  assert.equal(matchLocale('zh-TW'), undefined);
  assert.equal(matchLocale(''), undefined);
  assert.equal(matchLocale('*'), undefined);
});
