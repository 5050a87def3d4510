import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BRANDING,
  SURFACES,
  brandPalette,
  brandStyles,
  brandingFromStored,
  brandingImageOrigins,
  contrastRatio,
  ensureContrast,
  isAllowedLogoUrl,
  parseHexColor,
  parseSupportContact,
  readableTextOn,
  relativeLuminance,
  validateBranding,
} from '../../src/connect/branding/index.js';

test('parseHexColor: #RGB and #RRGGBB only', () => {
  assert.deepEqual(parseHexColor('#1a73E8'), { r: 0x1a, g: 0x73, b: 0xe8 });
  assert.deepEqual(parseHexColor('#fA0'), { r: 255, g: 170, b: 0 });
  for (const bad of ['1a73e8', '#1a73e', '#1a73e8ff', '#ggg', 'red', ' #fff', '#fff ', 'rgb(0,0,0)', '', '#fff;}</style>', null, 7]) {
    assert.equal(parseHexColor(bad), undefined, String(bad));
  }
});

test('WCAG luminance and contrast', () => {
  assert.equal(relativeLuminance('#000'), 0);
  assert.equal(relativeLuminance('#fff'), 1);
  assert.equal(contrastRatio('#000', '#fff'), 21);
  assert.equal(contrastRatio('#777', '#777'), 1);
  assert.ok(Math.abs(contrastRatio('#767676', '#ffffff') - 4.54) < 0.01);
});

type ContrastRow = [background: string, expected: '#000000' | '#ffffff'];
const contrastRows: ContrastRow[] = [
  ['#ffffff', '#000000'],
  ['#000000', '#ffffff'],
  ['#ffd400', '#000000'], // yellow
  ['#1a73e8', '#ffffff'], // mid blue: both pass (white 4.52, black 4.65), white preferred
  ['#1557b0', '#ffffff'],
  ['#0f766e', '#ffffff'], // teal
  ['#00ff00', '#000000'], // bright green
  ['#777777', '#000000'], // mid grey: black 4.69 vs white 4.48
  ['#e11d48', '#ffffff'],
  ['#7b9cff', '#000000'],
];
for (const [bg, expected] of contrastRows) {
  test(`readableTextOn(${bg}) = ${expected}`, () => {
    assert.equal(readableTextOn(bg), expected);
    assert.ok(contrastRatio(bg, expected) >= 4.5, 'chosen text meets AA');
  });
}

test('readableTextOn never drops below 4.5:1 over the whole colour cube (coarse sweep)', () => {
  for (let r = 0; r <= 255; r += 17) for (let g = 0; g <= 255; g += 17) for (let b = 0; b <= 255; b += 17) {
    const bg = { r, g, b };
    assert.ok(contrastRatio(bg, readableTextOn(bg)) >= 4.5, JSON.stringify(bg));
  }
});

test('ensureContrast darkens on light surfaces, lightens on dark ones, keeps passing colours', () => {
  const light = [SURFACES.light.card, SURFACES.light.page];
  const dark = [SURFACES.dark.card, SURFACES.dark.page];
  assert.equal(ensureContrast('#1f3d99', light, 4.5), '#1f3d99');
  const yellowLink = ensureContrast('#ffd400', light, 4.5);
  assert.ok(light.every((bg) => contrastRatio(yellowLink, bg) >= 4.5));
  assert.ok(relativeLuminance(yellowLink) < relativeLuminance('#ffd400'));
  const navyLink = ensureContrast('#0a1f44', dark, 4.5);
  assert.ok(dark.every((bg) => contrastRatio(navyLink, bg) >= 4.5));
  assert.ok(relativeLuminance(navyLink) > relativeLuminance('#0a1f44'));
});

test('brand palette: button text readable, links 4.5:1, borders 3:1, in both themes', () => {
  for (const color of ['#ffd400', '#0a0a0a', '#ffffff', '#1a73e8', '#0f766e', '#e11d48', '#777777', '#f0f']) {
    for (const theme of ['light', 'dark'] as const) {
      const p = brandPalette(color, theme);
      assert.ok(p);
      const surfaces = [SURFACES[theme].card, SURFACES[theme].page];
      assert.ok(contrastRatio(p.accent, p.onAccent) >= 4.5, `${color} ${theme} text`);
      assert.ok(contrastRatio(p.accentHover, p.onAccent) >= 4.5, `${color} ${theme} hover text`);
      assert.ok(surfaces.every((s) => contrastRatio(p.link, s) >= 4.5), `${color} ${theme} link`);
      assert.ok(surfaces.every((s) => contrastRatio(p.accentBorder, s) >= 3), `${color} ${theme} border`);
    }
  }
});

