/**
 * The demo client's redirect target: shows the code it received and the exact curl
 * command that exchanges it, so a newcomer can finish the flow without writing an app.
 */
import type { FastifyInstance } from 'fastify';
import { DEMO_CALLBACK_PATH } from './demo-client.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function registerDemoCallbackRoute(app: FastifyInstance, publicUrl: string): void {
  app.get(DEMO_CALLBACK_PATH, { schema: { hide: true } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const str = (name: string) => (typeof q[name] === 'string' ? (q[name] as string).slice(0, 2048) : undefined);
    const code = str('code');
    const error = str('error');
    const body = code
      ? `<h1>Authorization code received</h1><p>Exchange it within 10 minutes (it works once):</p><pre>curl -s -X POST ${esc(publicUrl)}/api/oauth/token \\
  -u "$CLIENT_ID:$CLIENT_SECRET" \\
  -d grant_type=authorization_code \\
  -d code=${esc(code)}</pre><p>state: <code>${esc(str('state') ?? '')}</code></p>`
      : `<h1>The flow ended without a code</h1><p>error: <code>${esc(error ?? 'none')}</code> ${esc(str('error_description') ?? '')}</p>`;
    const html = `<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Almanac demo callback</title></head><body><main>${body}</main></body></html>`;
    return reply.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', "default-src 'none'; base-uri 'none'; frame-ancestors 'none'").header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').send(html);
  });
}
