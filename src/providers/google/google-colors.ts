/**
 * Google's event colour palette (the `event` half of `GET /colors`, which has not changed
 * since the API's v3 release), so events can carry a hex colour without an extra request
 * per listing. Calendars carry their hex colours themselves.
 */
const EVENT_COLORS: Readonly<Record<string, string>> = {
  '1': '#a4bdfc',
  '2': '#7ae7bf',
  '3': '#dbadff',
  '4': '#ff887c',
  '5': '#fbd75b',
  '6': '#ffb878',
  '7': '#46d6db',
  '8': '#e1e1e1',
  '9': '#5484ed',
  '10': '#51b749',
  '11': '#dc2127',
};

export function googleEventColorHex(colorId: string | undefined): string | undefined {
  return colorId === undefined ? undefined : EVENT_COLORS[colorId];
}

/** The palette entry closest to a hex colour: Google events cannot take arbitrary colours. */
export function googleEventColorId(hex: string): string | undefined {
  const target = parseHex(hex);
  if (!target) return undefined;
  let best: { id: string; distance: number } | undefined;
  for (const [id, value] of Object.entries(EVENT_COLORS)) {
    const rgb = parseHex(value)!;
    const distance = rgb.reduce((sum, channel, i) => sum + (channel - target[i]!) ** 2, 0);
    if (!best || distance < best.distance) best = { id, distance };
  }
  return best?.id;
}

/** `#RGB`/`#RRGGBB` (any case) → lower-case `#rrggbb`, or null. */
export function normalizeHexColor(value: string | undefined): string | null {
  const rgb = value === undefined ? undefined : parseHex(value);
  return rgb ? `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}` : null;
}

function parseHex(value: string): [number, number, number] | undefined {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (!m?.[1]) return undefined;
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}
