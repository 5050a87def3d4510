/**
 * The one place that turns provider failure codes into HTTP answers. Provider
 * credential trouble is never a 401/403: the official SDKs would take that as their
 * own token failing and refresh or log the user out.
 */
import { AppError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../domain/errors.js';
import type { ProviderError, ProviderErrorCode } from '../providers/types.js';

export function providerErrorToHttp(err: ProviderError, provider: string): AppError {
  const map: Record<ProviderErrorCode, () => AppError> = {
    NOT_FOUND: () => new NotFoundError(err.message),
    CONFLICT: () => new ConflictError(`${err.message} The event changed at ${provider} since it was read; fetch it again and retry.`),
    RATE_LIMITED: () => new RateLimitedError(`${provider} is rate limiting requests: ${err.message}`, Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000))),
    READ_ONLY: () => new ForbiddenError('calendar_read_only', `The calendar is read-only for this ${provider} account: ${err.message}`),
    INVALID_INPUT: () => new ValidationError(err.message),
    CURSOR_INVALID: () => new ValidationError('Invalid nextPageToken'),
    AUTH_REVOKED: () => new AppError(502, 'reauth_required', `The ${provider} account needs to be reconnected: ${err.message}`),
    INSUFFICIENT_SCOPE: () => new AppError(502, 'insufficient_provider_permission', `The ${provider} account did not grant the calendar permission this needs: ${err.message}`),
    TEMPORARY: () => new AppError(502, 'provider_unavailable', `${provider} is temporarily unavailable: ${err.message}`),
    UNKNOWN: () => new AppError(502, 'provider_error', `${provider} failed: ${err.message}`),
  };
  return map[err.code]();
}

