/** GET /: a small page about this server, in the connect pages' look, language and theme. */
import type { FastifyInstance } from 'fastify';
import type { DemoClients } from '../demo/demo-client.js';
import { demoAuthorizeUrl } from '../demo/demo-client.js';
import { DOCS_PATH } from './api-docs.route.js';
import { renderHome } from './home.view.js';
import { framePage, sendPage } from './page-frame.js';

export function registerHomeRoute(app: FastifyInstance, deps: { publicUrl: string; demoClients?: DemoClients }): void {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const { vm, csp } = framePage(request, { lng: typeof q.lng === 'string' ? q.lng : undefined, theme: { param: typeof q.theme === 'string' ? q.theme : undefined } });
    const demo = deps.demoClients ? await deps.demoClients.find() : undefined;
    const html = renderHome({
      ...vm,
      ...(demo ? { demoAuthorizeUrl: demoAuthorizeUrl(deps.publicUrl, demo.clientId) } : {}),
      links: { docs: DOCS_PATH, openapi: '/api/openapi.json', health: '/api/health', ready: '/api/health/ready' },
    });
    return sendPage(reply, 200, html, csp);
  });
}
