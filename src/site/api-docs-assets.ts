/**
 * The API reference page's own script and stylesheet (Swagger UI's bundle comes from
 * @fastify/swagger-ui's copy). Kept as strings so the compiled server needs no asset
 * copying; served under content-hashed paths by api-docs.route.ts.
 */

/** Starts Swagger UI on the document named by #swagger-ui's data-spec-url (no inline script). */
export const DOCS_SCRIPT = `'use strict';
window.addEventListener('DOMContentLoaded', function () {
  var root = document.getElementById('swagger-ui');
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    layout: 'BaseLayout',
    deepLinking: false,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis]
  });
});
`;

/** Almanac's header and phone-size fixes over Swagger UI's stylesheet. */
export const DOCS_STYLE = `
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: #f3f4f6; color: #111827; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; }
.docs-header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 12px 16px; background: #fff; border-block-end: 1px solid #e2e5ea; }
.docs-brand { display: flex; align-items: center; gap: 10px; color: #111827; text-decoration: none; font-weight: 650; font-size: 1.15rem; }
.docs-brand svg { inline-size: 32px; block-size: 32px; flex: none; }
.docs-nav { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-inline-start: auto; font-size: 0.95rem; }
.docs-nav a { color: #2f54c9; text-underline-offset: 3px; }
.docs-nav a:focus-visible, .docs-brand:focus-visible { outline: 3px solid #2f54c9; outline-offset: 2px; border-radius: 4px; }
#swagger-ui { max-inline-size: 1200px; margin: 0 auto; background: #fff; min-block-size: 60vh; }
.swagger-ui .wrapper { padding: 0 16px; box-sizing: border-box; }
.swagger-ui .information-container .info { margin: 24px 0 12px; }
.swagger-ui .info .title { font-size: 1.6rem; }
.swagger-ui .opblock-tag { font-size: 1.2rem; }
.swagger-ui .opblock .opblock-summary { flex-wrap: wrap; }
.swagger-ui .opblock .opblock-summary-path { word-break: break-word; max-inline-size: 100%; }
.swagger-ui .opblock-body pre, .swagger-ui .microlight { white-space: pre-wrap !important; word-break: break-word; }
.swagger-ui .table-container, .swagger-ui .responses-inner { overflow-x: auto; }
.swagger-ui .markdown code, .swagger-ui .renderedMarkdown code { word-break: break-word; }
@media (max-width: 600px) {
  .docs-nav { margin-inline-start: 0; }
  .swagger-ui .wrapper { padding: 0 8px; }
  .swagger-ui .info .title { font-size: 1.3rem; }
  .swagger-ui .opblock .opblock-summary-method { min-width: 64px; padding: 6px 0; font-size: 0.8rem; }
  .swagger-ui .opblock .opblock-summary-description { flex-basis: 100%; padding: 4px 0 0; font-size: 0.85rem; }
  .swagger-ui .opblock-summary-control { flex-wrap: wrap; }
  .swagger-ui .scheme-container { padding: 12px 0; }
  .swagger-ui .scheme-container .schemes { flex-wrap: wrap; gap: 8px; }
  .swagger-ui table tbody tr td:first-of-type { min-width: 7em; }
  .swagger-ui .parameters-col_description { min-width: 12em; }
}
`;
