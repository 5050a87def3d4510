/** Everything the Microsoft adapter and OAuth client need to know about this deployment. */

export interface MicrosoftRetrySettings {
  /** Give up retrying throttling and server errors once this much time has passed. */
  maxElapsedMs: number;
  /** First backoff step when Graph sends no Retry-After. */
  baseDelayMs: number;
}

export interface MicrosoftSettings {
  clientId: string;
  clientSecret: string;
  /** `common`, `organizations`, `consumers` or a tenant id / domain. */
  tenant: string;
  /** The identity platform's host (national clouds use others); `/{tenant}/oauth2/v2.0/…` is appended. */
  authorityUrl: string;
  /** Graph's versioned root, e.g. `https://graph.microsoft.com/v1.0`. */
  graphUrl: string;
  retry?: Partial<MicrosoftRetrySettings>;
  /** Requests in flight per account at once: Outlook serves four per app and mailbox. */
  concurrencyPerAccount?: number;
}

export const MICROSOFT_DEFAULTS = {
  tenant: 'common',
  authorityUrl: 'https://login.microsoftonline.com',
  graphUrl: 'https://graph.microsoft.com/v1.0',
} as const;

export const MICROSOFT_DEFAULT_RETRY: MicrosoftRetrySettings = { maxElapsedMs: 10_000, baseDelayMs: 500 };

export function resolveRetry(settings: MicrosoftSettings): MicrosoftRetrySettings {
  return { ...MICROSOFT_DEFAULT_RETRY, ...settings.retry };
}

const trim = (url: string): string => url.replace(/\/+$/, '');

export function authorizeEndpoint(settings: MicrosoftSettings): string {
  return `${trim(settings.authorityUrl)}/${encodeURIComponent(settings.tenant)}/oauth2/v2.0/authorize`;
}

export function tokenEndpoint(settings: MicrosoftSettings): string {
  return `${trim(settings.authorityUrl)}/${encodeURIComponent(settings.tenant)}/oauth2/v2.0/token`;
}

export function graphBase(settings: MicrosoftSettings): string {
  return trim(settings.graphUrl);
}
