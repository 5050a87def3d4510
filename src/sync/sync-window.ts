/**
 * The stretch of time the mirror holds. It is anchored to UTC days, so it moves once a
 * day rather than at every pass, and a calendar's stored window only changes when a
 * relisting re-expands it.
 */
const DAY = 86_400_000;

export interface WindowSettings {
  pastDays: number;
  futureDays: number;
}

export interface Window {
  start: number;
  end: number;
}

export function desiredWindow(now: number, settings: WindowSettings): Window {
  const today = Math.floor(now / DAY) * DAY;
  return { start: today - settings.pastDays * DAY, end: today + (settings.futureDays + 1) * DAY };
}

/** Whether [start, end) lies inside the window, so the mirror can answer for it. */
export function covers(window: Window | null, start: number, end: number): boolean {
  return window !== null && window.start <= start && end <= window.end;
}
