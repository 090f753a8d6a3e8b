"""What the sync and async clients share: configuration, request building, answers and retries.

Each API call is built once here as a `Call` (method, path, query, JSON or form, whether it may
be retried, how to turn the answer into the result). `Cloudimg` and `AsyncCloudimg` only send
it, with time.sleep or asyncio.sleep between attempts.
"""
from __future__ import annotations

import io
import os
import random
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

import httpx

from ._errors import APIStatusError, CloudimgError, error_class
from ._transform import canonical_transform
from ._types import TransformParams, Visibility

if TYPE_CHECKING:
    import sys

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__version__ = "0.1.0"

# What upload() takes: a path, the bytes themselves, or a binary file object (streamed).
FileInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
Tags = Union[str, Sequence[str]]

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
# A Retry-After longer than this is not waited out; the error goes to the caller with retry_after.
DEFAULT_MAX_RETRY_WAIT = 60.0
RETRY_STATUSES = (429, 503)


@dataclass
class Call:
    method: str
    path: str
    params: Optional[Dict[str, str]] = None
    json: Optional[Dict[str, Any]] = None
    data: Optional[Dict[str, str]] = None
    file: Optional["UploadFile"] = None
    idempotent: bool = True
    parse: Callable[[httpx.Response], Any] = field(default=lambda r: r.json())


@dataclass
class UploadFile:
    """The file part of an upload. `open()` gives a fresh stream for each attempt."""

    filename: str
    source: FileInput
    start: Optional[int] = None

    @classmethod
    def of(cls, source: FileInput, filename: Optional[str]) -> "UploadFile":
        if isinstance(source, (str, os.PathLike)):
            return cls(filename or os.path.basename(os.fspath(source)), source)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls(filename or "image", source)
        if not hasattr(source, "read"):
            raise TypeError(f"upload() takes a path, bytes or a binary file object, not {type(source).__name__}")
        name = getattr(source, "name", None)
        start = None
        try:
            if source.seekable():
                start = source.tell()
        except (AttributeError, OSError, ValueError):
            start = None
        return cls(filename or (os.path.basename(name) if isinstance(name, str) else "image"), source, start)

    @property
    def replayable(self) -> bool:
        """Whether a second attempt can send the same bytes again."""
        return not hasattr(self.source, "read") or self.start is not None

    def open(self) -> Tuple[IO[bytes], bool]:
        """(stream, whether the caller must close it)."""
        src = self.source
        if isinstance(src, (str, os.PathLike)):
            return open(src, "rb"), True
        if isinstance(src, (bytes, bytearray, memoryview)):
            return io.BytesIO(bytes(src)), True
        stream: IO[bytes] = src
        if self.start is not None:
            stream.seek(self.start)
        if self.start == 0:
            return stream, False
        # httpx rewinds file objects to 0 and sizes them from the file descriptor: a stream that
        # cannot seek, or one handed over mid-file, is sent from where it stands, chunked.
        return _ReadOnly(stream), False  # type: ignore[return-value]


