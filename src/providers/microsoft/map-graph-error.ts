/**
 * The one place where Graph's error answers become ProviderError codes, and where the
 * transport learns which answers are worth retrying. Messages are fixed phrases plus
 * Graph's error code: never a request body, token or event content.
 */
import { ProviderError } from '../types.js';
import type { ProviderErrorCode } from '../types.js';

export interface GraphFailure {
  status: number;
  /** `error.code` of Graph's envelope. */
  code?: string;
  retryAfterMs?: number;
}

export type GraphFailureKind = 'auth' | 'throttled' | 'server' | 'final';

export function graphErrorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyGraphFailure(failure: GraphFailure): GraphFailureKind {
  if (failure.status === 401) return 'auth';
  if (failure.status === 429) return 'throttled';
  // 503 and 504 are Graph's "try again later" (concepts/throttling, errors); other 5xx are faults.
  if (failure.status >= 500) return 'server';
  return 'final';
}

const CURSOR_CODES = new Set(['syncstatenotfound', 'resyncrequired', 'syncstateinvalid']);

export function mapGraphError(failure: GraphFailure, options?: { cause?: unknown }): ProviderError {
  const { code, message } = describe(failure);
  const label = failure.code ? ` (${failure.code})` : '';
  return new ProviderError(code, `${message}${label}`, { retryAfterMs: code === 'RATE_LIMITED' || code === 'TEMPORARY' ? failure.retryAfterMs : undefined, cause: options?.cause });
}

function describe({ status, code }: GraphFailure): { code: ProviderErrorCode; message: string } {
  const c = code?.toLowerCase();
  if (c && CURSOR_CODES.has(c)) return { code: 'CURSOR_INVALID', message: 'Microsoft no longer accepts this delta link; a full sync is required' };
  switch (status) {
    case 400:
      if (c === 'erroroccurrencecrossingboundary') {
        return { code: 'INVALID_INPUT', message: 'Microsoft does not let an occurrence move onto or past the day of a neighbouring occurrence of its series' };
      }
      return { code: 'INVALID_INPUT', message: 'Microsoft rejected the request as invalid' };
    case 401:
      return { code: 'AUTH_REVOKED', message: 'Microsoft no longer accepts this account’s credentials' };
    case 403:
      if (c === 'erroraccessdenied' || c === 'accessdenied' || c === 'authorization_requestdenied') {
        return { code: 'INSUFFICIENT_SCOPE', message: 'Microsoft does not allow this operation for this account' };
      }
      return { code: 'INSUFFICIENT_SCOPE', message: 'Microsoft refused the operation' };
    case 404:
      return { code: 'NOT_FOUND', message: 'Microsoft has no such calendar or event' };
    case 409:
      return { code: 'CONFLICT', message: 'Microsoft reports a conflicting change' };
    case 410:
      return { code: 'CURSOR_INVALID', message: 'Microsoft no longer accepts this delta link; a full sync is required' };
    case 412:
      return { code: 'CONFLICT', message: 'The event changed at Microsoft since it was read' };
    case 429:
      return { code: 'RATE_LIMITED', message: 'Microsoft is throttling this account' };
    default:
      if (status >= 500) return { code: 'TEMPORARY', message: `Microsoft answered ${status}` };
      return { code: 'UNKNOWN', message: `Microsoft answered ${status}` };
  }
}
