/**
 * The connect session's language and theme, handed on when the flow ends. The session
 * cookie is cleared at Continue/Cancel, yet Almanac's own page at the end of the flow
 * (the demo callback) should still speak the user's language in the user's theme. Not
 * a secret and not trusted: both values are re-validated by whoever reads them.
 */
import { parseTheme, type ThemeSetting } from './branding/theme.js';

export const FLOW_PREFERENCES_COOKIE = 'almanac_flow';
export const FLOW_PREFERENCES_MAX_AGE_SECONDS = 3600;

export interface FlowPreferences {
  /** The locale the connect pages used. */
  lng?: string;
  /** The authorize `theme` parameter, when there was one. */
  theme?: ThemeSetting;
  /** The theme the user chose on the connect pages, when they did. */
  remembered?: ThemeSetting;
}

const LNG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

export function encodeFlowPreferences(p: FlowPreferences): string {
  return [p.lng && LNG.test(p.lng) ? p.lng : '', p.theme ?? '', p.remembered ?? ''].join('~');
}

export function parseFlowPreferences(value: string | undefined): FlowPreferences {
  if (!value || value.length > 64) return {};
  const [lng, theme, remembered] = value.split('~');
  return {
    ...(lng && LNG.test(lng) ? { lng } : {}),
    ...(parseTheme(theme) ? { theme: parseTheme(theme) } : {}),
    ...(parseTheme(remembered) ? { remembered: parseTheme(remembered) } : {}),
  };
}
