/**
 * The one place where CalDAV failures become ProviderError codes. Messages stay
 * generic: they may reach the application, so they never echo server bodies.
 */
import { BlockedAddressError, RefusedUrlError, TooManyRedirectsError } from '../../http/guarded-fetch.js';
import { formatBytes, ProviderError, ResponseTooLargeError } from '../types.js';
import { DavHttpError } from './dav-client.js';
import { DavXmlError } from './dav-xml.js';
import { IcsError } from './calendar-object.js';

const WRITE_METHODS = new Set(['PUT', 'DELETE', 'MKCALENDAR']);

function fromHttp(err: DavHttpError): ProviderError {
  const { status, method, conditions, retryAfterMs } = err;
  const options = { cause: err, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  // RFC 4791 §5.3.2.1 preconditions say more than the status that carries them (often 403).
  if (conditions.includes('no-uid-conflict')) {
    return new ProviderError('CONFLICT', 'An event with this UID already exists in the calendar', options);
  }
  if (conditions.some((c) => /^(valid|supported|max|min)-/.test(c))) {
    return new ProviderError('INVALID_INPUT', 'The CalDAV server refused the event data', options);
  }
  if (status === 401) return new ProviderError('AUTH_REVOKED', 'The CalDAV server rejected the stored credentials', options);
  if (status === 403) {
    // Basic credentials carry no scopes: a refused write means the account may not write there.
    if (WRITE_METHODS.has(method)) return new ProviderError('READ_ONLY', 'The CalDAV server does not let this account change the calendar', options);
    if (conditions.includes('need-privileges')) {
      return new ProviderError('INSUFFICIENT_SCOPE', 'The CalDAV server does not let this account read this', options);
    }
    return new ProviderError('AUTH_REVOKED', 'The CalDAV server refused access with the stored credentials', options);
  }
  if (status === 404 || status === 410) return new ProviderError('NOT_FOUND', 'The calendar or event does not exist', options);
  if (status === 412) {
    return new ProviderError('CONFLICT', 'The event was changed or created by someone else in the meantime', options);
  }
  if (status === 409) return new ProviderError('CONFLICT', 'The server reported a conflict', options);
  if (status === 429) return new ProviderError('RATE_LIMITED', 'The CalDAV server is rate limiting requests', options);
  if (status === 400 || status === 415 || status === 422) {
    return new ProviderError('INVALID_INPUT', 'The CalDAV server refused the event data', options);
  }
  if (status === 507) return new ProviderError('UNKNOWN', 'The CalDAV server is out of storage', options);
  if (status >= 500) return new ProviderError('TEMPORARY', `The CalDAV server failed (HTTP ${status})`, options);
  return new ProviderError('UNKNOWN', `Unexpected HTTP ${status} from the CalDAV server`, options);
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/**
 * @param signal the caller's own signal: when it was aborted, the abort is the
 *   caller's doing and leaves unchanged rather than as a provider failure.
 */
export function mapCaldavError(err: unknown, signal?: AbortSignal): unknown {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted) return err;
  if (err instanceof DavHttpError) return fromHttp(err);
  if (err instanceof DavXmlError) return new ProviderError('UNKNOWN', `Unusable CalDAV answer: ${err.message}`, { cause: err });
  if (err instanceof IcsError) return new ProviderError('UNKNOWN', `Unusable calendar data: ${err.message}`, { cause: err });
  if (err instanceof BlockedAddressError || err instanceof RefusedUrlError) {
    return new ProviderError('UNKNOWN', err.message, { cause: err });
  }
  if (err instanceof ResponseTooLargeError) {
    return new ProviderError('UNKNOWN', `The CalDAV server's answer was larger than the ${formatBytes(err.limitBytes)} limit`, { cause: err });
  }
  if (err instanceof TooManyRedirectsError) return new ProviderError('UNKNOWN', 'The CalDAV server redirects in a loop', { cause: err });
  if (isAbort(err)) return new ProviderError('TEMPORARY', 'The CalDAV server did not answer in time', { cause: err });
  if (err instanceof TypeError) return new ProviderError('TEMPORARY', 'The CalDAV server could not be reached', { cause: err });
  return new ProviderError('UNKNOWN', 'Unexpected failure talking to the CalDAV server', { cause: err });
}
