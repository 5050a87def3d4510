/**
 * The one place that turns provider failure codes into HTTP answers. Provider
 * credential trouble is never a 401/403: the official SDKs would take that as their
 * own token failing and refresh or log the user out. READ_ONLY is a 403 of its own
 * (`calendar_read_only`): the application's token is fine, the calendar is not writable.
 *
 * The message is the provider's own clause (which already names the provider), followed
 * where it helps by what the application can do about it, so nothing is said twice.
 */
import { PROVIDER_NAMES, type ProviderId } from '../domain/calendar.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../domain/errors.js';
import type { ProviderError, ProviderErrorCode } from '../providers/types.js';

/** The provider's clause, without a trailing period (the advice follows after a semicolon). */
function clause(message: string): string {
  return message.trim().replace(/[.;:\s]+$/, '');
}

/**
 * @param fallbackProvider the provider the request named, for errors that do not say
 *   which provider failed themselves.
 */
export function providerErrorToHttp(err: ProviderError, fallbackProvider?: ProviderId): AppError {
  const provider = err.provider ?? fallbackProvider;
  const account = `${provider ? PROVIDER_NAMES[provider] : 'calendar'} account`;
  const what = clause(err.message);
  const map: Record<ProviderErrorCode, () => AppError> = {
    NOT_FOUND: () => new NotFoundError(what),
    CONFLICT: () => new ConflictError(`${what}; fetch the event again and retry`),
    RATE_LIMITED: () => {
      const seconds = Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000));
      return new RateLimitedError(`${what}; retry after ${seconds} second${seconds === 1 ? '' : 's'}`, seconds);
    },
    READ_ONLY: () => new ForbiddenError('calendar_read_only', what),
    INVALID_INPUT: () => new ValidationError(what),
    CURSOR_INVALID: () => new ValidationError('Invalid nextPageToken'),
    AUTH_REVOKED: () => new AppError(502, 'reauth_required', `${what}; the ${account} needs to be reconnected`),
    INSUFFICIENT_SCOPE: () =>
      new AppError(502, 'insufficient_provider_permission', `${what}; the ${account} did not grant the calendar access this needs and must be reconnected with it`),
    TEMPORARY: () => new AppError(502, 'provider_unavailable', `${what}; try again later`),
    UNKNOWN: () => new AppError(502, 'provider_error', what),
  };
  return map[err.code]();
}
