/** Google retries with the shared backoff arithmetic. */
export { fullJitterDelayMs, parseRetryAfterMs, sleep } from '../backoff.js';
