"""Cloudimg (blocking) and AsyncCloudimg (asyncio): the same calls, built once in _base."""
from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import IO, Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Tuple, Type, Union

import httpx

from ._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    BaseClient,
    Call,
    FileInput,
    Tags,
    list_filters,
    raise_for_status,
)
from ._errors import APIStatusError, CloudimgConnectionError, CloudimgError, CloudimgTimeoutError
from ._types import Asset, AssetPage, Usage, Visibility


def _request_args(client: BaseClient, call: Call) -> Tuple[Dict[str, Any], Optional[IO[bytes]], bool]:
    stream: Optional[IO[bytes]] = None
    owned = False
    kwargs: Dict[str, Any] = {
        "method": call.method,
        "url": client.base_url + call.path,
        "params": call.params,
        "json": call.json,
        "data": call.data,
        "headers": client._headers(),
    }
    if call.file is not None:
        stream, owned = call.file.open()
        kwargs["files"] = {"file": (call.file.filename, stream, "application/octet-stream")}
    return kwargs, stream, owned


def _transport_error(e: httpx.TransportError) -> CloudimgError:
    if isinstance(e, httpx.TimeoutException):
        return CloudimgTimeoutError(f"request timed out: {e}")
    return CloudimgConnectionError(f"could not reach the server: {e}")


