/** A real Almanac pointed at the Google emulator, and Google accounts connected through its pages. */
import assert from 'node:assert/strict';
import type { GoogleEmulator } from '../emulators/google/google-emulator.js';
import type { ConnectSessionHandle } from './connect-flow.js';
import type { TestServer } from './server.js';

/** The environment that makes a server talk to the emulator instead of Google. */
export function googleEnv(emulator: GoogleEmulator, extra: Record<string, string> = {}): Record<string, string> {
  const g = emulator.settings();
  return {
    GOOGLE_CLIENT_ID: g.clientId,
    GOOGLE_CLIENT_SECRET: g.clientSecret,
    GOOGLE_AUTH_URL: g.authUrl,
    GOOGLE_TOKEN_URL: g.tokenUrl,
    GOOGLE_REVOKE_URL: g.revokeUrl,
    GOOGLE_USERINFO_URL: g.userInfoUrl,
    GOOGLE_API_URL: g.apiRoot,
    GOOGLE_RETRY_MAX_ELAPSED_MS: '800',
    ...extra,
  };
}

/** Clicks through Google's consent (the emulator decides it) and back to Almanac's callback. */
export async function connectGoogle(server: Pick<TestServer, 'url'>, s: ConnectSessionHandle): Promise<Response> {
  const step = await fetch(`${server.url}/connect/google`, { headers: { cookie: s.cookie } });
  assert.equal(step.status, 200);
  const html = await step.text();
  const href = /href="(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth[^"]*)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(href, 'the redirect step links to Google');
  const google = await fetch(href, { redirect: 'manual' });
  assert.equal(google.status, 302, await google.text());
  const back = new URL(google.headers.get('location')!);
  return fetch(`${server.url}${back.pathname}${back.search}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
}
