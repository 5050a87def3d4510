import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BRANDING, brandingFromStored } from '../../src/connect/branding/index.js';
import { LOCALES } from '../../src/connect/i18n/translator.js';
import type { Locale } from '../../src/connect/i18n/translator.js';
import { assetUrl, staticAssets } from '../../src/connect/static/index.js';
import {
  contentSecurityPolicy,
  createCspNonce,
  escapeHtml,
  html,
  offeredProviders,
  raw,
  renderCaldavLogin,
  renderConsent,
  renderError,
  renderIcloudLogin,
  renderManageConnections,
  renderOAuthRedirect,
  renderProviderSelection,
  renderSessionExpired,
  safeUrl,
} from '../../src/connect/views/index.js';
import type { ConnectedAccountView, ErrorKind, PageViewModel, ProviderOption } from '../../src/connect/views/index.js';

const NONCE = 'bm9uY2Utbm9uY2Utbm9uY2U=';
const HOSTILE = `<script>alert("x")</script>' onmouseover="alert(1)`;
const actions = { cancel: '/connect/cancel', finish: '/connect/finish', disconnect: '/connect/disconnect', submit: '/connect/submit', back: '/connect', allow: '/connect/allow' };
const providers: ProviderOption[] = [
  { id: 'google', href: '/connect/google' },
  { id: 'microsoft', href: '/connect/microsoft' },
  { id: 'apple', href: '/connect/apple' },
  { id: 'caldav', href: '/connect/caldav' },
];
const accounts: ConnectedAccountView[] = [
  { provider: 'google', accountId: 'jane@example.com', display: 'Jane', syncState: 'ok', calendarPermissionGranted: true },
  { provider: 'microsoft', accountId: 'j@contoso.example', syncState: 'reauth_required', calendarPermissionGranted: true, reconnectHref: '/connect/microsoft' },
  { provider: 'apple', accountId: 'j@icloud.example', syncState: 'ok', calendarPermissionGranted: false, reconnectHref: '/connect/apple' },
];

function base(locale: Locale, overrides: Partial<PageViewModel> = {}): PageViewModel {
  return {
    locale,
    theme: 'auto',
    branding: brandingFromStored({ primaryColor: '#0f766e', supportContact: 'help@acme.example' }),
    appName: 'Acme',
    cspNonce: NONCE,
    csrfToken: 'csrf-token-123',
    themeChoice: { action: '/connect/theme', returnTo: '/connect', current: 'auto' },
    ...overrides,
  };
}

/** Every page, rendered with the given base view model. */
function allPages(vm: PageViewModel): Record<string, string> {
  return {
    hub: renderProviderSelection({ ...vm, scope: 'read-write', providers, accounts: [], actions }),
    manage: renderManageConnections({ ...vm, scope: 'free-busy', providers, accounts, notice: { kind: 'disconnected', account: 'x@example.com' }, actions }),
    limit: renderProviderSelection({ ...vm, scope: 'read', providers, accounts, limitReached: true, actions }),
    plain: renderProviderSelection({ ...vm, scope: 'read-write', providers, accounts: [], otherAccountsHidden: true, actions }),
    upgrade: renderManageConnections({ ...vm, scope: 'read-write', providers, accounts: [{ ...accounts[0]!, needsMoreAccess: true, reconnectHref: '/connect/google' }], actions }),
    caldav: renderCaldavLogin({ ...vm, actions }),
    caldavErrors: renderCaldavLogin({ ...vm, values: { serverUrl: 'https://dav.example.com', username: 'jane' }, errors: ['server_url_invalid', 'invalid_credentials'], actions }),
    icloud: renderIcloudLogin({ ...vm, actions }),
    icloudErrors: renderIcloudLogin({ ...vm, values: { appleId: 'jane@icloud' }, errors: ['apple_id_invalid', 'app_password_required'], actions }),
    oauth: renderOAuthRedirect({ ...vm, provider: 'microsoft', authorizationUrl: 'https://login.example.com/authorize?x=1&y=2', actions }),
    consent: renderConsent({ ...vm, scope: 'read', accounts, actions }),
    error: renderError({ ...vm, kind: 'provider_error', retryUrl: '/connect', actions: { cancel: '/connect/cancel' }, reference: 'req-1' }),
    errorNoSession: renderError({ locale: vm.locale, theme: vm.theme, branding: DEFAULT_BRANDING, cspNonce: NONCE, kind: 'unknown_client' }),
    expired: renderSessionExpired({ ...vm, restartUrl: '/api/oauth/authorize?client_id=a' }),
    expiredBack: renderSessionExpired({ ...vm, csrfToken: undefined, backUrl: 'https://app.example.com/cb?error=access_denied' }),
  };
}

