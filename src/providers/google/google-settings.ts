/** Everything the Google adapter and OAuth client need to know about this deployment. */

export interface GoogleRetrySettings {
  /** Give up retrying rate limits and server errors once this much time has passed. */
  maxElapsedMs: number;
  /** First backoff step; each further attempt doubles the ceiling of a random delay. */
  baseDelayMs: number;
}

export interface GoogleSettings {
  clientId: string;
  clientSecret: string;
  authUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  userInfoUrl: string;
  /** Origin the Calendar API lives under; `/calendar/v3` is appended. */
  apiRoot: string;
  retry?: Partial<GoogleRetrySettings>;
}

/** Google's real endpoints: every one can be overridden (proxies, national setups, tests). */
export const GOOGLE_DEFAULT_URLS = {
  authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  revokeUrl: 'https://oauth2.googleapis.com/revoke',
  userInfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
  apiRoot: 'https://www.googleapis.com',
} as const;

/** Bounded so an API request fails within about ten seconds instead of hanging on Google's quota. */
export const GOOGLE_DEFAULT_RETRY: GoogleRetrySettings = { maxElapsedMs: 10_000, baseDelayMs: 500 };

export function resolveRetry(settings: GoogleSettings): GoogleRetrySettings {
  return { ...GOOGLE_DEFAULT_RETRY, ...settings.retry };
}

export function calendarApiBase(settings: GoogleSettings): string {
  return `${settings.apiRoot.replace(/\/+$/, '')}/calendar/v3`;
}
