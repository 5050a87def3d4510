/**
 * The Content-Security-Policy the connect pages are written for. No inline script or
 * style attribute anywhere; the only inline element is the brand colour `<style>`,
 * allowed by a per-response nonce.
 */
import { randomBytes } from 'node:crypto';

/** A fresh nonce for one response (128 bits, base64). */
export function createCspNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface CspOptions {
  nonce: string;
  /** Logo origins (brandingImageOrigins(branding)). */
  imageOrigins?: readonly string[];
  /**
   * Origins a form submission may end up on after redirects. Chromium applies
   * form-action to the redirect chain of a form POST, so the finish/cancel POSTs that
   * 302 to the application need the redirect_uri's origin here.
   */
  formActionOrigins?: readonly string[];
}

const SOURCE = /^(?:https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?|https?:\/\/\[[0-9a-fA-F:]+\](?::\d{1,5})?)$/;

function sources(list: readonly string[] | undefined): string {
  return (list ?? [])
    .map((s) => {
      try {
        return new URL(s).origin;
      } catch {
        return '';
      }
    })
    .filter((s) => SOURCE.test(s))
    .map((s) => ` ${s}`)
    .join('');
}

/** The header value for a connect page response. */
export function contentSecurityPolicy({ nonce, imageOrigins, formActionOrigins }: CspOptions): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce.replace(/[^A-Za-z0-9+/=_-]/g, '')}'`,
    `img-src 'self'${sources(imageOrigins)}`,
    `form-action 'self'${sources(formActionOrigins)}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}
