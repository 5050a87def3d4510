/** Connecting provider accounts through the connect pages over HTTP, as a browser would. */
import assert from 'node:assert/strict';
import { csrfFrom, postForm, startAuthorize, tokenRequest } from './oauth-flow.js';

export interface ConnectSessionHandle {
  cookie: string;
  csrf: string;
}

export async function openConnect(baseUrl: string, params: Record<string, string>): Promise<ConnectSessionHandle> {
  const { res, cookie } = await startAuthorize(baseUrl, { response_type: 'code', ...params });
  assert.equal(res.status, 302, await res.clone().text());
  assert.ok(cookie);
  const page = await fetch(`${baseUrl}/connect`, { headers: { cookie } });
  assert.equal(page.status, 200);
  return { cookie, csrf: csrfFrom(await page.text()) };
}

export async function connectCaldav(baseUrl: string, s: ConnectSessionHandle, form: { server_url: string; username: string; password: string }): Promise<Response> {
  const page = await fetch(`${baseUrl}/connect/caldav`, { headers: { cookie: s.cookie } });
  assert.equal(page.status, 200);
  const csrf = csrfFrom(await page.text());
  return postForm(`${baseUrl}/connect/caldav`, s.cookie, { csrf, ...form });
}

export async function finishConnect(baseUrl: string, s: ConnectSessionHandle, client: { clientId: string; clientSecret: string }): Promise<{ access_token: string; refresh_token: string }> {
  const done = await postForm(`${baseUrl}/connect/continue`, s.cookie, { csrf: s.csrf });
  assert.equal(done.status, 302);
  const code = new URL(done.headers.get('location')!).searchParams.get('code');
  assert.ok(code);
  const res = await tokenRequest(baseUrl, { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret });
  assert.equal(res.status, 200);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

/** A small JSON API client bound to one access token. */
export function api(baseUrl: string, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json as any, headers: res.headers }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return {
    token,
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    put: (path: string, body: unknown) => call('PUT', path, body),
    del: (path: string, body?: unknown) => call('DELETE', path, body),
    events: (params: Record<string, string>) => call('GET', `/api/events?${new URLSearchParams(params)}`),
  };
}

/** Continue on the hub: the code (and state) the browser carries back to the application, not exchanged. */
export async function continueConnect(baseUrl: string, s: ConnectSessionHandle): Promise<URLSearchParams> {
  const done = await postForm(`${baseUrl}/connect/continue`, s.cookie, { csrf: s.csrf });
  assert.equal(done.status, 302, await done.clone().text());
  return new URL(done.headers.get('location')!).searchParams;
}

/** The application's side of the callback: exchanges a code for tokens. */
export async function exchangeCode(baseUrl: string, client: { clientId: string; clientSecret: string }, code: string): Promise<{ access_token: string; refresh_token: string; scope: string }> {
  const res = await tokenRequest(baseUrl, { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { access_token: string; refresh_token: string; scope: string };
}

/** POST /api/oauth/par with HTTP Basic client authentication, as an application's back end would. */
export async function pushAuthorization(baseUrl: string, client: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<Response> {
  return fetch(`${baseUrl}/api/oauth/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams(params).toString(),
  });
}

/** Pushes the request, then opens the connect pages with its request_uri. */
export async function openPushedConnect(baseUrl: string, client: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<ConnectSessionHandle & { hub: string }> {
  const pushed = await pushAuthorization(baseUrl, client, { response_type: 'code', ...params });
  assert.equal(pushed.status, 201, await pushed.clone().text());
  const { request_uri } = (await pushed.json()) as { request_uri: string };
  const { res, cookie } = await startAuthorize(baseUrl, { client_id: client.clientId, request_uri });
  assert.equal(res.status, 302, await res.clone().text());
  assert.ok(cookie);
  const page = await fetch(`${baseUrl}/connect`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const hub = await page.text();
  return { cookie, csrf: csrfFrom(hub), hub };
}

/** The connect hub as the session's browser sees it now. */
export async function hubOf(baseUrl: string, s: ConnectSessionHandle): Promise<string> {
  const page = await fetch(`${baseUrl}/connect`, { headers: { cookie: s.cookie } });
  assert.equal(page.status, 200);
  return page.text();
}

/** The accounts a hub page lists, as the `account` values of its disconnect forms. */
export function listedAccounts(hub: string): string[] {
  return [...hub.matchAll(/name="account" value="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
}
