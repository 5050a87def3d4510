/**
 * The connect pages driven by clicks in Chromium, in English and Arabic, light and dark:
 * authorize → hub → CalDAV form (a wrong password first, then the right one against a
 * real Radicale) → hub with the account → Continue → the application's redirect URI
 * with a code that the token endpoint accepts. The same session also shows a CSRF error
 * page and cancels (error=access_denied); a forged 3-hour-old session shows the expired
 * page whose restart link starts the flow again. Screenshots of every step land in
 * test-artifacts/connect/<lang>-<theme>-<step>.png.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { t, type Locale, type MessageKey } from '../../src/connect/i18n/translator.js';
import { RADICALE_SKIP, type RadicaleServer } from '../support/radicale.js';
import type { TestServer } from '../support/server.js';
import { tokenRequest } from '../support/oauth-flow.js';
import { addExpiredSession, AR, assertDocument, authorizeUrl, BACKGROUND, EN, CHROMIUM_SKIP, openPage, pageBackground, screenshot, text, type AppServer , startBrowserStack, type BrowserStack } from './harness.js';

const USER = 'dana';
const PASSWORD = 'dana-pw';
const DISPLAY = 'Acme Planner';
/** A state with characters that need encoding, to see it come back intact. */
const stateFor = (name: string) => `st ${name}/&=?é`;


interface Variant {
  lang: Locale;
  theme: 'light' | 'dark';
  /** Extra authorize parameters (lng=ar) and context options (Accept-Language: ar). */
  params: Record<string, string>;
  locale: string;
}

const VARIANTS: Variant[] = [
  { lang: EN, theme: 'light', params: { theme: 'light' }, locale: 'en-US' },
  { lang: EN, theme: 'dark', params: { theme: 'dark' }, locale: 'en-GB' },
  // Arabic chosen by the lng parameter over an English browser …
  { lang: AR, theme: 'light', params: { theme: 'light', lng: 'ar' }, locale: 'en-US' },
  // … and by the browser's Accept-Language alone.
  { lang: AR, theme: 'dark', params: { theme: 'dark' }, locale: 'ar' },
];

async function heading(page: Page): Promise<string> {
  return text(await page.locator('main h1').textContent());
}

