/** Drives the OAuth flow over HTTP exactly as a browser and an application would. */
import assert from 'node:assert/strict';

export interface CookieJar {
  cookie?: string;
}

export function cookieFrom(res: Response): string | undefined {
  const set = res.headers.getSetCookie();
  const c = set.find((s) => s.startsWith('oauth_req='));
  return c?.split(';')[0];
}

export function csrfFrom(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(m?.[1], 'page has a CSRF field');
  return m[1];
}

export async function startAuthorize(baseUrl: string, params: Record<string, string>): Promise<{ res: Response; cookie?: string }> {
  const res = await fetch(`${baseUrl}/api/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
  return { res, cookie: cookieFrom(res) };
}

export async function postForm(url: string, cookie: string | undefined, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

/** authorize → connect page → Continue; returns the redirect Location's parameters. */
export async function authorizeAndContinue(baseUrl: string, params: Record<string, string>): Promise<URLSearchParams> {
  const { res, cookie } = await startAuthorize(baseUrl, { response_type: 'code', ...params });
  assert.equal(res.status, 302, `authorize answers 302, got ${res.status}: ${await res.clone().text()}`);
  assert.ok(cookie, 'authorize sets oauth_req');
  const page = await fetch(`${baseUrl}/connect`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const csrf = csrfFrom(await page.text());
  const done = await postForm(`${baseUrl}/connect/continue`, cookie, { csrf });
  assert.equal(done.status, 302);
  return new URL(done.headers.get('location')!).searchParams;
}

export async function tokenRequest(baseUrl: string, body: Record<string, string>, opts: { json?: boolean; basic?: [string, string] } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': opts.json ? 'application/json' : 'application/x-www-form-urlencoded' };
  if (opts.basic) headers.authorization = `Basic ${Buffer.from(`${opts.basic[0]}:${opts.basic[1]}`).toString('base64')}`;
  return fetch(`${baseUrl}/api/oauth/token`, { method: 'POST', headers, body: opts.json ? JSON.stringify(body) : new URLSearchParams(body).toString() });
}

export async function fullTokens(baseUrl: string, client: { clientId: string; clientSecret: string }, params: Record<string, string> = {}) {
  const q = await authorizeAndContinue(baseUrl, { client_id: client.clientId, user_id: 'user-1', ...params });
  const code = q.get('code');
  assert.ok(code, `got a code: ${q.toString()}`);
  const res = await tokenRequest(baseUrl, { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret, ...(params.redirect_uri ? { redirect_uri: params.redirect_uri } : {}) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { access_token: string; refresh_token: string; expires_in: number; token_type: string };
}
