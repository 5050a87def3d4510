/**
 * Inline SVG drawings: simple provider letter-marks of our own (not the providers'
 * logos) and a few interface icons. All decorative: aria-hidden, the text beside
 * them carries the meaning. Inline SVG needs no CSP allowance.
 */
import type { ProviderId } from '../../domain/calendar.js';
import { raw } from './html.js';
import type { SafeHtml } from './html.js';

const svg = (className: string, viewBox: string, body: string) =>
  raw(`<svg class="${className}" viewBox="${viewBox}" aria-hidden="true" focusable="false">${body}</svg>`);

const letter = (ch: string) =>
  `<text x="20" y="21" text-anchor="middle" dominant-baseline="central" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" font-size="21" font-weight="700" fill="#fff">${ch}</text>`;

const MARKS: Record<ProviderId, string> = {
  google: `<rect width="40" height="40" rx="10" fill="#d93025"/>${letter('G')}`,
  microsoft: `<rect width="40" height="40" rx="10" fill="#0067b8"/>${letter('M')}`,
  apple:
    '<rect width="40" height="40" rx="10" fill="#5a55d6"/>' +
    '<path d="M13.5 28h14a6 6 0 0 0 .9-11.93 8.2 8.2 0 0 0-15.55 1.45A5.3 5.3 0 0 0 13.5 28z" fill="#fff"/>',
  caldav:
    '<rect width="40" height="40" rx="10" fill="#4b5563"/>' +
    '<rect x="10" y="12" width="20" height="18" rx="3" fill="none" stroke="#fff" stroke-width="2.2"/>' +
    '<path d="M10 18h20" stroke="#fff" stroke-width="2.2"/>' +
    '<path d="M15 9v5M25 9v5" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>' +
    '<circle cx="15.5" cy="23" r="1.6" fill="#fff"/><circle cx="20" cy="23" r="1.6" fill="#fff"/><circle cx="24.5" cy="23" r="1.6" fill="#fff"/>',
};

export function providerMark(provider: ProviderId, size: 'md' | 'lg' = 'md'): SafeHtml {
  return svg(`mark mark--${size}`, '0 0 40 40', MARKS[provider]);
}

const stroke = (d: string) =>
  `<path d="${d}" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>`;

export const icons = {
  /** Points to the inline start; CSS mirrors it in RTL. */
  back: () => svg('icon icon--dir', '0 0 24 24', stroke('M15 5l-7 7 7 7')),
  /** Points to the inline end; CSS mirrors it in RTL. */
  forward: () => svg('icon icon--dir', '0 0 24 24', stroke('M9 5l7 7-7 7')),
  check: () => svg('icon', '0 0 24 24', stroke('M5 12.5l4.5 4.5L19 7.5')),
  cross: () => svg('icon', '0 0 24 24', stroke('M6.5 6.5l11 11M17.5 6.5l-11 11')),
  alert: () => svg('icon', '0 0 24 24', stroke('M12 8v5M12 16.5v.01') + stroke('M10.3 3.9L2.6 17.5A2 2 0 0 0 4.3 20.5h15.4a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z')),
  info: () => svg('icon', '0 0 24 24', `<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/>${stroke('M12 11v5M12 8v.01')}`),
  clock: () => svg('icon', '0 0 24 24', `<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/>${stroke('M12 7v5l3 2')}`),
  lock: () => svg('icon', '0 0 24 24', `<rect x="5" y="10.5" width="14" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="2"/>${stroke('M8 10.5V8a4 4 0 0 1 8 0v2.5')}`),
  sun: () => svg('icon', '0 0 24 24', `<circle cx="12" cy="12" r="4" fill="none" stroke="currentColor" stroke-width="2"/>${stroke('M12 2.5v2M12 19.5v2M4.6 4.6l1.4 1.4M18 18l1.4 1.4M2.5 12h2M19.5 12h2M4.6 19.4L6 18M18 6l1.4-1.4')}`),
  moon: () => svg('icon', '0 0 24 24', stroke('M20 14.5A8 8 0 1 1 9.5 4a6.5 6.5 0 0 0 10.5 10.5z')),
  device: () => svg('icon', '0 0 24 24', `<rect x="3" y="4.5" width="18" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="2"/>${stroke('M9 20h6M12 16.5V20')}`),
  calendar: () =>
    svg(
      'icon',
      '0 0 24 24',
      `<rect x="4" y="5.5" width="16" height="14.5" rx="2.5" fill="none" stroke="currentColor" stroke-width="2"/>${stroke('M4 10h16M8.5 3.5v4M15.5 3.5v4')}`,
    ),
};
