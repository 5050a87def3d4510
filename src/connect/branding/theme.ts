/**
 * Which colour theme a page is drawn in.
 *
 * The `theme` parameter, when given, replaces the client's default. A light or dark
 * result is final; `auto` lets the user's remembered choice (the theme cookie) decide,
 * and without one the page follows the device (`prefers-color-scheme`, in CSS).
 */

export type ThemeSetting = 'auto' | 'light' | 'dark';
export const THEME_SETTINGS: readonly ThemeSetting[] = ['auto', 'light', 'dark'];

/** Name of the cookie `POST /connect/theme` sets to the user's choice. */
export const THEME_COOKIE = 'almanac_theme';

export function parseTheme(value: unknown): ThemeSetting | undefined {
  return typeof value === 'string' && (THEME_SETTINGS as readonly string[]).includes(value) ? (value as ThemeSetting) : undefined;
}

export interface ThemeInput {
  /** The `theme` request parameter as received (invalid values are ignored). */
  param?: string | null;
  clientDefault: ThemeSetting;
  /** The user's remembered choice (cookie value as received; invalid values ignored). */
  remembered?: string | null;
}

/** `light` / `dark` to force, `auto` to follow the device setting. */
export function resolveTheme({ param, clientDefault, remembered }: ThemeInput): ThemeSetting {
  const requested = parseTheme(param) ?? parseTheme(clientDefault) ?? 'auto';
  if (requested !== 'auto') return requested;
  const choice = parseTheme(remembered);
  return choice === 'light' || choice === 'dark' ? choice : 'auto';
}

/**
 * Whether a remembered choice would change anything, i.e. whether to offer the
 * light/dark/device buttons at all: only when neither the parameter nor the client
 * forces a theme.
 */
export function canChooseTheme({ param, clientDefault }: Omit<ThemeInput, 'remembered'>): boolean {
  return (parseTheme(param) ?? parseTheme(clientDefault) ?? 'auto') === 'auto';
}
