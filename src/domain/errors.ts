/**
 * Errors with stable codes. Route code throws these; one error handler turns them
 * into the wire bodies of API.md. `message` is always safe to show to the caller;
 * the `cause` is kept for logs only.
 */

export class AppError extends Error {
  constructor(
    /** HTTP status. */
    readonly status: number,
    /** The `error` field of the body: a short code or phrase. */
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'invalid_request', message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid bearer access token is required') {
    super(401, 'Unauthorized', message);
  }
}

/** The exact body API.md fixes for writes under a read-only scope. */
export class WriteForbiddenError extends AppError {
  constructor() {
    super(401, 'Unauthorized', 'Write access denied for current scope');
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'rate_limited', message);
  }
}

export class ProviderFailureError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(502, 'provider_error', message, undefined, options);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'unavailable', message);
  }
}

/** RFC 6749 §5.2 errors of the OAuth endpoints: `{ error, error_description }`. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_response_type'
  | 'access_denied'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.name = 'OAuthError';
  }
}
