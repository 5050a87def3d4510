/** Reads the connect session from its cookie, or answers with the right page when there is none. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientsRepository } from '../storage/repositories/clients.repo.js';
import { checkCsrf, decodeSession, RESTART_COOKIE, SESSION_COOKIE, type ConnectSession } from './connect-session.js';
import { FORM_FIELDS } from './views/view-models.js';
import type { ConnectPages, ErrorInfo } from './connect-pages.js';
import { redirectWithParams } from '../oauth/redirect.js';

/** The authorize URL that would start this session again (for the expired-session page). */
export function restartUrl(s: ConnectSession): string {
  const q = new URLSearchParams({ client_id: s.clientId, user_id: s.externalUserId, response_type: 'code', scope: s.scope });
  if (s.redirectUriExplicit) q.set('redirect_uri', s.redirectUri);
  if (s.state !== undefined) q.set('state', s.state);
  if (s.lng) q.set('lng', s.lng);
  if (s.theme) q.set('theme', s.theme);
  if (s.providers) q.set('providers', s.providers.join(','));
  if (s.codeChallenge) {
    q.set('code_challenge', s.codeChallenge);
    q.set('code_challenge_method', 'S256');
  }
  return `/api/oauth/authorize?${q.toString()}`;
}

export class SessionLoader {
  constructor(
    private readonly cookieKey: Buffer,
    private readonly clients: ClientsRepository,
    private readonly pages: ConnectPages,
  ) {}

  read(request: FastifyRequest) {
    return decodeSession(this.cookieKey, request.cookies[SESSION_COOKIE]);
  }

  /** The live session, or undefined after the reply was answered with an explanatory page. */
  async require(request: FastifyRequest, reply: FastifyReply): Promise<ConnectSession | undefined> {
    const result = this.read(request);
    if (result.kind === 'ok') return result.session;
    // The browser may already have dropped oauth_req; the restart cookie still knows what expired.
    const expired = result.kind === 'expired' ? result : result.kind === 'missing' ? decodeSession(this.cookieKey, request.cookies[RESTART_COOKIE], Date.now(), RESTART_COOKIE) : undefined;
    if (expired && (expired.kind === 'expired' || expired.kind === 'ok')) {
      const client = await this.clients.find(expired.session.clientId);
      const s = expired.session;
      // A pushed request worked once and cannot be replayed; the application has to push a new one.
      const way = s.pushed
        ? { backUrl: redirectWithParams(s.redirectUri, { error: 'access_denied', error_description: 'The connect session expired', state: s.state }) }
        : { restartUrl: restartUrl(s) };
      this.pages.expired(request, reply, { session: s, client, ...way });
      return undefined;
    }
    this.pages.error(request, reply, {
      status: 400,
      kind: 'invalid_request',
      error: 'session_missing',
      message: result.kind === 'missing'
        ? 'This page needs an active connection request. Go back to the application and start again.'
        : 'This connection request could not be verified. Go back to the application and start again.',
    });
    return undefined;
  }

  /** For form posts: the live session and a valid CSRF token, or an explanatory page. */
  async requirePosted(request: FastifyRequest, reply: FastifyReply): Promise<ConnectSession | undefined> {
    const session = await this.require(request, reply);
    if (!session) return undefined;
    const body = request.body as Record<string, unknown> | undefined;
    if (!checkCsrf(this.cookieKey, session.sid, body?.[FORM_FIELDS.csrf])) {
      await this.showError(request, reply, session, { status: 403, kind: 'csrf', error: 'csrf', message: 'This form has expired or did not come from this page. Go back and try again.', retryUrl: '/connect' });
      return undefined;
    }
    return session;
  }

  async showError(request: FastifyRequest, reply: FastifyReply, session: ConnectSession | undefined, info: ErrorInfo): Promise<FastifyReply> {
    const client = session ? await this.clients.find(session.clientId) : undefined;
    return this.pages.error(request, reply, { ...info, session, client });
  }
}
