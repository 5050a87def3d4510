/**
 * Wall-clock ↔ instant conversion in IANA zones for the emulator, kept apart from the
 * adapter's own helpers so a bug in one cannot hide the same bug in the other.
 */

const cache = new Map<string, Intl.DateTimeFormat>();

function parts(instantMs: number, timeZone: string): number[] {
  let f = cache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    cache.set(timeZone, f);
  }
  const map: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(instantMs))) if (p.type !== 'literal') map[p.type] = Number(p.value);
  return [map.year!, map.month!, map.day!, map.hour!, map.minute!, map.second!];
}

export function validZone(timeZone: string): boolean {
  try {
    parts(0, timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface Wall {
  y: number;
  mo: number; // 1-12
  d: number;
  h: number;
  mi: number;
  s: number;
}

export function wallAt(instantMs: number, timeZone: string): Wall {
  const [y, mo, d, h, mi, s] = parts(instantMs, timeZone);
  return { y: y!, mo: mo!, d: d!, h: h!, mi: mi!, s: s! };
}

export function offsetMs(instantMs: number, timeZone: string): number {
  const w = wallAt(instantMs, timeZone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(instantMs / 1000) * 1000;
}

/** The instant a wall-clock time occurs in a zone (the later reading in a repeated hour). */
export function wallToInstant(w: Wall, timeZone: string): number {
  const asUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  let guess = asUtc - offsetMs(asUtc, timeZone);
  guess = asUtc - offsetMs(guess, timeZone);
  return guess;
}

const p2 = (n: number): string => String(Math.abs(n)).padStart(2, '0');

/** RFC 3339 with the zone's offset, the way Google writes dateTime values. */
export function rfc3339InZone(instantMs: number, timeZone: string): string {
  const w = wallAt(instantMs, timeZone);
  const off = Math.round(offsetMs(instantMs, timeZone) / 60_000);
  const zone = off === 0 && timeZone === 'UTC' ? 'Z' : `${off < 0 ? '-' : '+'}${p2(Math.trunc(off / 60))}:${p2(off % 60)}`;
  return `${String(w.y).padStart(4, '0')}-${p2(w.mo)}-${p2(w.d)}T${p2(w.h)}:${p2(w.mi)}:${p2(w.s)}${zone}`;
}

export function dateOnly(w: Pick<Wall, 'y' | 'mo' | 'd'>): string {
  return `${String(w.y).padStart(4, '0')}-${p2(w.mo)}-${p2(w.d)}`;
}

export function parseDate(date: string): { y: number; mo: number; d: number } {
  const [y, mo, d] = date.split('-').map(Number);
  return { y: y!, mo: mo!, d: d! };
}

/** `yyyy-mm-dd` begins at local midnight in the zone: how Google places all-day events. */
export function dateStartInZone(date: string, timeZone: string): number {
  return wallToInstant({ ...parseDate(date), h: 0, mi: 0, s: 0 }, timeZone);
}

export function basicUtcStamp(instantMs: number): string {
  return new Date(instantMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
