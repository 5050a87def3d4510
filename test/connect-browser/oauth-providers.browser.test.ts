/**
 * Google and Microsoft connect driven by clicks in Chromium, in English (light) and
 * Arabic (dark), against the provider emulators: hub → the provider's step page → the
 * provider's sign-in (the emulator grants or refuses) → back on the hub with the account
 * → Continue → the application's redirect URI with a code the token endpoint accepts.
 * A refused consent ends on the localized "Access wasn't granted" page. Screenshots land
 * in test-artifacts/connect/<lang>-<theme>-<provider>-<step>.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { t, type Locale, type MessageKey } from '../../src/connect/i18n/translator.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { freePort } from '../support/free-port.js';
import { googleEnv } from '../support/google-connect.js';
import { microsoftEnv } from '../support/microsoft-connect.js';
import { tokenRequest } from '../support/oauth-flow.js';
import { startServer, type TestServer } from '../support/server.js';
import { AR, assertDocument, authorizeUrl, CHROMIUM_SKIP, EN, launchBrowser, openPage, screenshot, startApp, text, type AppServer } from './harness.js';

const DISPLAY = 'Acme Planner';
const GOOGLE_USER = 'ada@example.com';
const MICROSOFT_USER = 'grace@contoso.example';


const VARIANTS: { lang: Locale; theme: 'light' | 'dark'; params: Record<string, string>; locale: string }[] = [
  { lang: EN, theme: 'light', params: { theme: 'light' }, locale: 'en-US' },
  { lang: AR, theme: 'dark', params: { theme: 'dark' }, locale: 'ar' },
];

describe('Google and Microsoft connect in Chromium', { skip: CHROMIUM_SKIP }, () => {
  let google: GoogleEmulator;
  let microsoft: MicrosoftEmulator;
  let almanac: TestServer;
  let app: AppServer;
  let browser: Browser;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    [google, microsoft, app, browser] = await Promise.all([startGoogleEmulator(), startMicrosoftEmulator(), startApp(), launchBrowser()]);
    google.addUser(GOOGLE_USER);
    microsoft.addUser(MICROSOFT_USER);
    // A real public URL: the providers send the browser back to it.
    almanac = await startServer({ port: await freePort(), env: { ...googleEnv(google), ...microsoftEnv(microsoft) } });
    client = await almanac.createClient({ displayName: DISPLAY, redirectUris: [app.callback] });
  });

  after(async () => {
    await browser?.close();
    await almanac?.close();
    await app?.close();
    await google?.close();
    await microsoft?.close();
  });

  const providers = [
    { id: 'google', email: GOOGLE_USER, consent: (action: 'grant-all' | 'deny') => google.setConsent({ action }, GOOGLE_USER) },
    { id: 'microsoft', email: MICROSOFT_USER, consent: (action: 'grant-all' | 'deny') => microsoft.setConsent({ action }, MICROSOFT_USER) },
  ] as const;

  for (const v of VARIANTS) {
    for (const p of providers) {
      const name = `${v.lang}-${v.theme}-${p.id}`;
      test(`${name}: hub → ${p.id} sign-in → hub with the account → Continue → code; a refusal ends on the localized page`, async () => {
        const { context, page, csp } = await openPage(browser, { locale: v.locale, colorScheme: v.theme });
        const msg = (key: MessageKey, params?: Record<string, string>) => t(v.lang, key, params);
        const provider = msg(`provider.${p.id}.name` as MessageKey);
        const state = `state-${name}`;
        const signIn = async (): Promise<void> => {
          await page.locator(`a[href="/connect/${p.id}"]`).click();
          await page.waitForURL((url) => url.pathname === `/connect/${p.id}`);
          await assertDocument(page, v);
          assert.equal(text(await page.locator('main h1').textContent()), msg('oauth.title', { provider }));
          await screenshot(page, `${name}-step`);
          await page.getByRole('link', { name: msg('oauth.continue', { provider }) }).click();
        };

        p.consent('grant-all');
        await page.goto(authorizeUrl(almanac, { client_id: client.clientId, user_id: `user-${name}`, state, ...v.params }));
        await page.waitForURL((url) => url.pathname === '/connect');
        await signIn();
        // The provider sends the browser back to the callback, which lands on the hub.
        await page.waitForURL((url) => url.origin === almanac.url && url.pathname === '/connect');
        await assertDocument(page, v);
        // Listed once, under the provider's display name where it gives one, with the address beside it.
        assert.equal(await page.locator('.accounts .account').count(), 1);
        assert.ok(text(await page.locator('.accounts .account').textContent()).includes(p.email), 'the account address is shown');
        await screenshot(page, `${name}-hub-account`);

        await page.locator('form[action="/connect/continue"] [type=submit]').click();
        await page.waitForURL((url) => url.origin === app.url);
        const back = new URL(page.url());
        assert.equal(back.searchParams.get('state'), state);
        const code = back.searchParams.get('code');
        assert.ok(code, `a code in ${page.url()}`);
        const tokens = await tokenRequest(almanac.url, { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret });
        assert.equal(tokens.status, 200, 'the code from the browser is a real one');

        // Refused at the provider: the localized page, in the same language and theme.
        p.consent('deny');
        await page.goto(authorizeUrl(almanac, { client_id: client.clientId, user_id: `refusing-${name}`, state, ...v.params }));
        await page.waitForURL((url) => url.pathname === '/connect');
        await signIn();
        await page.locator('.status-icon--error').waitFor();
        await assertDocument(page, v);
        assert.equal(text(await page.locator('main h1').textContent()), msg('error.providerDenied.title'));
        await screenshot(page, `${name}-denied`);

        assert.deepEqual(csp, [], 'no Content-Security-Policy violation');
        await context.close();
      });
    }
  }
});
