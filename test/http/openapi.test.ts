/**
 * The OpenAPI document covers every API route the server has, with its error answers,
 * and those documented error bodies are what the server really sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCUMENTED_ERRORS } from '../../src/http/openapi.js';
import { startServer, type TestServer } from '../support/server.js';

type Schema = { type?: string; required?: string[]; properties?: Record<string, { type?: string }>; $ref?: string };
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** Method and path of every route, read from Fastify's route tree (printRoutes). */
function registeredRoutes(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const stack: { depth: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[└├]── (.+?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const path = `${stack[stack.length - 1]?.path ?? ''}${m[2]}`.replace(/\/\//g, '/');
    stack.push({ depth, path });
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') routes.push({ method, path: path.startsWith('/') ? path : `/${path}` });
  }
  return routes;
}

/** Whether a body has the documented required properties, each of the documented type. */
function conforms(body: Record<string, unknown>, schema: Schema): string[] {
  const problems: string[] = [];
  for (const key of schema.required ?? []) if (!(key in body)) problems.push(`missing ${key}`);
  for (const [key, value] of Object.entries(body)) {
    const type = schema.properties?.[key]?.type;
    if (!schema.properties?.[key]) problems.push(`undocumented ${key}`);
    else if (type === 'string' && typeof value !== 'string') problems.push(`${key} is not a string`);
    else if (type === 'array' && !Array.isArray(value)) problems.push(`${key} is not an array`);
  }
  return problems;
}

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDoc;
  before(async () => {
    server = await startServer({ env: { ALMANAC_METRICS_TOKEN: 'metrics-token-0123456789abcdef', ALMANAC_DEMO_CLIENT: 'true' } });
    doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as OpenApiDoc;
  });
  after(async () => server?.close());

  test('every API route is documented with its error answers (and 500); the table names no route that does not exist', () => {
    const api = registeredRoutes(server.runtime.app.printRoutes({ commonPrefix: false })).filter(
      (r) => (r.path.startsWith('/api/') || r.path === '/metrics' || r.path.startsWith('/.well-known/')) && !r.path.startsWith('/api/docs') && r.path !== '/api/openapi.json',
    );
    assert.ok(api.length >= 12, `found the routes: ${JSON.stringify(api)}`);
    for (const { method, path } of api) {
      const op = doc.paths[path]?.[method.toLowerCase()];
      assert.ok(op, `${method} ${path} is in the OpenAPI document`);
      const key = `${method} ${path}`;
      assert.ok(DOCUMENTED_ERRORS[key], `${key} has an entry in DOCUMENTED_ERRORS`);
      for (const status of [...DOCUMENTED_ERRORS[key]!, 500]) assert.ok(op.responses[String(status)], `${key} documents ${status}`);
      assert.ok(Object.keys(op.responses).some((s) => /^[23]/.test(s)), `${key} documents its success`);
    }
    const known = new Set(api.map((r) => `${r.method} ${r.path}`));
    for (const key of Object.keys(DOCUMENTED_ERRORS)) assert.ok(known.has(key), `DOCUMENTED_ERRORS entry ${key} is a real route`);
  });

  test('the error bodies the server sends are the documented ones', async () => {
    const schemas = doc.components.schemas;
    const bodyOf = (path: string, method: string, status: number) => {
      const ref = doc.paths[path]![method]!.responses[String(status)]!.content!['application/json']!.schema.$ref!;
      return schemas[ref.split('/').pop()!]!;
    };
    const client = await server.createClient();
    const code = await server.runtime.services.tokens.issueCode({ clientId: client.clientId, userId: (await server.runtime.services.users.findOrCreate(client.clientId, 'u')).id, sessionId: 'openapi-test', scope: 'read', redirectUri: client.redirectUri, redirectUriExplicit: false, codeChallenge: null });
    const tokens = await server.runtime.services.tokens.exchangeCode((await server.runtime.services.clientsRepo.find(client.clientId))!, { code });
    const bearer = { authorization: `Bearer ${tokens.access_token}` };

    const cases: [string, string, RequestInit, number][] = [
      ['/api/calendars', 'get', {}, 401],
      ['/api/events', 'get', { headers: bearer }, 400],
      ['/api/event', 'post', { headers: bearer }, 401],
      ['/api/oauth/token', 'post', { headers: { 'content-type': 'application/json' }, body: '{}' }, 400],
      ['/api/oauth/par', 'post', { headers: { 'content-type': 'application/json' }, body: '{}' }, 400],
      ['/api/connection-status', 'get', {}, 401],
      ['/api/oauth/token', 'post', { headers: { 'content-type': 'application/xml' }, body: '<x/>' }, 415],
    ];
    for (const [path, method, init, status] of cases) {
      const url = path === '/api/events' ? `${server.url}${path}?start=not-a-date` : `${server.url}${path}`;
      const res = await fetch(url, { method: method.toUpperCase(), ...init });
      assert.equal(res.status, status, `${method} ${path}`);
      const problems = conforms((await res.json()) as Record<string, unknown>, bodyOf(path, method, status));
      assert.deepEqual(problems, [], `${method.toUpperCase()} ${path} ${status}`);
    }
  });

  test('the readable reference at /api/docs is Almanac’s page, not the framework’s, and is CSP-locked', async () => {
    const res = await fetch(`${server.url}/api/docs`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<title>Almanac API reference<\/title>/);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.doesNotMatch(html, /<script>|<style>| style="/, 'no inline script or style');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    for (const [, src] of html.matchAll(/(?:src|href)="(\/api\/docs\/[^"]+)"/g)) {
      const asset = await fetch(`${server.url}${src}`);
      assert.equal(asset.status, 200, src);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    }
  });
});
