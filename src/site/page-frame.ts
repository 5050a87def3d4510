/**
 * What Almanac's own pages (home, the demo callback) share with the connect pages:
 * the negotiated language, the resolved theme, branding, a CSP nonce, and the
 * Content-Security-Policy that matches. Sent with the same security headers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { brandingFromStored, brandingImageOrigins, DEFAULT_BRANDING, resolveTheme, type ThemeSetting } from '../connect/branding/index.js';
import { negotiateLanguage } from '../connect/i18n/negotiate-language.js';
import { contentSecurityPolicy, createCspNonce } from '../connect/views/index.js';
import type { PageViewModel } from '../connect/views/index.js';

export type SiteViewModel = Omit<PageViewModel, 'csrfToken'>;

export interface FrameInput {
  /** A language asked for (a parameter, or the flow's), before Accept-Language. */
  lng?: string;
  theme?: { param?: string; clientDefault?: ThemeSetting; remembered?: string };
  branding?: Record<string, unknown>;
  appName?: string;
}

export function framePage(request: FastifyRequest, input: FrameInput): { vm: SiteViewModel; csp: string } {
  const branding = { ...(input.branding ? brandingFromStored(input.branding) : DEFAULT_BRANDING), hideFooter: true };
  const nonce = createCspNonce();
  const vm: SiteViewModel = {
    locale: negotiateLanguage({ lng: input.lng, acceptLanguage: request.headers['accept-language'] }),
    theme: resolveTheme({ param: input.theme?.param, clientDefault: input.theme?.clientDefault ?? branding.defaultTheme, remembered: input.theme?.remembered }),
    branding,
    ...(input.appName ? { appName: input.appName } : {}),
    cspNonce: nonce,
  };
  return { vm, csp: contentSecurityPolicy({ nonce, imageOrigins: brandingImageOrigins(branding) }) };
}

export function sendPage(reply: FastifyReply, status: number, html: string, csp: string): FastifyReply {
  return reply
    .code(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Content-Security-Policy', csp)
    .header('Cache-Control', 'no-store')
    .header('Referrer-Policy', 'no-referrer')
    .header('X-Frame-Options', 'DENY')
    .send(html);
}
