/** The failure policy: who must reconnect, what stops a sync pass, when a failed sync runs again. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failurePolicy, REAUTH_RECHECK_MS, retryDelayMs } from '../../src/application/provider-failure-policy.js';
import { ProviderError } from '../../src/providers/types.js';

test('revoked credentials need a reconnect and stop the pass; a calendar-local failure does not', () => {
  assert.deepEqual(failurePolicy(new ProviderError('AUTH_REVOKED', 'x')), { needsReconnect: true, scope: 'account' });
  assert.equal(failurePolicy(new ProviderError('RATE_LIMITED', 'x')).scope, 'account');
  assert.equal(failurePolicy(new ProviderError('INSUFFICIENT_SCOPE', 'x')).scope, 'account');
  for (const code of ['TEMPORARY', 'NOT_FOUND', 'READ_ONLY', 'UNKNOWN'] as const) {
    assert.deepEqual(failurePolicy(new ProviderError(code, 'x')), { needsReconnect: false, scope: 'calendar' }, code);
  }
  // Our own faults are not blamed on a calendar.
  assert.equal(failurePolicy(new TypeError('bug')).scope, 'account');
});

test('retries back off exponentially with jitter, capped, and never sooner than Retry-After', () => {
  const temporary = new ProviderError('TEMPORARY', 'x');
  assert.equal(retryDelayMs(temporary, 0, () => 0), 2_500);
  assert.equal(retryDelayMs(temporary, 0, () => 1), 5_000);
  assert.equal(retryDelayMs(temporary, 3, () => 1), 40_000);
  assert.equal(retryDelayMs(temporary, 50, () => 1), 30 * 60_000);
  const limited = new ProviderError('RATE_LIMITED', 'x', { retryAfterMs: 120_000 });
  assert.equal(retryDelayMs(limited, 0, () => 0.5), 120_000);
  assert.equal(retryDelayMs(new ProviderError('AUTH_REVOKED', 'x'), 0), REAUTH_RECHECK_MS);
});
