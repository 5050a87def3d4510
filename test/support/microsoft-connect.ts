/** A real Almanac pointed at the Microsoft emulator, and Microsoft accounts connected through its pages. */
import assert from 'node:assert/strict';
import type { MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import type { ConnectSessionHandle } from './connect-flow.js';
import type { TestServer } from './server.js';

/** The environment that makes a server talk to the emulator instead of Microsoft. */
export function microsoftEnv(emulator: MicrosoftEmulator, extra: Record<string, string> = {}): Record<string, string> {
  const s = emulator.settings();
  return {
    MICROSOFT_CLIENT_ID: s.clientId,
    MICROSOFT_CLIENT_SECRET: s.clientSecret,
    MICROSOFT_TENANT: s.tenant,
    MICROSOFT_AUTHORITY_URL: s.authorityUrl,
    MICROSOFT_GRAPH_URL: s.graphUrl,
    MICROSOFT_RETRY_MAX_ELAPSED_MS: '800',
    ...extra,
  };
}

/** The authorize link on the redirect step page. */
export async function microsoftAuthorizeLink(server: TestServer, s: ConnectSessionHandle): Promise<string> {
  const step = await fetch(`${server.url}/connect/microsoft`, { headers: { cookie: s.cookie } });
  assert.equal(step.status, 200);
  const html = await step.text();
  const href = /href="(http:\/\/127\.0\.0\.1:\d+\/[^/"]+\/oauth2\/v2\.0\/authorize[^"]*)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(href, 'the redirect step links to Microsoft');
  return href;
}

/** Clicks through Microsoft's sign-in (the emulator decides consent) and back to Almanac's callback. */
export async function connectMicrosoft(server: TestServer, s: ConnectSessionHandle): Promise<Response> {
  const href = await microsoftAuthorizeLink(server, s);
  const microsoft = await fetch(href, { redirect: 'manual' });
  assert.equal(microsoft.status, 302, await microsoft.text());
  const back = new URL(microsoft.headers.get('location')!);
  return fetch(`${server.url}${back.pathname}${back.search}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
}
