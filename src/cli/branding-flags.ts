/** CLI flags for a client's connect-page branding, merged onto what is stored. */
import { ValidationError } from '../domain/errors.js';

export const BRANDING_FLAGS = {
  'logo-url': { type: 'string' },
  'logo-dark-url': { type: 'string' },
  'primary-color': { type: 'string' },
  theme: { type: 'string' },
  'hide-footer': { type: 'boolean' },
  'show-footer': { type: 'boolean' },
  'support-contact': { type: 'string' },
  'clear-branding': { type: 'boolean' },
} as const;

export type BrandingFlagValues = {
  'logo-url'?: string;
  'logo-dark-url'?: string;
  'primary-color'?: string;
  theme?: string;
  'hide-footer'?: boolean;
  'show-footer'?: boolean;
  'support-contact'?: string;
  'clear-branding'?: boolean;
};

export function brandingFromFlags(v: BrandingFlagValues, current: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = v['clear-branding'] ? {} : { ...current };
  if (v['logo-url'] !== undefined) next.logoUrl = v['logo-url'];
  if (v['logo-dark-url'] !== undefined) next.logoDarkUrl = v['logo-dark-url'];
  if (v['primary-color'] !== undefined) next.primaryColor = v['primary-color'];
  if (v.theme !== undefined) next.defaultTheme = v.theme;
  if (v['hide-footer'] && v['show-footer']) throw new ValidationError('Use either --hide-footer or --show-footer');
  if (v['hide-footer']) next.hideFooter = true;
  if (v['show-footer']) next.hideFooter = false;
  if (v['support-contact'] !== undefined) next.supportContact = v['support-contact'];
  return next;
}