const count = (haystack: string, needle: RegExp) => (haystack.match(needle) ?? []).length;

for (const locale of LOCALES) {
  test(`${locale}: every page is a full document with lang, dir, main, h1`, () => {
    const expectedDir = locale === 'ar' ? 'rtl' : 'ltr';
    for (const [name, doc] of Object.entries(allPages(base(locale)))) {
      assert.match(doc, /^<!doctype html>\n<html /, name);
      assert.ok(doc.includes(`<html lang="${locale}" dir="${expectedDir}" data-theme="auto">`), `${name}: lang/dir`);
      assert.equal(count(doc, /<main id="main"/g), 1, `${name}: one <main>`);
      assert.equal(count(doc, /<h1[ >]/g), 1, `${name}: one <h1>`);
      assert.match(doc, /<title>[^<]+<\/title>/, name);
      assert.match(doc, /<meta name="viewport" content="width=device-width, initial-scale=1">/, name);
      assert.match(doc, /<a class="skip-link" href="#main">/, name);
      assert.doesNotMatch(doc, /\{[A-Za-z]+\}/, `${name}: unfilled placeholder`);
    }
  });
}

test('Arabic pages are right-to-left; LTR values stay LTR inside them', () => {
  const doc = renderIcloudLogin({ ...base('ar' as Locale), values: { appleId: 'jane@icloud.com' }, actions });
  assert.ok(doc.includes('<html lang="ar" dir="rtl"'));
  assert.match(doc, /<input[^>]+id="apple-id"[^>]+dir="ltr"/);
  assert.match(doc, /<bdi class="app-name">Acme<\/bdi>/);
});

test('CSP-safe: no inline script, no style attribute, only the nonce\'d brand style', () => {
  for (const locale of ['en', 'ar'] as Locale[]) {
    for (const [name, doc] of Object.entries(allPages(base(locale)))) {
      assert.doesNotMatch(doc, /\sstyle=/i, `${name}: style attribute`);
      assert.doesNotMatch(doc, /\son[a-z]+=/i, `${name}: event handler attribute`);
      assert.doesNotMatch(doc, /javascript:/i, name);
      for (const script of doc.match(/<script\b[^>]*>/g) ?? []) assert.match(script, /^<script src="\/connect\/static\/connect\.[0-9a-f]{10}\.js" defer>$/, name);
      assert.equal(count(doc, /<script\b/g), 1, `${name}: one external script`);
      for (const style of doc.match(/<style\b[^>]*>/g) ?? []) assert.equal(style, `<style nonce="${NONCE}">`, name);
    }
  }
  const plain = renderProviderSelection({ ...base('en' as Locale), branding: DEFAULT_BRANDING, scope: 'read', providers, accounts: [], actions });
  assert.doesNotMatch(plain, /<style/, 'no brand colour, no style block');
  const badNonce = renderProviderSelection({ ...base('en' as Locale), cspNonce: '"><script>', scope: 'read', providers, accounts: [], actions });
  assert.doesNotMatch(badNonce, /<style/, 'unusable nonce, no style block');
});

test('every form posts with the CSRF token; every visible input is labelled', () => {
  for (const [name, doc] of Object.entries(allPages(base('en' as Locale)))) {
    const forms = doc.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
    for (const form of forms) {
      assert.match(form, /^<form [^>]*method="post"/, `${name}: POST`);
      assert.ok(form.includes('<input type="hidden" name="csrf" value="csrf-token-123">'), `${name}: csrf in ${form.slice(0, 80)}`);
    }
    for (const input of doc.match(/<input\b[^>]*>/g) ?? []) {
      if (input.includes('type="hidden"')) continue;
      const id = /id="([^"]+)"/.exec(input)?.[1];
      assert.ok(id && doc.includes(`<label class="field-label" for="${id}">`), `${name}: label for ${input}`);
    }
    const ids = [...doc.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, `${name}: duplicate id`);
  }
  const noSession = allPages(base('en' as Locale)).errorNoSession as string;
  assert.doesNotMatch(noSession, /<form/, 'no forms without a session');
});

