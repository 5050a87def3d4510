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
