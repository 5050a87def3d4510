/**
 * Per-client branding of the connect pages: what the CLI validates and stores in
 * `clients.branding` (JSON), and what the pages read back.
 */
import { isHexColor } from './color.js';
import { parseTheme } from './theme.js';
import type { ThemeSetting } from './theme.js';

export interface Branding {
  /** Logo on light backgrounds (and on dark ones when there is no dark logo). https only (http for localhost). */
  logoUrl?: string;
  /** Logo for dark mode. */
  logoDarkUrl?: string;
  /** `#RGB` or `#RRGGBB`: buttons, links and focus rings (links adjusted for contrast). */
  primaryColor?: string;
  defaultTheme: ThemeSetting;
  /** Hides the "Calendar connection by Almanac" credit. */
  hideFooter: boolean;
  /** Shown on error pages: an email address, an https URL, a `tel:` link or a short text. */
  supportContact?: string;
}

export const DEFAULT_BRANDING: Readonly<Branding> = Object.freeze({ defaultTheme: 'auto', hideFooter: false });

export const MAX_URL_LENGTH = 2048;
export const MAX_SUPPORT_CONTACT_LENGTH = 200;

export interface BrandingIssue {
  field: keyof Branding | string;
  message: string;
}

export type BrandingValidation = { ok: true; branding: Branding } | { ok: false; errors: BrandingIssue[] };

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function isLocalHost(hostname: string): boolean {
  return LOCAL_HOSTS.has(hostname) || hostname.endsWith('.localhost');
}

/** https URLs (http only for localhost), no credentials, at most 2048 characters. */
export function isAllowedLogoUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH || CONTROL.test(value) || /\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return url.hostname.length > 0;
  return url.protocol === 'http:' && isLocalHost(url.hostname);
}

export type SupportContact =
  | { kind: 'email'; text: string; href: string }
  | { kind: 'url'; text: string; href: string }
  | { kind: 'phone'; text: string; href: string }
  | { kind: 'text'; text: string };

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const SCHEME = /^[a-z][a-z0-9+.-]*:(?=\S)/i;

/** How a support contact is shown: a mailto/https/tel link or plain text; undefined when unusable. */
export function parseSupportContact(value: unknown): SupportContact | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text.length === 0 || text.length > MAX_SUPPORT_CONTACT_LENGTH || CONTROL.test(text)) return undefined;
  if (EMAIL.test(text)) return { kind: 'email', text, href: `mailto:${text}` };
  if (/^mailto:/i.test(text)) {
    const address = text.slice('mailto:'.length);
    return EMAIL.test(address) ? { kind: 'email', text: address, href: `mailto:${address}` } : undefined;
  }
  if (/^tel:/i.test(text)) {
    const number = text.slice('tel:'.length);
    return /^\+?[0-9 ().-]{3,32}$/.test(number) ? { kind: 'phone', text: number, href: `tel:${number.replace(/[ ().-]/g, '')}` } : undefined;
  }
  if (/^https:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      if (url.username || url.password || /\s/.test(text)) return undefined;
      return { kind: 'url', text, href: url.href };
    } catch {
      return undefined;
    }
  }
  if (SCHEME.test(text)) return undefined; // javascript:, data:, http: … never become links or text
  return { kind: 'text', text };
}

function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

const FIELDS = new Set(['logoUrl', 'logoDarkUrl', 'primaryColor', 'defaultTheme', 'hideFooter', 'supportContact']);

/**
 * Strict validation for the CLI: every problem is reported, unknown fields included.
 * Empty strings clear optional fields; `hideFooter` also accepts "true"/"false".
 */
export function validateBranding(input: unknown): BrandingValidation {
  const errors: BrandingIssue[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '(branding)', message: 'must be an object' }] };
  }
  const source = input as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!FIELDS.has(key)) errors.push({ field: key, message: `unknown field (allowed: ${[...FIELDS].join(', ')})` });
  }
  const branding: Branding = { ...DEFAULT_BRANDING };
  const present = (key: string) => source[key] !== undefined && source[key] !== null && source[key] !== '';

  for (const key of ['logoUrl', 'logoDarkUrl'] as const) {
    if (!present(key)) continue;
    if (isAllowedLogoUrl(source[key])) branding[key] = source[key] as string;
    else errors.push({ field: key, message: 'must be an https:// URL (http:// only for localhost), without credentials, at most 2048 characters' });
  }
  if (present('primaryColor')) {
    if (isHexColor(source.primaryColor)) branding.primaryColor = source.primaryColor.toLowerCase();
    else errors.push({ field: 'primaryColor', message: 'must be a hex colour like #1a73e8 or #17e' });
  }
  if (present('defaultTheme')) {
    const theme = parseTheme(source.defaultTheme);
    if (theme) branding.defaultTheme = theme;
    else errors.push({ field: 'defaultTheme', message: 'must be auto, light or dark' });
  }
  if (present('hideFooter')) {
    const value = flag(source.hideFooter);
    if (value === undefined) errors.push({ field: 'hideFooter', message: 'must be true or false' });
    else branding.hideFooter = value;
  }
  if (present('supportContact')) {
    const contact = parseSupportContact(source.supportContact);
    if (contact) branding.supportContact = (source.supportContact as string).trim();
    else {
      errors.push({
        field: 'supportContact',
        message: `must be an email address, an https:// URL, a tel: number or plain text (at most ${MAX_SUPPORT_CONTACT_LENGTH} characters, no other URL schemes)`,
      });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, branding };
}

/**
 * Lenient reading for the pages: the stored JSON (or an object), keeping each valid
 * field and dropping invalid ones, so a bad value never breaks a page.
 */
export function brandingFromStored(stored: string | object | null | undefined): Branding {
  let source: unknown = stored;
  if (typeof stored === 'string') {
    try {
      source = JSON.parse(stored);
    } catch {
      return { ...DEFAULT_BRANDING };
    }
  }
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return { ...DEFAULT_BRANDING };
  const s = source as Record<string, unknown>;
  const branding: Branding = { ...DEFAULT_BRANDING };
  if (isAllowedLogoUrl(s.logoUrl)) branding.logoUrl = s.logoUrl;
  if (isAllowedLogoUrl(s.logoDarkUrl)) branding.logoDarkUrl = s.logoDarkUrl;
  if (isHexColor(s.primaryColor)) branding.primaryColor = s.primaryColor.toLowerCase();
  branding.defaultTheme = parseTheme(s.defaultTheme) ?? 'auto';
  branding.hideFooter = flag(s.hideFooter) ?? false;
  if (parseSupportContact(s.supportContact)) branding.supportContact = (s.supportContact as string).trim();
  return branding;
}

/** Origins the page loads images from, for the CSP `img-src` directive. */
export function brandingImageOrigins(branding: Branding): string[] {
  const origins = new Set<string>();
  for (const url of [branding.logoUrl, branding.logoDarkUrl]) {
    if (url && isAllowedLogoUrl(url)) origins.add(new URL(url).origin);
  }
  return [...origins];
}
