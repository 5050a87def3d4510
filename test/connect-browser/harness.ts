/**
 * Shared pieces of the connect-page browser tests: Debian's Chromium through
 * playwright-core, a tiny "application" that only receives the OAuth redirect,
 * screenshots into test-artifacts/connect/, a CSP-violation watcher, keyboard
 * helpers and colour maths for contrast checks.
 *
 * Elements are found by form action, input name, link target and class (the contract
 * the views document), and wording is compared with the catalogs through t(), so a
 * translation change does not break these tests.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { encodeSession, SESSION_COOKIE, type ConnectSession } from '../../src/connect/connect-session.js';
import { toLocale, type Locale } from '../../src/connect/i18n/translator.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_SKIP: string | false = existsSync(CHROMIUM) ? false : 'chromium not installed: apt-get install -y chromium';
/** The two languages these tests read messages in (Locale is a branded type). */
export const EN = toLocale('en');
export const AR = toLocale('ar');

/** Text as read: bidi isolation marks dropped, white space collapsed. */
export const text = (s: string | null | undefined): string => (s ?? '').replace(/[\u2066-\u2069]/g, '').replace(/\s+/g, ' ').trim();

/** The page's `<html>` says its language, direction and theme. */
export async function assertDocument(page: Page, v: { lang: Locale; theme: string }): Promise<void> {
  const attrs = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir, theme: document.documentElement.dataset.theme }));
  assert.deepEqual(attrs, { lang: v.lang, dir: v.lang === AR ? 'rtl' : 'ltr', theme: v.theme }, `<html> of ${page.url()}`);
}

export const ARTIFACTS = new URL('../../test-artifacts/connect/', import.meta.url).pathname;

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A 1×1-ish logo served for the branded client's https://cdn.example/ logo (no real network). */
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32"><rect width="120" height="32" rx="6" fill="#0b5fff"/><text x="60" y="21" font-family="sans-serif" font-size="14" fill="#fff" text-anchor="middle">ACME</text></svg>';

export interface Watched {
  page: Page;
  /** CSP violations reported on this page (console and securitypolicyviolation events). */
  csp: string[];
  /** Dialogs opened (an injected alert() would land here). */
  dialogs: string[];
}

/** A new context and page with the CSP watcher and the fake logo CDN installed. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Watched & { context: BrowserContext }> {
  // Reduced motion turns connect.css transitions off, so screenshots never catch one halfway.
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, locale: 'en-US', reducedMotion: 'reduce', ...options });
  await context.route('https://cdn.example/**', (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
  // Init scripts run outside the page's CSP; the listener reports through the console.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const csp: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (message) => {
    if (/Content.Security.Policy|CSP violation/i.test(message.text())) csp.push(`${page.url()}: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { context, page, csp, dialogs };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** The application's side: only receives the redirect back (`/callback?code=…&state=…`). */
export interface AppServer {
  url: string;
  callback: string;
  close(): Promise<void>;
}

export async function startApp(): Promise<AppServer> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>App</title><p>Back in the app: ${req.url?.length ?? 0} characters of URL.</p>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    callback: `${url}/callback`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function authorizeUrl(almanac: TestServer, params: Record<string, string>): string {
  return `${almanac.url}/api/oauth/authorize?${new URLSearchParams({ response_type: 'code', scope: 'read-write', ...params })}`;
}

/** Puts a signed connect-session cookie issued 3 hours ago (sessions live 2) into the context. */
export async function addExpiredSession(context: BrowserContext, almanac: TestServer, session: Partial<ConnectSession> & Pick<ConnectSession, 'clientId' | 'externalUserId'>): Promise<void> {
  const value = encodeSession(almanac.runtime.keys.cookies, {
    sid: `expired-${Math.random().toString(36).slice(2)}`,
    userId: 'not-used-by-the-expired-page',
    scope: 'read-write',
    redirectUri: 'https://app.example/callback',
    redirectUriExplicit: false,
    iat: Date.now() - 3 * 3600_000,
    ...session,
  });
  await context.addCookies([{ name: SESSION_COOKIE, value, url: almanac.url }]);
}

/** Whatever the focused element is, summarized for assertions and messages. */
export async function focused(page: Page): Promise<{ tag: string; cls: string; name: string; href: string; action: string; text: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      cls: el?.className ?? '',
      name: el?.getAttribute('name') ?? '',
      href: el?.getAttribute('href') ?? '',
      action: el?.closest('form')?.getAttribute('action') ?? '',
      text: (el?.textContent ?? '').replace(/\s+/g, ' ').trim(),
    };
  });
}

/** Presses Tab until `wanted` holds for the focused element (at most `max` presses). */
export async function tabUntil(page: Page, wanted: (f: Awaited<ReturnType<typeof focused>>) => boolean, what: string, max = 30): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (wanted(f)) return;
    seen.push(`${f.tag}.${f.cls}${f.href ? `[href=${f.href}]` : ''}${f.action ? `(${f.action})` : ''}`);
  }
  assert.fail(`Tab never reached ${what}; focus went through: ${seen.join(' → ')}`);
}

// ---------- colours ----------
export type Rgb = [number, number, number];

export function parseRgb(css: string): Rgb {
  const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(css);
  assert.ok(m, `a CSS rgb() colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Resolves once the page's stylesheets and fonts are in: an element can be in the DOM (and
 * a locator's wait over) while connect.css is still loading, and sizes or colours measured
 * then are the browser's defaults.
 */
export async function styled(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
}

/** Computed style properties of the first element matching `selector`. */
export async function styleOf(page: Page, selector: string, props: string[]): Promise<Record<string, string>> {
  await styled(page);
  return page.locator(selector).first().evaluate((el, names) => {
    const cs = getComputedStyle(el);
    return Object.fromEntries(names.map((n) => [n, cs.getPropertyValue(n)]));
  }, props);
}

/** connect.css `--page` per theme, as computed (keep in sync with branding/brand-css.ts SURFACES). */
export const BACKGROUND = { light: 'rgb(243, 244, 246)', dark: 'rgb(17, 19, 24)' } as const;

/** The page background as drawn (body's, which connect.css sets from the theme). */
export async function pageBackground(page: Page): Promise<string> {
  await styled(page);
  return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
}

export interface BrowserStack {
  /** Absent when Radicale is not installed (those tests skip). */
  rad?: RadicaleServer;
  almanac: TestServer;
  app: AppServer;
  browser: Browser;
  close(): Promise<void>;
}

/** Radicale (one user, one calendar), Almanac, the app's redirect target and Chromium, started together. */
export async function startBrowserStack(user: string, password: string, calendar: { slug: string; displayName: string }): Promise<BrowserStack> {
  const [rad, app, browser, almanac] = await Promise.all([
    RADICALE_SKIP ? undefined : startRadicale({ users: { [user]: password } }),
    startApp(),
    launchBrowser(),
    startServer(),
  ]);
  if (rad) await rad.mkcalendar(user, calendar.slug, { displayName: calendar.displayName });
  return {
    rad,
    almanac,
    app,
    browser,
    async close() {
      await browser.close();
      await app.close();
      await almanac.close();
      await rad?.stop();
    },
  };
}
