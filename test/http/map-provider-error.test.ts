import { test } from 'node:test';
import assert from 'node:assert/strict';
import { providerErrorToHttp } from '../../src/http/map-provider-error.js';
import { AppError, RateLimitedError } from '../../src/domain/errors.js';
import { ProviderError, type ProviderErrorCode } from '../../src/providers/types.js';

/** The answer for one provider failure: status, `error` and the exact `message`. */
function answer(code: ProviderErrorCode, message: string, options: { provider?: 'google' | 'caldav' | 'apple'; fallback?: 'google' | 'caldav'; retryAfterMs?: number } = {}): [number, string, string] {
  const err = new ProviderError(code, message, { retryAfterMs: options.retryAfterMs });
  if (options.provider) err.provider = options.provider;
  const http = providerErrorToHttp(err, options.fallback);
  assert.ok(http instanceof AppError);
  return [http.status, http.code, http.message];
}

test('every provider failure code: status, error code and the exact message, nothing said twice', () => {
  const g = { provider: 'google' } as const;
  assert.deepEqual(answer('NOT_FOUND', 'Google has no such calendar or event (notFound)', g), [404, 'not_found', 'Google has no such calendar or event (notFound)']);
  assert.deepEqual(answer('CONFLICT', 'The event changed at Google since it was read (conditionNotMet)', g), [
    409,
    'conflict',
    'The event changed at Google since it was read (conditionNotMet); fetch the event again and retry',
  ]);
  assert.deepEqual(answer('RATE_LIMITED', 'Google is rate limiting this account (rateLimitExceeded)', { ...g, retryAfterMs: 2500 }), [
    429,
    'rate_limited',
    'Google is rate limiting this account (rateLimitExceeded); retry after 3 seconds',
  ]);
  assert.deepEqual(answer('RATE_LIMITED', 'The CalDAV server is rate limiting requests', { provider: 'caldav' }), [429, 'rate_limited', 'The CalDAV server is rate limiting requests; retry after 1 second']);
  assert.deepEqual(answer('READ_ONLY', 'Google allows this account only to read this calendar (requiredAccessLevel)', g), [
    403,
    'calendar_read_only',
    'Google allows this account only to read this calendar (requiredAccessLevel)',
  ]);
  assert.deepEqual(answer('INVALID_INPUT', 'Google rejected the request as invalid (invalid)', g), [400, 'invalid_request', 'Google rejected the request as invalid (invalid)']);
  assert.deepEqual(answer('CURSOR_INVALID', 'Google no longer accepts this sync cursor; a full sync is required (fullSyncRequired)', g), [400, 'invalid_request', 'Invalid nextPageToken']);
  assert.deepEqual(answer('AUTH_REVOKED', 'Google no longer accepts this account’s authorization (invalid_grant)', g), [
    502,
    'reauth_required',
    'Google no longer accepts this account’s authorization (invalid_grant); the Google account needs to be reconnected',
  ]);
  assert.deepEqual(answer('AUTH_REVOKED', 'The CalDAV server rejected the stored credentials', { provider: 'caldav' }), [
    502,
    'reauth_required',
    'The CalDAV server rejected the stored credentials; the CalDAV account needs to be reconnected',
  ]);
  assert.deepEqual(answer('INSUFFICIENT_SCOPE', 'Google does not allow this operation for this account (insufficientPermissions)', g), [
    502,
    'insufficient_provider_permission',
    'Google does not allow this operation for this account (insufficientPermissions); the Google account did not grant the calendar access this needs and must be reconnected with it',
  ]);
  assert.deepEqual(answer('TEMPORARY', 'Google answered 503 (backendError)', g), [502, 'provider_unavailable', 'Google answered 503 (backendError); try again later']);
  assert.deepEqual(answer('UNKNOWN', 'Google answered 418', g), [502, 'provider_error', 'Google answered 418']);
});

test('the account is named after the failing provider, else the one the request named, else generically', () => {
  const revoked = 'Refreshing failed.';
  assert.equal(answer('AUTH_REVOKED', revoked, { provider: 'apple', fallback: 'google' })[2], 'Refreshing failed; the iCloud account needs to be reconnected');
  assert.equal(answer('AUTH_REVOKED', revoked, { fallback: 'caldav' })[2], 'Refreshing failed; the CalDAV account needs to be reconnected');
  assert.equal(answer('AUTH_REVOKED', revoked)[2], 'Refreshing failed; the calendar account needs to be reconnected');
  for (const code of ['AUTH_REVOKED', 'INSUFFICIENT_SCOPE', 'TEMPORARY', 'CONFLICT', 'RATE_LIMITED'] as const) {
    const message = answer(code, 'The provider said no', { fallback: 'google' })[2];
    assert.doesNotMatch(message, /\b(\w+) \1\b/i, `no doubled word in ${message}`);
  }
  const limited = providerErrorToHttp(new ProviderError('RATE_LIMITED', 'x', { retryAfterMs: 61_000 }));
  assert.ok(limited instanceof RateLimitedError);
  assert.equal(limited.retryAfterSeconds, 61);
});