describe('connect pages in Chromium: the whole flow by clicks', { skip: CHROMIUM_SKIP }, () => {
  let rad: RadicaleServer | undefined;
  let almanac: TestServer;
  let app: AppServer;
  let client: { clientId: string; clientSecret: string };
  let browser: Browser;
  let stack: BrowserStack | undefined;

  before(async () => {
    stack = await startBrowserStack(USER, PASSWORD, { slug: 'work', displayName: 'Work' });
    ({ rad, app, browser, almanac } = stack);
    client = await almanac.createClient({ displayName: DISPLAY, redirectUris: [app.callback] });
  });

  after(async () => stack?.close());

  for (const v of VARIANTS) {
    const name = `${v.lang}-${v.theme}`;
    const via = v.params.lng ? 'lng=ar' : `Accept-Language ${v.locale}`;
    test(`${name} (${via}): hub → CalDAV (wrong password, then right) → Continue → code; CSRF error page; Cancel`, { skip: RADICALE_SKIP }, async () => {
      assert.ok(rad);
      const { context, page, csp } = await openPage(browser, { locale: v.locale, colorScheme: v.theme });
      const msg = (key: MessageKey, params?: Record<string, string>) => t(v.lang, key, params);
      const userId = `user-${name}`;
      const state = stateFor(name);

      // authorize → hub
      await page.goto(authorizeUrl(almanac, { client_id: client.clientId, user_id: userId, state, ...v.params }));
      await page.waitForURL((url) => url.pathname === '/connect');
      await assertDocument(page, v);
      assert.equal(await heading(page), msg('hub.title'));
      assert.equal(text(await page.locator('.identity').textContent()), msg('identity.wantsToConnect', { app: DISPLAY }));
      assert.equal(text(await page.locator('.identity .app-name').textContent()), DISPLAY);
      assert.equal(text(await page.locator('.back-link').textContent()), msg('nav.backToApp', { app: DISPLAY }));
      assert.match(await page.title(), new RegExp(DISPLAY));
      await screenshot(page, `${name}-hub`);

      // hub → CalDAV form
      await page.locator('a[href="/connect/caldav"]').click();
      await page.waitForURL((url) => url.pathname === '/connect/caldav');
      await assertDocument(page, v);
      assert.equal(await heading(page), msg('caldav.title'));
      await screenshot(page, `${name}-caldav-form`);

      // A wrong password: the same form again, the error shown, username kept, password empty.
      await page.locator('input[name=server_url]').fill(rad.url);
      await page.locator('input[name=username]').fill(USER);
      await page.locator('input[name=password]').fill('not-the-password');
      await page.locator('form[action="/connect/caldav"] [type=submit]').click();
      await page.locator('.error-summary').waitFor();
      assert.equal(new URL(page.url()).pathname, '/connect/caldav');
      assert.equal(text(await page.locator('.error-summary li').textContent()), msg('form.error.invalidCredentials'));
      assert.equal(await page.locator('input[name=username]').inputValue(), USER);
      assert.equal(await page.locator('input[name=server_url]').inputValue(), rad.url);
      assert.equal(await page.locator('input[name=password]').inputValue(), '');
      assert.equal(await page.locator('input[name=password]').getAttribute('aria-invalid'), 'true');
      assert.ok(await page.locator('.error-summary').evaluate((el) => el === document.activeElement), 'the error summary has the focus');
      await assertDocument(page, v);
      await screenshot(page, `${name}-form-error`);

      // The right password: back on the hub with a notice and the account listed.
      await page.locator('input[name=password]').fill(PASSWORD);
      await page.locator('form[action="/connect/caldav"] [type=submit]').click();
      await page.waitForURL((url) => url.pathname === '/connect');
      assert.equal(text(await page.locator('.notice--success[role=status]').textContent()), msg('hub.noticeConnected', { account: USER }));
      assert.deepEqual((await page.locator('.accounts .account-name').allTextContents()).map(text), [USER]);
      await assertDocument(page, v);
      await screenshot(page, `${name}-hub-account`);

      // Continue → the application's redirect URI with a code and the state.
      await page.locator('form[action="/connect/continue"] [type=submit]').click();
      await page.waitForURL((url) => url.origin === app.url);
      const back = new URL(page.url());
      assert.equal(back.pathname, '/callback');
      assert.equal(back.searchParams.get('state'), state);
      const code = back.searchParams.get('code');
      assert.ok(code, `a code in ${page.url()}`);
      const tokens = await tokenRequest(almanac.url, { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(tokens.status, 200, 'the code from the browser is a real one');

      // A new plain request for the same user: the account connected above is not shown (a plain request
      // proves nothing about the user); the page says others may exist and still offers Continue.
      await page.goto(authorizeUrl(almanac, { client_id: client.clientId, user_id: userId, state, ...v.params }));
      await page.waitForURL((url) => url.pathname === '/connect');
      assert.equal(await page.locator('.accounts .account').count(), 0);
      assert.equal(text(await page.locator('.hidden-accounts').textContent()), msg('hub.otherAccountsHidden'));
      assert.equal(text(await page.locator('.actions-hint').textContent()), msg('hub.finishWithoutChanges'));
      assert.ok(await page.locator('form[action="/connect/continue"] [type=submit]').isVisible());
      await screenshot(page, `${name}-hub-plain-again`);

      // A form with a forged CSRF token → the localized error page.
      await page.locator('.actions form[action="/connect/cancel"] input[name=csrf]').evaluate((el) => ((el as HTMLInputElement).value = 'forged'));
      await page.locator('.actions form[action="/connect/cancel"] [type=submit]').click();
      await page.locator('.status-icon--error').waitFor();
      await assertDocument(page, v);
      assert.equal(await heading(page), msg('error.csrf.title'));
      assert.equal(text(await page.locator('.support').textContent()), msg('error.supportAdmin'), 'no support contact: the administrator wording');
      await screenshot(page, `${name}-error`);

      // Try again → hub → Cancel → error=access_denied with the state.
      await page.locator('a[href="/connect"]').click();
      await page.waitForURL((url) => url.pathname === '/connect');
      await page.locator('.actions form[action="/connect/cancel"] [type=submit]').click();
      await page.waitForURL((url) => url.origin === app.url);
      const cancelled = new URL(page.url()).searchParams;
      assert.equal(cancelled.get('error'), 'access_denied');
      assert.equal(cancelled.get('state'), state);
      assert.equal(cancelled.get('code'), null);

      assert.deepEqual(csp, [], 'no Content-Security-Policy violation');
      await context.close();
    });
  }

  for (const v of VARIANTS) {
    const name = `${v.lang}-${v.theme}`;
    test(`${name}: a session older than 2 hours shows the expired page; its restart link lands on the hub`, async () => {
      const { context, page, csp } = await openPage(browser, { locale: v.locale, colorScheme: v.theme });
      const msg = (key: MessageKey) => t(v.lang, key);
      const userId = `user-${name}`;
      const state = stateFor(name);
      // A signed session issued 3 hours ago (see harness.addExpiredSession).
      await addExpiredSession(context, almanac, { clientId: client.clientId, externalUserId: userId, state, theme: v.theme, ...(v.params.lng ? { lng: v.params.lng } : {}) });
      const expired = await page.goto(`${almanac.url}/connect`);
      assert.equal(expired?.status(), 401);
      // The session is over, but its language and theme parameters still apply.
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), v.theme);
      assert.equal(await page.evaluate(() => document.documentElement.lang), v.lang);
      assert.equal(await page.evaluate(() => document.documentElement.dir), v.lang === AR ? 'rtl' : 'ltr');
      assert.equal(await pageBackground(page), BACKGROUND[v.theme]);
      assert.equal(await heading(page), msg('expired.title'));
      await screenshot(page, `${name}-expired`);
      const restart = page.locator('main a.btn-primary');
      assert.equal(text(await restart.textContent()), msg('expired.restart'));
      await restart.click();
      await page.waitForURL((url) => url.pathname === '/connect');
      assert.equal(await heading(page), msg('hub.title'), 'the restart link lands on the hub');
      await assertDocument(page, v);

      assert.deepEqual(csp, []);
      await context.close();
    });
  }

  test('the iCloud form renders with its app-specific-password help (en light, ar dark)', async () => {
    for (const v of [VARIANTS[0]!, VARIANTS[3]!]) {
      const { context, page, csp } = await openPage(browser, { locale: v.locale });
      await page.goto(authorizeUrl(almanac, { client_id: client.clientId, user_id: 'icloud-user', ...v.params }));
      await page.locator('a[href="/connect/icloud"]').click();
      await page.waitForURL((url) => url.pathname === '/connect/icloud');
      await assertDocument(page, v);
      assert.equal(await heading(page), t(v.lang, 'icloud.title'));
      assert.ok(await page.locator('input[name=apple_id][type=email]').isVisible());
      assert.ok(await page.locator('input[name=password][type=password]').isVisible());
      assert.match(text(await page.locator('#app-password-hint').textContent()), /abcd-efgh-ijkl-mnop/);
      const help = page.locator('details#app-password-help');
      assert.equal(text(await help.locator('summary').textContent()), t(v.lang, 'icloud.helpHeading'));
      await help.locator('summary').click();
      assert.equal(await help.evaluate((d) => (d as HTMLDetailsElement).open), true);
      assert.equal(await help.locator('.steps li').count(), 3);
      assert.ok(await help.locator('.steps li').first().isVisible());
      assert.equal(await help.locator('a[href="https://appleid.apple.com/"]').getAttribute('target'), '_blank');
      await screenshot(page, `${v.lang}-${v.theme}-icloud-form`);
      assert.deepEqual(csp, []);
      await context.close();
    }
  });

  test('a hostile display name is rendered as text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const evil = await almanac.createClient({ displayName: hostile, redirectUris: [app.callback] });
    const { context, page, csp, dialogs } = await openPage(browser);
    await page.goto(authorizeUrl(almanac, { client_id: evil.clientId, user_id: 'victim' }));
    await page.waitForURL((url) => url.pathname === '/connect');
    assert.equal(text(await page.locator('.identity .app-name').textContent()), hostile);
    assert.equal(text(await page.locator('.back-link').textContent()), t(EN, 'nav.backToApp', { app: hostile }));
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no <img> was injected');
    assert.ok((await page.title()).includes(hostile));
    await page.waitForTimeout(100);
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.deepEqual(csp, []);
    await context.close();
  });
});
