/**
 * The demo client's redirect target: shows the code it received and the exact curl
 * commands that exchange it and call the API, so a newcomer can finish the flow
 * without writing an app. The page speaks the connect flow's language and theme
 * (handed on in the flow-preferences cookie).
 */
import type { FastifyInstance } from 'fastify';
import { parseFlowPreferences, FLOW_PREFERENCES_COOKIE } from '../connect/flow-preferences.js';
import { framePage, sendPage } from '../site/page-frame.js';
import { DOCS_PATH } from '../site/api-docs.route.js';
import { DEMO_CALLBACK_PATH, demoAuthorizeUrl, type DemoClients } from './demo-client.js';
import { renderDemoCallback, type DemoOutcome } from './demo-callback.view.js';

const MAX_PARAM = 2048;

function outcomeOf(query: Record<string, unknown>): DemoOutcome {
  const str = (name: string) => (typeof query[name] === 'string' ? (query[name] as string).slice(0, MAX_PARAM) : undefined);
  const code = str('code');
  const error = str('error');
  const state = str('state');
  if (code) return { kind: 'code', code, ...(state !== undefined ? { state } : {}) };
  if (error === 'access_denied') return { kind: 'cancelled' };
  if (error) return { kind: 'error', error: error.slice(0, 100), ...(str('error_description') ? { description: str('error_description')!.slice(0, 300) } : {}) };
  return { kind: 'empty' };
}

export function registerDemoCallbackRoute(app: FastifyInstance, deps: { publicUrl: string; demoClients: DemoClients }): void {
  app.get(DEMO_CALLBACK_PATH, { schema: { hide: true } }, async (request, reply) => {
    const prefs = parseFlowPreferences(request.cookies?.[FLOW_PREFERENCES_COOKIE]);
    const demo = await deps.demoClients.find();
    const { vm, csp } = framePage(request, {
      lng: prefs.lng,
      theme: { param: prefs.theme, remembered: prefs.remembered },
      ...(demo ? { branding: demo.branding, appName: demo.displayName ?? demo.name } : {}),
    });
    const html = renderDemoCallback({
      ...vm,
      outcome: outcomeOf(request.query as Record<string, unknown>),
      publicUrl: deps.publicUrl,
      ...(demo ? { clientId: demo.clientId, restartUrl: demoAuthorizeUrl(deps.publicUrl, demo.clientId) } : {}),
      docsUrl: DOCS_PATH,
    });
    return sendPage(reply, 200, html, csp);
  });
}
