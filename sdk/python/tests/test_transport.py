"""Timeouts, retries of idempotent calls, and uploads from a non-seekable stream."""
from __future__ import annotations

import os
import socket
import threading
import time
from typing import Iterator

import pytest

from cloudimg import Cloudimg, CloudimgConnectionError, CloudimgTimeoutError

from conftest import png_bytes


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A loopback port whose connections are accepted by the kernel but never answered."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


def test_timeout_is_configurable(silent_port: int) -> None:
    with Cloudimg(base_url=f"http://127.0.0.1:{silent_port}", key_id="ck_x", key_secret="cs_x",
                  timeout=0.3, max_retries=0) as c:
        started = time.monotonic()
        with pytest.raises(CloudimgTimeoutError):
            c.get_asset("x")
        assert time.monotonic() - started < 5


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_idempotent_calls_are_retried_with_backoff_uploads_are_not() -> None:
    with Cloudimg(base_url=f"http://127.0.0.1:{closed_port()}", key_id="ck_x", key_secret="cs_x", max_retries=2) as c:
        started = time.monotonic()
        with pytest.raises(CloudimgConnectionError):
            c.get_asset("x")
        # Two retries: 0.5 s and 1 s, each with +-25% jitter.
        assert time.monotonic() - started >= 1.1
        started = time.monotonic()
        with pytest.raises(CloudimgConnectionError):
            c.upload(b"abc")
        assert time.monotonic() - started < 1.0


def test_upload_from_a_non_seekable_stream(cli: Cloudimg) -> None:
    data = png_bytes(300, 200, compress=0)
    r, w = os.pipe()

    def feed() -> None:
        with os.fdopen(w, "wb") as out:
            for i in range(0, len(data), 4096):
                out.write(data[i:i + 4096])

    threading.Thread(target=feed, daemon=True).start()
    with os.fdopen(r, "rb", buffering=0) as stream:
        a = cli.upload(stream, filename="piped.png")
    assert a["public_id"].startswith("piped-")
    assert (a["bytes"], a["width"], a["height"]) == (len(data), 300, 200)