test('brandStyles: only validated colours, nothing that escapes the style block', () => {
  assert.equal(brandStyles({}), undefined);
  assert.equal(brandStyles({ primaryColor: 'red;}</style><script>' }), undefined);
  const css = brandStyles({ primaryColor: '#0F766E' }) ?? '';
  assert.match(css, /^:root\{--brand:#0f766e;--brand-on:#ffffff;/);
  assert.match(css, /--brand-link-dark:#[0-9a-f]{6};/);
  assert.doesNotMatch(css, /[<>"'`]/);
});

test('the default (unbranded) colours of connect.css meet the same contrast rules', () => {
  // Keep in sync with connect.css fallbacks.
  const lightAccent = '#2f54c9';
  const darkAccent = '#8aa4ff';
  assert.ok(contrastRatio(lightAccent, '#ffffff') >= 4.5);
  assert.ok(contrastRatio(lightAccent, SURFACES.light.page) >= 4.5);
  assert.ok(contrastRatio(darkAccent, '#000000') >= 4.5);
  assert.ok(contrastRatio(darkAccent, SURFACES.dark.card) >= 4.5);
  assert.ok(contrastRatio('#2848ad', '#ffffff') >= 4.5);
  assert.ok(contrastRatio('#9ab1ff', '#000000') >= 4.5);
  for (const [fg, bg] of [['#4b5563', '#f3f4f6'], ['#aeb4bf', '#1b1e24'], ['#868e99', '#ffffff'], ['#767e8b', '#1b1e24']] as const) {
    assert.ok(contrastRatio(fg, bg) >= (fg === '#868e99' || fg === '#767e8b' ? 3 : 4.5), `${fg} on ${bg}`);
  }
});

test('logo URLs: https, or http only for localhost', () => {
  for (const ok of ['https://cdn.example.com/logo.svg', 'http://localhost:3000/l.png', 'http://127.0.0.1/l.png', 'http://[::1]:8080/x', 'http://app.localhost/x.png']) {
    assert.equal(isAllowedLogoUrl(ok), true, ok);
  }
  for (const bad of ['http://example.com/logo.png', 'javascript:alert(1)', 'data:image/png;base64,AAAA', '//cdn.example.com/x', '/logo.png', 'https://user:pw@example.com/x', 'https://exa mple.com', `https://e.com/${'a'.repeat(3000)}`, 'ftp://example.com/x']) {
    assert.equal(isAllowedLogoUrl(bad), false, bad);
  }
});

test('validateBranding: accepts a full, valid object', () => {
  const result = validateBranding({
    logoUrl: 'https://cdn.example.com/logo.svg',
    logoDarkUrl: 'https://cdn.example.com/logo-dark.svg',
    primaryColor: '#0F766E',
    defaultTheme: 'dark',
    hideFooter: 'true',
    supportContact: ' help@acme.example ',
  });
  assert.deepEqual(result, {
    ok: true,
    branding: {
      logoUrl: 'https://cdn.example.com/logo.svg',
      logoDarkUrl: 'https://cdn.example.com/logo-dark.svg',
      primaryColor: '#0f766e',
      defaultTheme: 'dark',
      hideFooter: true,
      supportContact: 'help@acme.example',
    },
  });
  assert.deepEqual(validateBranding({}), { ok: true, branding: DEFAULT_BRANDING });
  assert.deepEqual(validateBranding({ logoUrl: '', primaryColor: null }), { ok: true, branding: DEFAULT_BRANDING });
});

test('validateBranding: reports every problem', () => {
  const result = validateBranding({
    logoUrl: 'http://example.com/x.png',
    primaryColor: 'teal',
    defaultTheme: 'sepia',
    hideFooter: 'yes',
    supportContact: 'javascript:alert(1)',
    colour: '#fff',
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.errors.map((e) => e.field).sort(), ['colour', 'defaultTheme', 'hideFooter', 'logoUrl', 'primaryColor', 'supportContact']);
  assert.equal(validateBranding('nope').ok, false);
  assert.equal(validateBranding([]).ok, false);
});

test('brandingFromStored: keeps valid fields, drops invalid ones, never throws', () => {
  assert.deepEqual(brandingFromStored('{not json'), DEFAULT_BRANDING);
  assert.deepEqual(brandingFromStored(null), DEFAULT_BRANDING);
  assert.deepEqual(brandingFromStored('[]'), DEFAULT_BRANDING);
  assert.deepEqual(brandingFromStored(JSON.stringify({ primaryColor: '#ABC', logoUrl: 'javascript:x', defaultTheme: 'light', hideFooter: 1 })), {
    primaryColor: '#abc',
    defaultTheme: 'light',
    hideFooter: false,
  });
});

test('support contact: email, https, tel or plain text; other schemes refused', () => {
  assert.deepEqual(parseSupportContact('help@acme.example'), { kind: 'email', text: 'help@acme.example', href: 'mailto:help@acme.example' });
  assert.deepEqual(parseSupportContact('mailto:help@acme.example'), { kind: 'email', text: 'help@acme.example', href: 'mailto:help@acme.example' });
  assert.equal(parseSupportContact('https://acme.example/help')?.kind, 'url');
  assert.deepEqual(parseSupportContact('tel:+1 (555) 010-0199'), { kind: 'phone', text: '+1 (555) 010-0199', href: 'tel:+15550100199' });
  assert.deepEqual(parseSupportContact('IT helpdesk: ext. 4410'), { kind: 'text', text: 'IT helpdesk: ext. 4410' });
  for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'http://acme.example', 'vbscript:x', '', '   ', 'a'.repeat(201), 'line\nbreak']) {
    assert.equal(parseSupportContact(bad), undefined, bad);
  }
});

test('brandingImageOrigins: the logo origins for CSP img-src', () => {
  assert.deepEqual(
    brandingImageOrigins({ ...DEFAULT_BRANDING, logoUrl: 'https://cdn.example.com/a.svg', logoDarkUrl: 'https://cdn.example.com/b.svg' }),
    ['https://cdn.example.com'],
  );
  assert.deepEqual(brandingImageOrigins(DEFAULT_BRANDING), []);
});
