/**
 * The per-client colour variables, emitted in a nonce'd `<style>` block (see
 * views/layout.ts). connect.css reads them with fallbacks to Almanac's own colours,
 * so a client without a primary colour needs no block at all.
 *
 * The brand colour fills buttons as given; everything derived keeps it readable:
 * button text is black or white by WCAG contrast, links and focus rings are darkened
 * (light theme) or lightened (dark theme) to 4.5:1 against the surfaces, and a button
 * border reaches 3:1 so a pale (or, in dark mode, a dark) button still shows its edge.
 */
import { contrastRatio, ensureContrast, mix, parseHexColor, readableTextOn, toHex } from './color.js';
import type { Branding } from './branding.js';

/** Surface colours of connect.css (keep in sync: `--surface` and `--page` per theme). */
export const SURFACES = {
  light: { card: '#ffffff', page: '#f3f4f6' },
  dark: { card: '#1b1e24', page: '#111318' },
} as const;

export interface BrandPalette {
  accent: string;
  onAccent: string;
  accentHover: string;
  accentBorder: string;
  link: string;
}

export function brandPalette(primary: string, theme: 'light' | 'dark'): BrandPalette | undefined {
  const rgb = parseHexColor(primary);
  if (!rgb) return undefined;
  const surfaces = [SURFACES[theme].card, SURFACES[theme].page];
  const onAccent = readableTextOn(rgb);
  // Hover moves away from the text colour, so the text stays at least as readable;
  // on a near-black (or near-white) brand that would be invisible, so it moves the
  // other way as long as the text keeps 4.5:1.
  let accentHover = mix(rgb, onAccent === '#ffffff' ? '#000000' : '#ffffff', 0.14);
  if (contrastRatio(accentHover, rgb) < 1.15) {
    const toward = mix(rgb, onAccent, 0.14);
    if (contrastRatio(toward, onAccent) >= 4.5) accentHover = toward;
  }
  return {
    accent: toHex(rgb),
    onAccent,
    accentHover: toHex(accentHover),
    accentBorder: ensureContrast(rgb, surfaces, 3),
    link: ensureContrast(rgb, surfaces, 4.5),
  };
}

/** The CSS text of the brand block, or undefined when the client has no (valid) primary colour. */
export function brandStyles(branding: Pick<Branding, 'primaryColor'>): string | undefined {
  if (!branding.primaryColor) return undefined;
  const light = brandPalette(branding.primaryColor, 'light');
  const dark = brandPalette(branding.primaryColor, 'dark');
  if (!light || !dark) return undefined;
  const vars = (p: BrandPalette, suffix: string) =>
    `--brand${suffix}:${p.accent};--brand-on${suffix}:${p.onAccent};--brand-hover${suffix}:${p.accentHover};` +
    `--brand-border${suffix}:${p.accentBorder};--brand-link${suffix}:${p.link};`;
  // Only validated hex colours reach this string: nothing here can close the <style>.
  return `:root{${vars(light, '')}${vars(dark, '-dark')}}`;
}