test('login forms: types, autocomplete, error summary, refill except passwords', () => {
  const caldav = renderCaldavLogin({
    ...base('en' as Locale),
    values: { serverUrl: 'https://dav.example.com/', username: 'jane' },
    errors: ['invalid_credentials', 'password_required'],
    actions,
  });
  assert.match(caldav, /<input class="input" id="server-url" name="server_url" type="url" autocomplete="url" value="https:\/\/dav.example.com\/"/);
  assert.match(caldav, /<input class="input" id="username" name="username" type="text" autocomplete="username" value="jane"/);
  assert.match(caldav, /<input class="input" id="password" name="password" type="password" autocomplete="current-password"(?![^>]*value=)[^>]*aria-invalid="true"/);
  assert.match(caldav, /<div class="error-summary" role="alert"[^>]*autofocus>/);
  assert.match(caldav, /<a href="#username">The username or password is incorrect<\/a>/);
  assert.match(caldav, /<a href="#password">Enter your password<\/a>/);
  assert.match(caldav, /aria-describedby="password-hint password-error"/);
  assert.match(caldav, /<title>There is a problem: /);

  const icloud = renderIcloudLogin({ ...base('en' as Locale), values: { appleId: 'jane@icloud.com' }, actions });
  assert.match(icloud, /id="apple-id" name="apple_id" type="email" autocomplete="username" value="jane@icloud.com" inputmode="email"/);
  assert.match(icloud, /id="app-password" name="password" type="password" autocomplete="current-password"/);
  assert.doesNotMatch(icloud, /role="alert"/, 'no summary without errors');
  assert.match(icloud, /href="https:\/\/appleid\.apple\.com\/"/);
  assert.match(icloud, /<strong>Sign-In and Security<\/strong>, then choose <strong>App-Specific Passwords<\/strong>/);
});