class _ReadOnly:
    """Hides seek/tell/fileno so httpx streams from the current position without a length."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def close(self) -> None:
        pass


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def _tags(tags: Tags) -> str:
    return tags if isinstance(tags, str) else ",".join(tags)


# A first segment the server reads as a version (`v` and 1 to 18 digits), as in `v2/photo`.
_VERSION_FIRST = re.compile(r"v[0-9]{1,18}/")


def _id_path(public_id: str) -> str:
    if not isinstance(public_id, str) or not public_id:
        raise ValueError("public_id must be a non-empty string")
    return quote(public_id, safe="/")


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        import datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.datetime.now(when.tzinfo)).total_seconds())
    except (TypeError, ValueError):
        return None


def raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    body: Any
    error, code = "", None
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        error = str(body.get("error", ""))
        code = body.get("code") if isinstance(body.get("code"), str) else None
    if not error:
        error = response.reason_phrase or f"HTTP {response.status_code}"
    cls = error_class(response.status_code)
    raise cls(
        response.status_code,
        error,
        code=code,
        request_id=response.headers.get("x-request-id"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        body=body,
    )


class BaseClient:
    """Configuration and request building shared by Cloudimg and AsyncCloudimg."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        key_id: Optional[str] = None,
        key_secret: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        retry_uploads: bool = False,
    ) -> None:
        base = base_url or _env("CLOUDIMG_BASE_URL")
        if not base:
            raise CloudimgError("no base URL: pass base_url=... or set CLOUDIMG_BASE_URL")
        self.base_url = base.rstrip("/")
        self.key_id = key_id or _env("CLOUDIMG_KEY_ID")
        self.key_secret = key_secret or _env("CLOUDIMG_KEY_SECRET")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.max_retry_wait = max_retry_wait
        self.retry_uploads = retry_uploads

    def __repr__(self) -> str:  # never prints the secret
        return f"{type(self).__name__}(base_url={self.base_url!r}, key_id={self.key_id!r})"

    # -- shared plumbing -------------------------------------------------------------------

    def _headers(self) -> Dict[str, str]:
        if not self.key_id or not self.key_secret:
            raise CloudimgError(
                "no API key: pass key_id=... and key_secret=... or set CLOUDIMG_KEY_ID and CLOUDIMG_KEY_SECRET"
            )
        return {
            "Authorization": f"ApiKey {self.key_id}:{self.key_secret}",
            "Accept": "application/json",
            "User-Agent": f"cloudimg-python/{__version__}",
        }

    def _retry_delay(self, call: Call, attempt: int, error: CloudimgError) -> Optional[float]:
        """Seconds to wait before attempt `attempt + 1`, or None to give up and raise `error`."""
        if attempt >= self.max_retries:
            return None
        if not call.idempotent and not self.retry_uploads:
            return None
        if call.file is not None and not call.file.replayable:
            return None
        if isinstance(error, APIStatusError):
            if error.status not in RETRY_STATUSES:
                return None
            if error.retry_after is not None:
                return error.retry_after if error.retry_after <= self.max_retry_wait else None
        backoff: float = min(8.0, 0.5 * 2**attempt)
        return backoff * (0.75 + random.random() / 2)

    # -- URLs (no network) -----------------------------------------------------------------

    def url_for(self, public_id: str, *, version: Optional[int] = None, **transform: Unpack[TransformParams]) -> str:
        """Delivery URL with the canonical transform, e.g. `.../v1/image/w_400,h_400,c_fill/photo-3a7f`.

        `version` (the asset's `version`) gives the versioned URL `.../v1/image/w_400/v3/photo-3a7f`,
        which the server marks immutable: the one to embed behind a CDN. An id whose first segment
        reads as a version (`v2/photo`) needs it: unversioned, `/v1/image/v2/photo` would be version
        2 of an asset `photo` whenever one exists.
        Validates eagerly: raises TransformError naming the key and its allowed range, and
        ValueError for a version that is not a positive integer or is missing where needed.
        """
        t = canonical_transform(dict(transform))
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise ValueError(f"version must be a positive integer (got {version!r})")
        path = _id_path(public_id)
        if version is None and _VERSION_FIRST.match(public_id):
            raise ValueError(
                f"public_id {public_id!r} starts with a version segment: pass version= (the asset's version) for an unambiguous URL"
            )
        v = "" if version is None else f"v{version}/"
        return f"{self.base_url}/v1/image/{t + '/' if t else ''}{v}{path}"

    # -- calls -----------------------------------------------------------------------------

    def _upload_call(
        self,
        file: FileInput,
        *,
        public_id: Optional[str],
        folder: Optional[str],
        tags: Optional[Tags],
        visibility: Optional[Visibility],
        overwrite: bool,
        filename: Optional[str],
        retry: Optional[bool],
    ) -> Call:
        data: Dict[str, str] = {}
        if public_id is not None:
            data["public_id"] = public_id
        if folder is not None:
            data["folder"] = folder
        if tags is not None:
            data["tags"] = _tags(tags)
        if visibility is not None:
            data["visibility"] = visibility
        if overwrite:
            data["overwrite"] = "true"
        return Call(
            "POST",
            "/v1/upload",
            data=data,
            file=UploadFile.of(file, filename),
            idempotent=bool(retry),
        )

    def _get_asset_call(self, public_id: str) -> Call:
        return Call("GET", f"/v1/assets/{_id_path(public_id)}")

    def _update_asset_call(
        self, public_id: str, *, tags: Optional[Tags], folder: Optional[str], visibility: Optional[Visibility]
    ) -> Call:
        body: Dict[str, Any] = {}
        if tags is not None:
            body["tags"] = tags if isinstance(tags, str) else list(tags)
        if folder is not None:
            body["folder"] = folder
        if visibility is not None:
            body["visibility"] = visibility
        return Call("PATCH", f"/v1/assets/{_id_path(public_id)}", json=body)

    def _delete_asset_call(self, public_id: str) -> Call:
        return Call("DELETE", f"/v1/assets/{_id_path(public_id)}", parse=lambda r: None)

    def _list_assets_call(self, filters: Mapping[str, Any]) -> Call:
        params: Dict[str, str] = {}
        for key, value in filters.items():
            if value is None:
                continue
            if key == "tags":
                params[key] = _tags(value)
            elif isinstance(value, bool):
                params[key] = "true" if value else "false"
            else:
                params[key] = str(value)
        return Call("GET", "/v1/assets", params=params)

    def _sign_call(
        self, public_id: str, transform: Union[str, Mapping[str, Any], None], ttl_seconds: Optional[int]
    ) -> Call:
        body: Dict[str, Any] = {"public_id": public_id}
        t = canonical_transform(transform)
        if t:
            body["transform"] = t
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        return Call("POST", "/v1/image/sign", json=body)

    def _usage_call(self, all: bool) -> Call:
        return Call("GET", "/v1/usage/summary", params={"all": "true"} if all else None)


def list_filters(
    folder: Optional[str],
    folder_prefix: Optional[str],
    tags: Optional[Tags],
    prefix: Optional[str],
    visibility: Optional[Visibility],
    limit: Optional[int],
    cursor: Optional[str],
    extra: Mapping[str, Any],
) -> Dict[str, Any]:
    f: Dict[str, Any] = dict(
        folder=folder, folder_prefix=folder_prefix, tags=tags, prefix=prefix,
        visibility=visibility, limit=limit, cursor=cursor,
    )
    f.update(extra)
    return f

