"""img-cloud SDK: `from cloudimg import Cloudimg`.

Distributed as `imgcloud-sdk` (the name `cloudimg` on the public index is an unrelated project).
"""
from ._base import __version__
from ._client import AsyncCloudimg, Cloudimg
from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CloudimgConnectionError,
    CloudimgError,
    CloudimgTimeoutError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransformError,
    UnsupportedMediaTypeError,
)
from ._transform import canonical_transform
from ._types import Asset, AssetPage, TransformParams, Usage, Visibility

__all__ = [
    "__version__",
    "Cloudimg",
    "AsyncCloudimg",
    "canonical_transform",
    "Asset",
    "AssetPage",
    "Usage",
    "TransformParams",
    "Visibility",
    "CloudimgError",
    "TransformError",
    "CloudimgConnectionError",
    "CloudimgTimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "RateLimitError",
    "ServerError",
]