test('hostile app names and values are escaped everywhere', () => {
  const vm = base('en' as Locale, { appName: HOSTILE, csrfToken: `"><script>x</script>` });
  const docs = [
    ...Object.values(allPages(vm)),
    renderCaldavLogin({ ...vm, values: { serverUrl: `https://x/"><script>alert(1)</script>`, username: `'"<img src=x>` }, actions }),
    renderProviderSelection({
      ...vm,
      scope: 'read',
      providers,
      accounts: [{ provider: 'caldav', accountId: '<img src=x onerror=alert(1)>', display: '"><svg onload=alert(1)>', syncState: 'ok', calendarPermissionGranted: true }],
      notice: { kind: 'connected', account: '<b>x</b>' },
      actions,
    }),
    renderError({ ...vm, kind: 'server_error', reference: '<script>', branding: { ...DEFAULT_BRANDING, supportContact: '<b>Call "us"</b>' } }),
  ];
  for (const doc of docs) {
    assert.doesNotMatch(doc, /<script>/);
    assert.doesNotMatch(doc, /<img src=x/);
    assert.doesNotMatch(doc, /<svg onload/);
    assert.doesNotMatch(doc, /<b>/);
    assert.doesNotMatch(doc, /\son[a-z]+=["']/i, 'no attribute breaks out (escaped text may still read "onmouseover=")');
  }
  const hub = renderProviderSelection({ ...vm, scope: 'read', providers, accounts: [], actions });
  assert.ok(hub.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&quot;alert(1)'));
});

test('identity: app name on every page, generic wording without one', () => {
  for (const [name, doc] of Object.entries(allPages(base('en' as Locale)))) {
    if (name === 'errorNoSession') continue;
    assert.ok(doc.includes('<bdi class="app-name">Acme</bdi> wants to connect to your calendars'), name);
  }
  const generic = allPages(base('en' as Locale, { appName: '   ' }));
  for (const [name, doc] of Object.entries(generic)) {
    assert.ok(doc.includes('An app wants to connect to your calendars'), name);
    assert.doesNotMatch(doc, /class="app-name"/, name);
  }
  const hub = generic.hub as string;
  assert.ok(hub.includes('Back to the app'));
  const fr = renderProviderSelection({ ...base('fr' as Locale), scope: 'read', providers, accounts, actions });
  assert.ok(fr.includes('Retour à <bdi class="app-name">Acme</bdi>'));
  assert.ok(fr.includes('Continuer vers <bdi class="app-name">Acme</bdi>'));
});

test('hub: continue only with an account; cancel always; attention states offer reconnect', () => {
  const empty = renderProviderSelection({ ...base('en' as Locale), scope: 'read-write', providers, accounts: [], actions });
  assert.doesNotMatch(empty, /action="\/connect\/finish"/);
  assert.match(empty, /action="\/connect\/cancel"/);
  assert.equal(count(empty, /class="provider" href=/g), 4);

  const manage = renderManageConnections({ ...base('en' as Locale), scope: 'read-write', providers: providers.slice(0, 1), accounts, actions });
  assert.match(manage, /action="\/connect\/finish"/);
  assert.equal(count(manage, /name="account" value=/g), 3, 'a disconnect form per account');
  assert.match(manage, /<input type="hidden" name="provider" value="microsoft"><input type="hidden" name="account" value="j@contoso.example">/);
  assert.match(manage, /aria-label="Disconnect jane@example.com"/);
  assert.match(manage, /the sign-in has expired or was withdrawn/);
  assert.match(manage, /wasn&#39;t allowed when this account was connected/);
  assert.equal(count(manage, />Reconnect</g), 2);
  assert.equal(count(manage, /class="provider" href=/g), 1);

  const limit = renderProviderSelection({ ...base('en' as Locale), scope: 'read', providers, accounts, limitReached: true, actions });
  assert.equal(count(limit, /class="provider" href=/g), 0);
  assert.match(limit, /maximum number of accounts/);
});

test('hub of a plain session: says other accounts may exist without naming any, offers Continue with nothing listed', () => {
  const plain = renderProviderSelection({ ...base('en' as Locale), scope: 'read-write', providers, accounts: [], otherAccountsHidden: true, actions });
  assert.match(plain, /class="notice notice--info hidden-accounts"/);
  assert.match(plain, /calendars connected earlier aren&#39;t listed here/);
  assert.match(plain, /action="\/connect\/finish"/, 'Continue without anything new (re-authorizing for another scope)');
  assert.match(plain, /Nothing new to connect\? You can continue anyway\./);
  assert.doesNotMatch(plain, /name="account" value=/);
  const withOwn = renderProviderSelection({ ...base('en' as Locale), scope: 'read-write', providers, accounts: accounts.slice(0, 1), otherAccountsHidden: true, actions });
  assert.match(withOwn, /When you&#39;ve connected everything you need, continue\./);
  assert.match(withOwn, /hidden-accounts/);
  const pushed = renderProviderSelection({ ...base('en' as Locale), scope: 'read-write', providers, accounts: accounts.slice(0, 1), actions });
  assert.doesNotMatch(pushed, /hidden-accounts/);
});

test('hub: an account whose grant serves a narrower scope asks to reconnect with more access', () => {
  const hub = renderManageConnections({ ...base('en' as Locale), scope: 'read-write', providers, accounts: [{ ...accounts[0]!, needsMoreAccess: true, reconnectHref: '/connect/google' }], actions });
  assert.match(hub, /class="account account--attention"/);
  assert.match(hub, /allows less access than the app now asks for/);
  assert.match(hub, /href="\/connect\/google" aria-label="Reconnect jane@example.com">Reconnect</);
  // Missing calendar access altogether is the other message, whatever the scope.
  const none = renderManageConnections({ ...base('en' as Locale), scope: 'read-write', providers, accounts: [{ ...accounts[0]!, calendarPermissionGranted: false, needsMoreAccess: false, reconnectHref: '/connect/google' }], actions });
  assert.match(none, /wasn&#39;t allowed when this account was connected/);
});

test('consent explains each scope in plain words', () => {
  const render = (scope: 'free-busy' | 'read' | 'read-write') => renderConsent({ ...base('en' as Locale), scope, actions });
  const fb = render('free-busy');
  assert.match(fb, /See when you&#39;re busy and when you&#39;re free/);
  assert.match(fb, /won&#39;t be able to:/);
  assert.match(fb, /Create, change or delete events/);
  const read = render('read');
  assert.match(read, /See your events and their details/);
  assert.match(read, /Create, change or delete events/);
  const rw = render('read-write');
  assert.match(rw, /Create, change and delete events in your calendars/);
  assert.doesNotMatch(rw, /won&#39;t be able to/);
  assert.match(rw, /action="\/connect\/allow"/);
});

test('error page: every kind has its text; support contact or administrator', () => {
  const kinds: ErrorKind[] = ['unknown_client', 'invalid_redirect_uri', 'invalid_request', 'provider_denied', 'provider_error', 'csrf', 'rate_limited', 'no_providers', 'account_limit', 'not_found', 'server_error'];
  for (const locale of LOCALES) {
    for (const kind of kinds) {
      const doc = renderError({ ...base(locale), kind });
      assert.doesNotMatch(doc, /error\.[a-zA-Z]+\.(title|body|action)/, `${locale} ${kind}`);
    }
  }
  const withSupport = renderError({ ...base('en' as Locale), kind: 'server_error' });
  assert.match(withSupport, /Need help\? Contact <a class="text-link" href="mailto:help@acme.example"><bdi>help@acme.example<\/bdi><\/a>\./);
  const admin = renderError({ ...base('en' as Locale), branding: DEFAULT_BRANDING, kind: 'server_error' });
  assert.match(admin, /contact your administrator/);
  const back = renderError({ ...base('en' as Locale), kind: 'provider_denied', backUrl: 'https://app.example.com/cb?error=access_denied&state=a' });
  assert.match(back, /<a class="btn btn-primary btn-block" href="https:\/\/app.example.com\/cb\?error=access_denied&amp;state=a"><span>Back to <bdi class="app-name">Acme<\/bdi><\/span><\/a>/);
  const hostileBack = renderError({ ...base('en' as Locale), kind: 'invalid_request', backUrl: 'javascript:alert(1)' });
  assert.match(hostileBack, /href="#"/);
});

test('session expired: restart link when known, else back to the app', () => {
  const restart = renderSessionExpired({ ...base('en' as Locale), restartUrl: '/api/oauth/authorize?client_id=a&user_id=b' });
  assert.match(restart, /<a class="btn btn-primary btn-block" href="\/api\/oauth\/authorize\?client_id=a&amp;user_id=b">Start again<\/a>/);
  const back = renderSessionExpired({ ...base('en' as Locale), backUrl: 'https://app.example.com/' });
  assert.doesNotMatch(back, /Start again</);
  assert.match(back, /href="https:\/\/app.example.com\/"><span>Back to/);
  assert.match(back, /2 hours/);
});

test('OAuth interstitial links to the provider without a referrer', () => {
  const doc = renderOAuthRedirect({ ...base('de' as Locale), provider: 'google', authorizationUrl: 'https://accounts.example.com/auth?a=1&b=2', actions });
  assert.match(doc, /href="https:\/\/accounts.example.com\/auth\?a=1&amp;b=2" rel="noreferrer"/);
  assert.match(doc, /Weiter zu Google/);
});

test('theme: data-theme, color-scheme, remembered-choice buttons, dark logo', () => {
  const branding = brandingFromStored({ logoUrl: 'https://cdn.example.com/l.svg', logoDarkUrl: 'https://cdn.example.com/d.svg' });
  const auto = renderConsent({ ...base('en' as Locale), branding, scope: 'read', actions });
  assert.match(auto, /<meta name="color-scheme" content="light dark">/);
  assert.match(auto, /<source srcset="https:\/\/cdn.example.com\/d.svg" media="\(prefers-color-scheme: dark\)"><img class="brand-logo" src="https:\/\/cdn.example.com\/l.svg" alt="Acme">/);
  assert.match(auto, /<button type="submit" name="theme" value="auto" class="theme-option" aria-pressed="true"/);
  assert.match(auto, /<input type="hidden" name="return_to" value="\/connect">/);
  const dark = renderConsent({ ...base('en' as Locale), theme: 'dark', branding, scope: 'read', actions, themeChoice: undefined });
  assert.match(dark, /data-theme="dark"/);
  assert.match(dark, /<img class="brand-logo" src="https:\/\/cdn.example.com\/d.svg"/);
  assert.doesNotMatch(dark, /name="theme"/);
  const hidden = renderConsent({ ...base('en' as Locale), branding: { ...DEFAULT_BRANDING, hideFooter: true }, themeChoice: undefined, scope: 'read', actions });
  assert.doesNotMatch(hidden, /<footer/);
});

test('html template: escapes, raw() passes through, arrays join, falsy vanish', () => {
  assert.equal(html`<p title="${`"'<>&\``}">${'<b>'}</p>`.value, '<p title="&quot;&#39;&lt;&gt;&amp;&#96;">&lt;b&gt;</p>');
  assert.equal(html`${raw('<b>ok</b>')}${['<', html`<i>`]}${null}${undefined}${false}${0}`.value, '<b>ok</b>&lt;<i>0');
  assert.equal(escapeHtml(HOSTILE).includes('<'), false);
  for (const [input, expected] of [
    ['/connect/x?a=1', '/connect/x?a=1'],
    ['https://a.example/b', 'https://a.example/b'],
    ['mailto:a@b.example', 'mailto:a@b.example'],
    ['javascript:alert(1)', '#'],
    [' JaVa\tScRiPt:alert(1)', '#'],
    ['data:text/html,x', '#'],
    ['vbscript:x', '#'],
    ['', '#'],
  ] as const) {
    assert.equal(safeUrl(input), expected, input);
  }
});

test('offeredProviders: configured ∩ providers parameter', () => {
  const all = ['google', 'microsoft', 'apple', 'caldav'] as const;
  assert.deepEqual(offeredProviders(all), ['google', 'microsoft', 'apple', 'caldav']);
  assert.deepEqual(offeredProviders(['apple', 'caldav'], 'google,apple'), ['apple']);
  assert.deepEqual(offeredProviders(all, ' Outlook , ICLOUD '), ['microsoft', 'apple']);
  assert.deepEqual(offeredProviders(['caldav'], 'google'), []);
  assert.deepEqual(offeredProviders(all, 'nonsense'), ['google', 'microsoft', 'apple', 'caldav']);
  assert.deepEqual(offeredProviders(all, ['caldav']), ['caldav']);
});

test('CSP header and nonce', () => {
  const nonce = createCspNonce();
  assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(nonce, createCspNonce());
  assert.equal(
    contentSecurityPolicy({ nonce: 'abc', imageOrigins: ['https://cdn.example.com/logo.svg', 'javascript:x'], formActionOrigins: ['https://app.example.com/cb?x=1'] }),
    "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-abc'; img-src 'self' https://cdn.example.com; form-action 'self' https://app.example.com; frame-ancestors 'none'; base-uri 'none'",
  );
  assert.match(contentSecurityPolicy({ nonce: "x'; script-src *" }), /'nonce-xscript-src'/);
});

test('static assets: hashed paths, types, bodies; pages link them', () => {
  const assets = staticAssets();
  assert.deepEqual(assets.map((a) => a.name).sort(), ['connect.css', 'connect.js', 'favicon.svg']);
  for (const a of assets) {
    assert.match(a.path, /^\/connect\/static\/[a-z]+\.[0-9a-f]{10}\.(css|js|svg)$/);
    assert.ok(a.body.length > 100);
    assert.match(a.cacheControl, /immutable/);
  }
  assert.match(assets.find((a) => a.name === 'connect.css')?.contentType ?? '', /^text\/css/);
  const doc = renderConsent({ ...base('en' as Locale), scope: 'read', actions });
  assert.ok(doc.includes(`<link rel="stylesheet" href="${assetUrl('connect.css')}">`));
  const css = assets.find((a) => a.name === 'connect.css')?.body.toString('utf8') ?? '';
  assert.match(css, /\[data-theme="dark"\]/);
  assert.match(css, /@media \(prefers-color-scheme: dark\)/);
  assert.match(css, /:focus-visible/);
});
