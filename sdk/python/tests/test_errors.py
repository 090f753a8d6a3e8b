"""Each error class from a real server answer, with status, message, code, request id, Retry-After."""
from __future__ import annotations

import time
from typing import Dict, Iterator, List

import httpx

import pytest

from cloudimg import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    Cloudimg,
    CloudimgConnectionError,
    CloudimgError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnsupportedMediaTypeError,
)

from conftest import Server, png_bytes

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def check(e: APIStatusError, status: int, code: str) -> None:
    assert isinstance(e, CloudimgError)
    assert (e.status, e.code) == (status, code)
    assert e.error and e.error in str(e)
    assert e.request_id, "X-Request-Id is carried"
    assert e.request_id in str(e)


def test_401_for_a_bad_key(server: Server) -> None:
    with Cloudimg(base_url=server.base, key_id="ck_nope", key_secret="cs_nope") as bad:
        with pytest.raises(AuthenticationError) as e:
            bad.list_assets()
    check(e.value, 401, "unauthenticated")


def test_404_and_delete_then_404(cli: Cloudimg) -> None:
    with pytest.raises(NotFoundError) as e:
        cli.get_asset("no/such-asset")
    check(e.value, 404, "not_found")
    a = cli.upload(png_bytes(5, 5))
    assert cli.get_asset(a["public_id"])["public_id"] == a["public_id"]
    assert cli.delete_asset(a["public_id"]) is None
    with pytest.raises(NotFoundError):
        cli.get_asset(a["public_id"])
    with pytest.raises(NotFoundError):
        cli.delete_asset(a["public_id"])


def test_409_on_an_existing_public_id(cli: Cloudimg) -> None:
    cli.upload(png_bytes(5, 5), public_id="errors/taken")
    with pytest.raises(ConflictError) as e:
        cli.upload(png_bytes(5, 5), public_id="errors/taken")
    check(e.value, 409, "conflict")


def test_415_for_an_svg(cli: Cloudimg) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as e:
        cli.upload(SVG, filename="logo.svg")
    check(e.value, 415, "unsupported_media_type")


def test_400_from_the_server(cli: Cloudimg) -> None:
    with pytest.raises(BadRequestError) as e:
        cli.list_assets(limit=1000)
    check(e.value, 400, "invalid_request")
    assert "limit" in e.value.error
    with pytest.raises(BadRequestError):
        cli.upload(png_bytes(5, 5), public_id="../escape")


def test_403_signing_someone_elses_asset(server: Server, cli: Cloudimg) -> None:
    a = cli.upload(png_bytes(5, 5), visibility="private")
    server.create_user("other@sdk-test.local", "other-password-1")
    key = server.mint_key(email="other@sdk-test.local", password="other-password-1")
    with Cloudimg(base_url=server.base, **key) as other:
        with pytest.raises(PermissionDeniedError) as e:
            other.signed_url(a["public_id"])
        check(e.value, 403, "forbidden")
        with pytest.raises(PermissionDeniedError):
            other.delete_asset(a["public_id"])
    assert cli.get_asset(a["public_id"])["public_id"] == a["public_id"]


@pytest.fixture(scope="module")
def small_server() -> Iterator[Server]:
    s = Server({"IMGCLOUD_UPLOAD__MAX_BYTES": "2000"})
    yield s
    s.stop()


def test_413_over_the_upload_cap(small_server: Server) -> None:
    with small_server.client() as c:
        with pytest.raises(PayloadTooLargeError) as e:
            c.upload(png_bytes(200, 200, compress=0))
    check(e.value, 413, "too_large")


@pytest.fixture(scope="module")
def limited_server() -> Iterator[Server]:
    s = Server({"IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE": "2"})
    yield s
    s.stop()


def test_429_with_retry_after_and_no_upload_retry(limited_server: Server) -> None:
    with limited_server.client() as c:
        c.upload(png_bytes(5, 5))
        c.upload(png_bytes(5, 5))
        started = time.monotonic()
        with pytest.raises(RateLimitError) as e:
            c.upload(png_bytes(5, 5))
        check(e.value, 429, "rate_limited")
        assert e.value.retry_after is not None and e.value.retry_after >= 1
        # Opting in to upload retries still does not wait out a Retry-After beyond max_retry_wait.
        with Cloudimg(base_url=c.base_url, key_id=c.key_id, key_secret=c.key_secret, max_retry_wait=0.5) as impatient:
            with pytest.raises(RateLimitError):
                impatient.upload(png_bytes(5, 5), retry=True)
        assert time.monotonic() - started < e.value.retry_after


@pytest.fixture(scope="module")
def per_second_server() -> Iterator[Server]:
    s = Server({"IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE": "60"})
    yield s
    s.stop()


def test_upload_retry_honours_retry_after_when_opted_in(per_second_server: Server) -> None:
    statuses: List[int] = []
    http = httpx.Client(timeout=30, event_hooks={"response": [lambda r: statuses.append(r.status_code)]})
    key = per_second_server.mint_key()
    with http, Cloudimg(base_url=per_second_server.base, max_retries=3, http_client=http, **key) as c:
        data = png_bytes(5, 5)
        # The retried call could meet a token refilled in between; try again until a retry happened.
        for round_ in range(3):
            limited = None
            for _ in range(300):
                try:
                    c.upload(data)
                except RateLimitError as e:
                    limited = e
                    break
            assert limited is not None, "the upload limit never answered 429"
            assert limited.retry_after is not None and limited.retry_after <= 2
            statuses.clear()
            started = time.monotonic()
            a = c.upload(data, retry=True, public_id=f"retried/upload-{round_}")
            assert a["public_id"] == f"retried/upload-{round_}"
            if statuses[0] == 429:
                break
        assert statuses[0] == 429 and statuses[-1] == 201, statuses
        assert time.monotonic() - started >= 0.5, "the retry waited for Retry-After"


def test_connection_error_when_nothing_listens() -> None:
    with Cloudimg(base_url="http://127.0.0.1:9", key_id="ck_x", key_secret="cs_x", max_retries=0) as c:
        with pytest.raises(CloudimgConnectionError):
            c.get_asset("x")


def test_missing_configuration_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDIMG_BASE_URL", "CLOUDIMG_KEY_ID", "CLOUDIMG_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CloudimgError, match="CLOUDIMG_BASE_URL"):
        Cloudimg()
    with pytest.raises(CloudimgError, match="CLOUDIMG_KEY_ID"):
        Cloudimg(base_url="http://127.0.0.1:9").get_asset("x")


def test_environment_fallback(server: Server, api_key: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDIMG_BASE_URL", server.base)
    monkeypatch.setenv("CLOUDIMG_KEY_ID", api_key["key_id"])
    monkeypatch.setenv("CLOUDIMG_KEY_SECRET", api_key["key_secret"])
    with Cloudimg() as c:
        assert c.base_url == server.base
        assert "asset_count" in c.usage()
        assert api_key["key_secret"] not in repr(c)
