/**
 * The seam between connect routes and page rendering: routes decide what to show,
 * this module turns it into HTML (or JSON for API clients) with the right headers.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderId } from '../domain/calendar.js';
import type { AccountRecord } from '../storage/repositories/accounts.repo.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import { csrfToken, type ConnectSession } from './connect-session.js';

export interface ErrorInfo {
  status: number;
  error: string;
  message: string;
  lng?: string;
}

export interface HubModel {
  session: ConnectSession;
  client: ClientRecord;
  accounts: AccountRecord[];
  providers: ProviderId[];
  notice?: string;
}

export interface ConnectPages {
  hub(request: FastifyRequest, reply: FastifyReply, m: HubModel): FastifyReply;
  error(request: FastifyRequest, reply: FastifyReply, m: ErrorInfo & { session?: ConnectSession; client?: ClientRecord }): FastifyReply;
  expired(request: FastifyRequest, reply: FastifyReply, m: { session: ConnectSession; client?: ClientRecord; restartUrl: string }): FastifyReply;
  registerAssets(app: FastifyInstance): void;
}

/** API clients (Accept: application/json without text/html) get JSON errors instead of pages. */
export function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Chrome applies form-action to the redirects that follow a form post too, so the
 * application's registered redirect origins are allowed explicitly.
 */
export function formActionSources(redirectUris: string[]): string[] {
  const sources = new Set<string>();
  for (const uri of redirectUris) {
    try {
      const url = new URL(uri);
      sources.add(url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol);
    } catch {
      // Registered URIs were validated at registration; an unparsable one just gets no entry.
    }
  }
  return [...sources];
}

export function pageCsp(nonce: string, formTargets: string[] = []): string {
  return [
    "default-src 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...formTargets].join(' '),
    "frame-ancestors 'none'",
    "img-src 'self' https: data:",
    `style-src 'self' 'nonce-${nonce}'`,
    "script-src 'self'",
  ].join('; ');
}

export function sendHtml(reply: FastifyReply, status: number, html: string, nonce: string, formTargets: string[] = []): FastifyReply {
  return reply
    .code(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Content-Security-Policy', pageCsp(nonce, formTargets))
    .header('Cache-Control', 'no-store')
    .header('Referrer-Policy', 'no-referrer')
    .header('X-Frame-Options', 'DENY')
    .send(html);
}

export { csrfToken };
