/**
 * The one place where Google's error answers become ProviderError codes, and where the
 * retry policy learns which answers are worth retrying. Messages are fixed phrases plus
 * Google's reason code: never a request body, token or event content.
 */
import { ProviderError } from '../types.js';
import type { ProviderErrorCode } from '../types.js';
import type { GoogleErrorEnvelope } from './google-wire-types.js';

export interface GoogleFailure {
  status: number;
  /** First `errors[].reason` of the envelope, when Google sent one. */
  reason?: string;
  /** From a `Retry-After` header. */
  retryAfterMs?: number;
}

/** How the transport should react before the failure is surfaced. */
export type GoogleFailureKind = 'auth' | 'rate-limit' | 'server' | 'final';

/** Short-term limits that pass if the caller slows down (Google documents both 403 and 429). */
const SHORT_TERM_RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
/** Limits that do not pass within a request's lifetime: surfaced at once. */
const LONG_TERM_QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded', 'variableTermLimitExceeded']);
const PERMISSION_REASONS = new Set(['insufficientPermissions', 'forbidden', 'forbiddenForServiceAccounts', 'accessNotConfigured']);

export function googleErrorReason(body: unknown): string | undefined {
  const envelope = body as GoogleErrorEnvelope | null;
  const reason = envelope?.error?.errors?.[0]?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

export function classifyGoogleFailure(failure: GoogleFailure): GoogleFailureKind {
  const { status, reason } = failure;
  if (status === 401) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status === 403 && reason !== undefined && SHORT_TERM_RATE_REASONS.has(reason)) return 'rate-limit';
  if (status >= 500) return 'server';
  return 'final';
}

export function mapGoogleError(failure: GoogleFailure, options?: { cause?: unknown }): ProviderError {
  const { code, message } = describe(failure);
  const label = failure.reason ? ` (${failure.reason})` : '';
  return new ProviderError(code, `${message}${label}`, {
    retryAfterMs: code === 'RATE_LIMITED' ? failure.retryAfterMs : undefined,
    cause: options?.cause,
  });
}

function describe({ status, reason }: GoogleFailure): { code: ProviderErrorCode; message: string } {
  switch (status) {
    case 400:
      return { code: 'INVALID_INPUT', message: 'Google rejected the request as invalid' };
    case 401:
      return { code: 'AUTH_REVOKED', message: 'Google no longer accepts this account’s credentials' };
    case 403:
      if (reason !== undefined && (SHORT_TERM_RATE_REASONS.has(reason) || LONG_TERM_QUOTA_REASONS.has(reason))) {
        return { code: 'RATE_LIMITED', message: 'Google’s usage limits for this account were exceeded' };
      }
      // The grant is fine; this account's access to the calendar (or event) is not enough to write.
      if (reason === 'requiredAccessLevel') {
        return { code: 'READ_ONLY', message: 'Google allows this account only to read this calendar' };
      }
      if (reason === 'forbiddenForNonOrganizer') {
        return { code: 'READ_ONLY', message: 'Google lets only the organizer change this event' };
      }
      if (reason === undefined || PERMISSION_REASONS.has(reason)) {
        return { code: 'INSUFFICIENT_SCOPE', message: 'Google does not allow this operation for this account' };
      }
      return { code: 'INSUFFICIENT_SCOPE', message: 'Google refused the operation' };
    case 404:
      return { code: 'NOT_FOUND', message: 'Google has no such calendar or event' };
    case 409:
      return { code: 'CONFLICT', message: 'Google reports a conflicting resource' };
    case 410:
      if (reason === 'deleted') return { code: 'NOT_FOUND', message: 'The event was deleted at Google' };
      // fullSyncRequired, updatedMinTooLongAgo: the cursor is gone and the caller must start over.
      return { code: 'CURSOR_INVALID', message: 'Google no longer accepts this sync cursor; a full sync is required' };
    case 412:
      return { code: 'CONFLICT', message: 'The event changed at Google since it was read' };
    case 429:
      return { code: 'RATE_LIMITED', message: 'Google is rate limiting this account' };
    default:
      if (status >= 500) return { code: 'TEMPORARY', message: `Google answered ${status}` };
      return { code: 'UNKNOWN', message: `Google answered ${status}` };
  }
}