class Cloudimg(BaseClient):
    """Blocking client.

    >>> cli = Cloudimg(base_url="https://img-cloud.org", key_id="ck_...", key_secret="cs_...")

    base_url, key_id and key_secret fall back to CLOUDIMG_BASE_URL, CLOUDIMG_KEY_ID and
    CLOUDIMG_KEY_SECRET. `timeout` (seconds or an httpx.Timeout) applies to every request.
    429 and 503 answers are retried up to `max_retries` times, waiting Retry-After when the
    server sent one (up to `max_retry_wait` seconds) and an exponential backoff otherwise;
    only for idempotent calls: uploads are retried only with `retry_uploads=True` or
    `upload(..., retry=True)`, and only when their bytes can be sent again.
    """

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
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        super().__init__(
            base_url, key_id, key_secret, timeout=timeout, max_retries=max_retries,
            max_retry_wait=max_retry_wait, retry_uploads=retry_uploads,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "Cloudimg":
        return self

    def __exit__(
        self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def _send(self, call: Call) -> Any:
        attempt = 0
        while True:
            kwargs, stream, owned = _request_args(self, call)
            try:
                response = self._http.request(**kwargs)
                raise_for_status(response)
                return call.parse(response)
            except APIStatusError as e:
                error: CloudimgError = e
            except httpx.TransportError as e:
                error = _transport_error(e)
            finally:
                if owned and stream is not None:
                    stream.close()
            delay = self._retry_delay(call, attempt, error)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1

    def upload(
        self,
        file: FileInput,
        *,
        public_id: Optional[str] = None,
        folder: Optional[str] = None,
        tags: Optional[Tags] = None,
        visibility: Optional[Visibility] = None,
        overwrite: bool = False,
        filename: Optional[str] = None,
        retry: Optional[bool] = None,
    ) -> Asset:
        """Uploads a path, bytes or a binary file object (streamed, never read whole); returns the asset."""
        call = self._upload_call(
            file, public_id=public_id, folder=folder, tags=tags, visibility=visibility,
            overwrite=overwrite, filename=filename, retry=retry,
        )
        result: Asset = self._send(call)
        return result

    def get_asset(self, public_id: str) -> Asset:
        result: Asset = self._send(self._get_asset_call(public_id))
        return result

    def update_asset(
        self,
        public_id: str,
        *,
        tags: Optional[Tags] = None,
        folder: Optional[str] = None,
        visibility: Optional[Visibility] = None,
    ) -> Asset:
        """Changes only what is passed; tags as a list or a comma string replace the asset's tags."""
        result: Asset = self._send(
            self._update_asset_call(public_id, tags=tags, folder=folder, visibility=visibility)
        )
        return result

    def delete_asset(self, public_id: str) -> None:
        self._send(self._delete_asset_call(public_id))

    def list_assets(
        self,
        *,
        folder: Optional[str] = None,
        folder_prefix: Optional[str] = None,
        tags: Optional[Tags] = None,
        prefix: Optional[str] = None,
        visibility: Optional[Visibility] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        **extra: Any,
    ) -> AssetPage:
        """One page: {"assets": [...], "next_cursor": str or None}. `tags` means "has all of them"."""
        filters = list_filters(folder, folder_prefix, tags, prefix, visibility, limit, cursor, extra)
        result: AssetPage = self._send(self._list_assets_call(filters))
        return result

    def iter_assets(
        self,
        *,
        folder: Optional[str] = None,
        folder_prefix: Optional[str] = None,
        tags: Optional[Tags] = None,
        prefix: Optional[str] = None,
        visibility: Optional[Visibility] = None,
        limit: Optional[int] = None,
        **extra: Any,
    ) -> Iterator[Asset]:
        """Every matching asset, page after page (`limit` is the page size)."""
        cursor: Optional[str] = None
        while True:
            page = self.list_assets(
                folder=folder, folder_prefix=folder_prefix, tags=tags, prefix=prefix,
                visibility=visibility, limit=limit, cursor=cursor, **extra,
            )
            yield from page["assets"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def signed_url(
        self,
        public_id: str,
        transform: Union[str, Mapping[str, Any], None] = None,
        ttl_seconds: Optional[int] = None,
    ) -> str:
        """A time-limited signed delivery URL (the transform as a string or a mapping)."""
        result: Dict[str, Any] = self._send(self._sign_call(public_id, transform, ttl_seconds))
        return str(result["url"])

    def usage(self, *, all: bool = False) -> Usage:
        """Storage, asset count and delivered bandwidth; `all=True` (admins) for every user."""
        result: Usage = self._send(self._usage_call(all))
        return result


class AsyncCloudimg(BaseClient):
    """The asyncio twin of Cloudimg: the same arguments and methods, awaited."""

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
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        super().__init__(
            base_url, key_id, key_secret, timeout=timeout, max_retries=max_retries,
            max_retry_wait=max_retry_wait, retry_uploads=retry_uploads,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncCloudimg":
        return self

    async def __aexit__(
        self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> Any:
        attempt = 0
        while True:
            kwargs, stream, owned = _request_args(self, call)
            try:
                response = await self._http.request(**kwargs)
                raise_for_status(response)
                return call.parse(response)
            except APIStatusError as e:
                error: CloudimgError = e
            except httpx.TransportError as e:
                error = _transport_error(e)
            finally:
                if owned and stream is not None:
                    stream.close()
            delay = self._retry_delay(call, attempt, error)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            attempt += 1

    async def upload(
        self,
        file: FileInput,
        *,
        public_id: Optional[str] = None,
        folder: Optional[str] = None,
        tags: Optional[Tags] = None,
        visibility: Optional[Visibility] = None,
        overwrite: bool = False,
        filename: Optional[str] = None,
        retry: Optional[bool] = None,
    ) -> Asset:
        call = self._upload_call(
            file, public_id=public_id, folder=folder, tags=tags, visibility=visibility,
            overwrite=overwrite, filename=filename, retry=retry,
        )
        result: Asset = await self._send(call)
        return result

    async def get_asset(self, public_id: str) -> Asset:
        result: Asset = await self._send(self._get_asset_call(public_id))
        return result

    async def update_asset(
        self,
        public_id: str,
        *,
        tags: Optional[Tags] = None,
        folder: Optional[str] = None,
        visibility: Optional[Visibility] = None,
    ) -> Asset:
        result: Asset = await self._send(
            self._update_asset_call(public_id, tags=tags, folder=folder, visibility=visibility)
        )
        return result

    async def delete_asset(self, public_id: str) -> None:
        await self._send(self._delete_asset_call(public_id))

    async def list_assets(
        self,
        *,
        folder: Optional[str] = None,
        folder_prefix: Optional[str] = None,
        tags: Optional[Tags] = None,
        prefix: Optional[str] = None,
        visibility: Optional[Visibility] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        **extra: Any,
    ) -> AssetPage:
        filters = list_filters(folder, folder_prefix, tags, prefix, visibility, limit, cursor, extra)
        result: AssetPage = await self._send(self._list_assets_call(filters))
        return result

    async def iter_assets(
        self,
        *,
        folder: Optional[str] = None,
        folder_prefix: Optional[str] = None,
        tags: Optional[Tags] = None,
        prefix: Optional[str] = None,
        visibility: Optional[Visibility] = None,
        limit: Optional[int] = None,
        **extra: Any,
    ) -> AsyncIterator[Asset]:
        cursor: Optional[str] = None
        while True:
            page = await self.list_assets(
                folder=folder, folder_prefix=folder_prefix, tags=tags, prefix=prefix,
                visibility=visibility, limit=limit, cursor=cursor, **extra,
            )
            for asset in page["assets"]:
                yield asset
            cursor = page["next_cursor"]
            if not cursor:
                return

    async def signed_url(
        self,
        public_id: str,
        transform: Union[str, Mapping[str, Any], None] = None,
        ttl_seconds: Optional[int] = None,
    ) -> str:
        result: Dict[str, Any] = await self._send(self._sign_call(public_id, transform, ttl_seconds))
        return str(result["url"])

    async def usage(self, *, all: bool = False) -> Usage:
        result: Usage = await self._send(self._usage_call(all))
        return result
