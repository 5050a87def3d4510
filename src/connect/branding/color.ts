/**
 * Colour arithmetic for per-client branding: parsing `#RGB`/`#RRGGBB`, WCAG 2.x
 * relative luminance and contrast ratio, and nudging a colour until it is readable.
 */

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

/** True for `#RGB` or `#RRGGBB` (any case), nothing else: no names, no alpha, no spaces. */
export function isHexColor(value: unknown): value is string {
  return typeof value === 'string' && HEX.test(value);
}

/** `#RGB` / `#RRGGBB` → channels 0–255; undefined for anything else. */
export function parseHexColor(value: unknown): Rgb | undefined {
  if (!isHexColor(value)) return undefined;
  const hex = value.length === 4 ? [...value.slice(1)].map((c) => c + c).join('') : value.slice(1);
  return {
    r: Number.parseInt(hex.slice(0, 2), 16),
    g: Number.parseInt(hex.slice(2, 4), 16),
    b: Number.parseInt(hex.slice(4, 6), 16),
  };
}

/** Canonical lower-case `#rrggbb`. */
export function toHex({ r, g, b }: Rgb): string {
  const part = (n: number) => Math.round(Math.min(255, Math.max(0, n))).toString(16).padStart(2, '0');
  return `#${part(r)}${part(g)}${part(b)}`;
}

function asRgb(color: Rgb | string): Rgb {
  if (typeof color !== 'string') return color;
  const parsed = parseHexColor(color);
  if (!parsed) throw new TypeError(`not a #RGB or #RRGGBB colour: ${JSON.stringify(color)}`);
  return parsed;
}

/** WCAG 2.x relative luminance, 0 (black) to 1 (white). */
export function relativeLuminance(color: Rgb | string): number {
  const { r, g, b } = asRgb(color);
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio, 1 to 21. */
export function contrastRatio(a: Rgb | string, b: Rgb | string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

export const BLACK = '#000000';
export const WHITE = '#ffffff';

/**
 * Text colour for a `background`, by WCAG contrast ratio: white when white reaches
 * AA (4.5:1), otherwise black. On mid tones both pass and WCAG 2 slightly favours
 * black, yet white reads better there (the formula overrates dark text on saturated
 * colours), so white wins whenever it is compliant. When white fails, black is
 * always at least 4.58:1, so text on any brand colour meets AA.
 */
export function readableTextOn(background: Rgb | string): '#000000' | '#ffffff' {
  return contrastRatio(background, WHITE) >= 4.5 ? WHITE : BLACK;
}

/** `weight` of `b` mixed into `a` (0 = a, 1 = b), in sRGB. */
export function mix(a: Rgb | string, b: Rgb | string, weight: number): Rgb {
  const x = asRgb(a);
  const y = asRgb(b);
  return { r: x.r + (y.r - x.r) * weight, g: x.g + (y.g - x.g) * weight, b: x.b + (y.b - x.b) * weight };
}

/**
 * `color`, darkened or lightened in 5% steps just enough to reach `minRatio` against
 * every one of `backgrounds` (which should be all light or all dark). Returns the
 * colour unchanged when it already passes.
 */
export function ensureContrast(color: Rgb | string, backgrounds: ReadonlyArray<Rgb | string>, minRatio: number): string {
  const start = asRgb(color);
  const passes = (c: Rgb) => backgrounds.every((bg) => contrastRatio(c, bg) >= minRatio);
  if (passes(start)) return toHex(start);
  const darkBackgrounds = backgrounds.every((bg) => relativeLuminance(bg) < 0.18);
  const target = darkBackgrounds ? WHITE : BLACK;
  for (let step = 1; step <= 20; step++) {
    const candidate = mix(start, target, step * 0.05);
    const rounded = parseHexColor(toHex(candidate)) as Rgb;
    if (passes(rounded)) return toHex(rounded);
  }
  return target;
}
