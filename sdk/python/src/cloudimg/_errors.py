"""Exceptions. Everything the SDK raises is a CloudimgError.

CloudimgError
├── TransformError (also a ValueError)      invalid transform, caught before any request
├── CloudimgConnectionError                 the server could not be reached
│   └── CloudimgTimeoutError                no answer within the configured timeout
└── APIStatusError                          the server answered 4xx/5xx
    ├── BadRequestError (400)    ├── AuthenticationError (401)   ├── PermissionDeniedError (403)
    ├── NotFoundError (404)      ├── ConflictError (409)         ├── PayloadTooLargeError (413)
    ├── UnsupportedMediaTypeError (415)                          ├── RateLimitError (429)
    └── ServerError (5xx)
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type


class CloudimgError(Exception):
    """Base class of every error the SDK raises."""


class TransformError(CloudimgError, ValueError):
    """A transform the server would refuse. `key` names the offending key (None for an empty item)."""

    def __init__(self, key: Optional[str], message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class CloudimgConnectionError(CloudimgError):
    """The request did not get an HTTP answer (refused connection, reset, DNS)."""


class CloudimgTimeoutError(CloudimgConnectionError):
    """The request timed out."""


class APIStatusError(CloudimgError):
    """The server answered with an error status.

    Attributes: status (int), error (the server's message), code (its stable code, e.g.
    "not_found"), request_id (the X-Request-Id header), retry_after (seconds, from Retry-After,
    or None), body (the decoded JSON body, or the raw text).
    """

    def __init__(
        self,
        status: int,
        error: str,
        code: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        body: Any = None,
    ) -> None:
        detail = f"{status} {code}: {error}" if code else f"{status}: {error}"
        if request_id:
            detail += f" (request id {request_id})"
        super().__init__(detail)
        self.status = status
        self.error = error
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body

    @property
    def message(self) -> str:
        return self.error


class BadRequestError(APIStatusError):
    """400: malformed request, invalid transform or public_id."""


class AuthenticationError(APIStatusError):
    """401: missing or invalid credentials."""


class PermissionDeniedError(APIStatusError):
    """403: authenticated but not allowed (or a bad signature)."""


class NotFoundError(APIStatusError):
    """404: no such asset or route."""


class ConflictError(APIStatusError):
    """409: the public_id exists (pass overwrite=True)."""


class PayloadTooLargeError(APIStatusError):
    """413: the upload is over the size or pixel cap."""


class UnsupportedMediaTypeError(APIStatusError):
    """415: not an image the server accepts (SVG, unknown bytes)."""


class RateLimitError(APIStatusError):
    """429: rate-limited; `retry_after` says when to try again."""


class ServerError(APIStatusError):
    """5xx: the server failed or is overloaded (503 carries `retry_after`)."""


_BY_STATUS: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
}


def error_class(status: int) -> Type[APIStatusError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIStatusError)
