'use strict';

/** Base class of every error the SDK raises for a server answer, a timeout or a failed connection. */
class CloudimgError extends Error {
  constructor(message, opts = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    /** HTTP status, or undefined when no answer came (timeout, connection). */
    this.status = opts.status;
    /** Stable machine code from the server's `code` field, when it sent one. */
    this.code = opts.code;
    /** The server's X-Request-Id, to quote in bug reports. */
    this.requestId = opts.requestId;
    /** Seconds the server asked us to wait (Retry-After), on 429/503. */
    this.retryAfter = opts.retryAfter;
    /** The parsed JSON error body, when there was one. */
    this.body = opts.body;
  }
}
class BadRequestError extends CloudimgError {}
class AuthenticationError extends CloudimgError {}
class PermissionDeniedError extends CloudimgError {}
class NotFoundError extends CloudimgError {}
class ConflictError extends CloudimgError {}
class PayloadTooLargeError extends CloudimgError {}
class UnsupportedMediaTypeError extends CloudimgError {}
class RateLimitError extends CloudimgError {}
class ServerError extends CloudimgError {}
class ServiceUnavailableError extends ServerError {}
/** No answer in time (the client's `timeout`). */
class TimeoutError extends CloudimgError {}
/** The connection failed before any answer (refused, reset, DNS). */
class ConnectionError extends CloudimgError {}

function errorClassFor(status) {
  switch (status) {
    case 400: return BadRequestError;
    case 401: return AuthenticationError;
    case 403: return PermissionDeniedError;
    case 404: return NotFoundError;
    case 409: return ConflictError;
    case 413: return PayloadTooLargeError;
    case 415: return UnsupportedMediaTypeError;
    case 429: return RateLimitError;
    case 503: return ServiceUnavailableError;
    default: return status >= 500 ? ServerError : CloudimgError;
  }
}

module.exports = {
  CloudimgError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError,
  ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError, RateLimitError, ServerError,
  ServiceUnavailableError, TimeoutError, ConnectionError, errorClassFor,
};
