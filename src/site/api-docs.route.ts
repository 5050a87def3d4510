/**
 * GET /api/docs: the API reference (Swagger UI over /api/openapi.json) in a page of
 * Almanac's own: its name and mark, links home, a viewport for phones, and a strict
 * Content-Security-Policy that the page meets (no inline script or style element; Swagger
 * UI's bundle and stylesheet come from @fastify/swagger-ui's copy, served here).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DOCS_SCRIPT, DOCS_STYLE } from './api-docs-assets.js';
import { ALMANAC_MARK } from './mark.js';

export const DOCS_PATH = '/api/docs';
const SPEC_PATH = '/api/openapi.json';

interface Asset {
  path: string;
  type: string;
  body: Buffer;
  etag: string;
}

function asset(name: string, ext: string, type: string, body: Buffer): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return { path: `${DOCS_PATH}/${name}.${hash}.${ext}`, type, body, etag: `"${hash}"` };
}

function loadAssets() {
  const swaggerUiDir = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json')), 'static');
  return {
    bundle: asset('swagger-ui', 'js', 'text/javascript; charset=utf-8', readFileSync(join(swaggerUiDir, 'swagger-ui-bundle.js'))),
    swaggerCss: asset('swagger-ui', 'css', 'text/css; charset=utf-8', readFileSync(join(swaggerUiDir, 'swagger-ui.css'))),
    script: asset('docs', 'js', 'text/javascript; charset=utf-8', Buffer.from(DOCS_SCRIPT)),
    style: asset('docs', 'css', 'text/css; charset=utf-8', Buffer.from(DOCS_STYLE)),
    icon: asset('almanac', 'svg', 'image/svg+xml', Buffer.from(ALMANAC_MARK)),
  };
}

function page(a: ReturnType<typeof loadAssets>): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Almanac API reference</title>
<link rel="icon" href="${a.icon.path}" type="image/svg+xml">
<link rel="stylesheet" href="${a.swaggerCss.path}">
<link rel="stylesheet" href="${a.style.path}">
<script src="${a.bundle.path}" defer></script>
<script src="${a.script.path}" defer></script>
</head>
<body>
<header class="docs-header">
<a class="docs-brand" href="/">${ALMANAC_MARK}<span>Almanac API reference</span></a>
<nav class="docs-nav" aria-label="Almanac"><a href="${SPEC_PATH}">openapi.json</a><a href="/api/health">Health</a><a href="/">Home</a></nav>
</header>
<main id="swagger-ui" data-spec-url="${SPEC_PATH}"><noscript><p class="docs-noscript">This reference needs JavaScript; the raw document is at <a href="${SPEC_PATH}">${SPEC_PATH}</a>.</p></noscript></main>
</body>
</html>
`;
}

/**
 * What the page needs and nothing more. Swagger UI sets element styles from script
 * (allowed: CSSOM, not inline markup); "Try it out" calls the API on this origin and on
 * the public URL, which may differ behind a proxy.
 */
function contentSecurityPolicy(publicUrl: string): string {
  let origin = '';
  try {
    origin = ` ${new URL(publicUrl).origin}`;
  } catch {
    // A malformed public URL cannot reach config validation; stay with 'self'.
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${origin}`,
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function registerApiDocsRoutes(app: FastifyInstance, deps: { publicUrl: string }): void {
  const assets = loadAssets();
  const html = page(assets);
  const csp = contentSecurityPolicy(deps.publicUrl);
  const sendPage = async (_request: unknown, reply: FastifyReply) =>
    reply.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', csp).header('Cache-Control', 'no-cache').header('Referrer-Policy', 'same-origin').send(html);
  app.get(DOCS_PATH, { schema: { hide: true } }, sendPage);
  app.get(`${DOCS_PATH}/`, { schema: { hide: true } }, sendPage);
  for (const a of Object.values(assets)) {
    app.get(a.path, { schema: { hide: true } }, async (request, reply) => {
      reply.header('Content-Type', a.type).header('Cache-Control', 'public, max-age=31536000, immutable').header('ETag', a.etag);
      if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.send(a.body);
    });
  }
}
