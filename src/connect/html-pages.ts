/** ConnectPages rendered with the views in ./views: localized, branded, themed, CSP-locked. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import { brandingFromStored, brandingImageOrigins, canChooseTheme, parseTheme, resolveTheme, THEME_COOKIE, DEFAULT_BRANDING } from './branding/index.js';
import { negotiateLanguage } from './i18n/negotiate-language.js';
import { staticAssets } from './static/index.js';
import { contentSecurityPolicy, createCspNonce, renderCaldavLogin, renderError, renderIcloudLogin, renderOAuthRedirect, renderProviderSelection, renderSessionExpired } from './views/index.js';
import type { ErrorKind, PageViewModel } from './views/view-models.js';
import type { ConnectPages, ErrorInfo } from './connect-pages.js';
import { wantsJson } from './connect-pages.js';
import { csrfToken, type ConnectSession } from './connect-session.js';

const STATUS_KIND: Record<number, ErrorKind> = { 401: 'unknown_client', 403: 'csrf', 404: 'not_found', 429: 'rate_limited' };

function send(reply: FastifyReply, status: number, body: string, csp: string): FastifyReply {
  return reply
    .code(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Content-Security-Policy', csp)
    .header('Cache-Control', 'no-store')
    .header('Referrer-Policy', 'same-origin')
    .header('X-Frame-Options', 'DENY')
    .send(body);
}

export function createHtmlPages(cookieKey: Buffer): ConnectPages {
  /** What every page shares: language, theme, branding, nonce, CSRF token, and the CSP that matches. */
  function page(request: FastifyRequest, client: ClientRecord | undefined, session: ConnectSession | undefined, fallback: { lng?: string; theme?: ConnectSession['theme'] } = {}) {
    const lng = fallback.lng;
    const q = request.query as Record<string, unknown> | undefined;
    const queryLng = typeof q?.lng === 'string' ? q.lng : undefined;
    const locale = negotiateLanguage({ lng: session?.lng ?? lng ?? queryLng, acceptLanguage: request.headers['accept-language'] });
    const branding = client ? brandingFromStored(client.branding) : { ...DEFAULT_BRANDING };
    const remembered = parseTheme(request.cookies?.[THEME_COOKIE]);
    const themeInput = { param: session?.theme ?? fallback.theme, clientDefault: branding.defaultTheme };
    const nonce = createCspNonce();
    const vm: PageViewModel = {
      locale,
      theme: resolveTheme({ ...themeInput, remembered }),
      branding,
      appName: client?.displayName ?? client?.name,
      cspNonce: nonce,
      csrfToken: session ? csrfToken(cookieKey, session.sid) : '',
      ...(session && canChooseTheme(themeInput) ? { themeChoice: { action: '/connect/theme', returnTo: request.url.split('?')[0] ?? '/connect', current: remembered ?? 'auto' } } : {}),
    };
    const csp = contentSecurityPolicy({ nonce, imageOrigins: brandingImageOrigins(branding), formActionOrigins: client?.redirectUris ?? [] });
    return { vm, csp };
  }

  const sessionActions = { cancel: '/connect/cancel' };

  return {
    hub(request, reply, m) {
      const { vm, csp } = page(request, m.client, m.session);
      const html = renderProviderSelection({
        ...vm,
        scope: m.session.scope,
        providers: m.providers.map((id) => ({ id, href: `/connect/${id === 'apple' ? 'icloud' : id}` })),
        accounts: m.accounts.map((a) => ({
          provider: a.provider,
          accountId: a.accountId,
          ...(a.display ? { display: a.display } : {}),
          syncState: a.syncState,
          calendarPermissionGranted: a.calendarPermissionGranted,
          needsMoreAccess: a.needsMoreAccess,
          reconnectHref: `/connect/${a.provider === 'apple' ? 'icloud' : a.provider}`,
        })),
        limitReached: m.limitReached,
        otherAccountsHidden: m.otherAccountsHidden,
        ...(m.notice ? { notice: m.notice } : {}),
        actions: { ...sessionActions, finish: '/connect/continue', disconnect: '/connect/disconnect' },
      });
      return send(reply, 200, html, csp);
    },
    caldavLogin(request, reply, m) {
      const { vm, csp } = page(request, m.client, m.session);
      const html = renderCaldavLogin({
        ...vm,
        ...(m.values ? { values: { serverUrl: m.values.serverUrl, username: m.values.username } } : {}),
        ...(m.errors ? { errors: m.errors } : {}),
        actions: { ...sessionActions, submit: '/connect/caldav', back: '/connect' },
      });
      return send(reply, m.status ?? 200, html, csp);
    },
    icloudLogin(request, reply, m) {
      const { vm, csp } = page(request, m.client, m.session);
      const html = renderIcloudLogin({
        ...vm,
        ...(m.values ? { values: { appleId: m.values.appleId } } : {}),
        ...(m.errors ? { errors: m.errors } : {}),
        actions: { ...sessionActions, submit: '/connect/icloud', back: '/connect' },
      });
      return send(reply, m.status ?? 200, html, csp);
    },
    oauthRedirect(request, reply, m) {
      const { vm, csp } = page(request, m.client, m.session);
      return send(reply, 200, renderOAuthRedirect({ ...vm, provider: m.provider, authorizationUrl: m.authorizationUrl, actions: { ...sessionActions, back: '/connect' } }), csp);
    },
    error(request, reply, m: ErrorInfo & { session?: ConnectSession; client?: ClientRecord }) {
      if (wantsJson(request)) return reply.code(m.status).send({ error: m.error, message: m.message });
      const { vm, csp } = page(request, m.client, m.session, { lng: m.lng });
      const kind: ErrorKind = m.kind ?? STATUS_KIND[m.status] ?? (m.status >= 500 ? 'server_error' : 'invalid_request');
      const html = renderError({
        ...vm,
        kind,
        reference: request.id,
        ...(m.retryUrl ? { retryUrl: m.retryUrl } : {}),
        ...(m.session ? { actions: sessionActions } : {}),
      });
      return send(reply, m.status, html, csp);
    },
    expired(request, reply, m) {
      // The session is over (no forms, no CSRF token), but its language and theme still apply.
      const { vm, csp } = page(request, m.client, undefined, { lng: m.session.lng, theme: m.session.theme });
      return send(reply, 401, renderSessionExpired({ ...vm, csrfToken: undefined, ...(m.restartUrl ? { restartUrl: m.restartUrl } : {}), ...(m.backUrl ? { backUrl: m.backUrl } : {}) }), csp);
    },
    registerAssets(app: FastifyInstance) {
      for (const asset of staticAssets()) {
        app.get(asset.path, { schema: { hide: true } }, async (request, reply) => {
          reply.header('Content-Type', asset.contentType).header('Cache-Control', asset.cacheControl).header('ETag', asset.etag);
          if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
          return reply.send(asset.body);
        });
      }
    },
  };
}
