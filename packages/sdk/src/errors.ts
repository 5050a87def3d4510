// Typed errors. Class names and `code` strings match Mobiscroll's Node SDK so that
// `instanceof` checks and `error.code` comparisons in existing integrations keep
// working; on top of that every HTTP error carries the status, the server's own
// error code and the request id, which is what a support ticket needs.

/** Everything an error learned from the HTTP exchange. */
export interface ErrorContext {
  /** HTTP status, when a response arrived. */
  status?: number;
  /** The server's `error` field, e.g. `invalid_grant` or `Unauthorized`. */
  errorCode?: string;
  /** The `x-request-id` response header. */
  requestId?: string;
  /** The parsed response body (JSON, or text when it was not JSON). */
  body?: unknown;
  method?: string;
  url?: string;
  cause?: unknown;
}

/** Base class of every error the SDK throws (exported as `MobiscrollConnectError` too). */
export class AlmanacError extends Error {
  /** SDK-level category, e.g. `VALIDATION_ERROR` (same strings as Mobiscroll's SDK). */
  readonly code: string;
  readonly status?: number;
  readonly errorCode?: string;
  readonly requestId?: string;
  readonly body?: unknown;
  readonly method?: string;
  readonly url?: string;

  constructor(message: string, code = 'API_ERROR', context: ErrorContext = {}) {
    // `cause` goes through the standard option so runtimes print it in stack traces.
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = context.status;
    this.errorCode = context.errorCode;
    this.requestId = context.requestId;
    this.body = context.body;
    this.method = context.method;
    this.url = context.url;
  }
}

/** 401 or 403: missing, expired or revoked token that could not be refreshed, or a forbidden scope. */
export class AuthenticationError extends AlmanacError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, 'AUTHENTICATION_ERROR', context);
  }
}

/** 400 or 422: the request was malformed. `details` holds field-level information when sent. */
export class ValidationError extends AlmanacError {
  readonly details?: unknown;

  constructor(message: string, details?: unknown, context: ErrorContext = {}) {
    super(message, 'VALIDATION_ERROR', context);
    this.details = details;
  }
}

/** 404: unknown calendar or event. */
export class NotFoundError extends AlmanacError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, 'NOT_FOUND_ERROR', context);
  }
}

/** 409. Mobiscroll's SDK has no class for it; this one still extends the base class. */
export class ConflictError extends AlmanacError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, 'CONFLICT_ERROR', context);
  }
}

/** 429. `retryAfter` is in seconds (from the `Retry-After` header, either form). */
export class RateLimitError extends AlmanacError {
  readonly retryAfter?: number;

  constructor(message: string, retryAfter?: number, context: ErrorContext = {}) {
    super(message, 'RATE_LIMIT_ERROR', context);
    this.retryAfter = retryAfter;
  }
}

/** Any 5xx. `status` tells 500 (Almanac) from 502 (a provider failed) and 503. */
export class ServerError extends AlmanacError {
  declare readonly status: number;

  constructor(message: string, status: number, context: ErrorContext = {}) {
    super(message, 'SERVER_ERROR', { ...context, status });
  }
}

/** No HTTP response: DNS, refused or reset connection, TLS failure. */
export class NetworkError extends AlmanacError {
  constructor(message: string, context: ErrorContext = {}, code = 'NETWORK_ERROR') {
    super(message, code, context);
  }
}

/** The per-attempt timeout elapsed. A NetworkError, because that is what it was to Mobiscroll's SDK. */
export class TimeoutError extends NetworkError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number, context: ErrorContext = {}) {
    super(`Request timed out after ${timeoutMs} ms`, context, 'TIMEOUT_ERROR');
    this.timeoutMs = timeoutMs;
  }
}

/** Reads the human sentence out of either error body shape (API or RFC 6749). */
function messageOf(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['message', 'error_description', 'error']) {
      const value = b[key];
      if (typeof value === 'string' && value) return value;
    }
  }
  if (typeof body === 'string' && body.trim() && body.length <= 500) return body.trim();
  return `Request failed with status ${status}`;
}

/**
 * Maps a non-2xx response to its error class. `retryAfterSeconds` is parsed by the
 * transport because it needs the (injectable) clock for the HTTP-date form.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  context: Omit<ErrorContext, 'status' | 'errorCode' | 'body'>,
  retryAfterSeconds?: number,
): AlmanacError {
  const errorField =
    body && typeof body === 'object' ? (body as Record<string, unknown>).error : undefined;
  const full: ErrorContext = {
    ...context,
    status,
    body,
    errorCode: typeof errorField === 'string' ? errorField : undefined,
  };
  const message = messageOf(body, status);

  if (status === 401 || status === 403) return new AuthenticationError(message, full);
  if (status === 400 || status === 422) {
    const details =
      body && typeof body === 'object' ? (body as Record<string, unknown>).details : undefined;
    return new ValidationError(message, details, full);
  }
  if (status === 404) return new NotFoundError(message, full);
  if (status === 409) return new ConflictError(message, full);
  if (status === 429) return new RateLimitError(message, retryAfterSeconds, full);
  if (status >= 500 && status <= 599) return new ServerError(message, status, full);
  return new AlmanacError(message, 'API_ERROR', full);
}
