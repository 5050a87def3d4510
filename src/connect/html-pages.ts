/** ConnectPages rendered as HTML documents. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConnectPages, ErrorInfo, HubModel } from './connect-pages.js';
import { csrfToken, formActionSources, newNonce, sendHtml, wantsJson } from './connect-pages.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import type { ConnectSession } from './connect-session.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function doc(title: string, body: string): string {
  return `<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title></head><body><main>${body}</main></body></html>`;
}

export function createHtmlPages(cookieKey: Buffer): ConnectPages {
  const appName = (c?: ClientRecord) => c?.displayName ?? c?.name;
  return {
    hub(_request: FastifyRequest, reply: FastifyReply, m: HubModel) {
      const nonce = newNonce();
      const csrf = csrfToken(cookieKey, m.session.sid);
      const name = appName(m.client) ?? 'An application';
      const accounts = m.accounts
        .map((a) => `<li>${esc(a.provider)}: ${esc(a.accountId)} <form method="post" action="/connect/disconnect"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="provider" value="${esc(a.provider)}"><input type="hidden" name="account" value="${esc(a.accountId)}"><button type="submit">Disconnect</button></form></li>`)
        .join('');
      const providers = m.providers.map((p) => `<li><a href="/connect/${p}">${esc(p)}</a></li>`).join('');
      const body = `<h1>${esc(name)} wants to connect to your calendars</h1><ul id="accounts">${accounts}</ul><ul id="providers">${providers}</ul>
<form method="post" action="/connect/continue"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Continue</button></form>
<form method="post" action="/connect/cancel"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Cancel</button></form>`;
      return sendHtml(reply, 200, doc('Connect your calendars', body), nonce, formActionSources(m.client.redirectUris));
    },
    error(request: FastifyRequest, reply: FastifyReply, m: ErrorInfo & { session?: ConnectSession; client?: ClientRecord }) {
      if (wantsJson(request)) return reply.code(m.status).send({ error: m.error, message: m.message });
      return sendHtml(reply, m.status, doc('Something went wrong', `<h1>Something went wrong</h1><p role="alert">${esc(m.message)}</p>`), newNonce());
    },
    expired(_request: FastifyRequest, reply: FastifyReply, m: { session: ConnectSession; client?: ClientRecord; restartUrl: string }) {
      return sendHtml(reply, 401, doc('Session expired', `<h1>This page has expired</h1><p><a href="${esc(m.restartUrl)}">Start again</a></p>`), newNonce());
    },
    registerAssets(_app: FastifyInstance) {},
  };
}
