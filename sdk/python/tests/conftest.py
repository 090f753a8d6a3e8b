"""Test harness: the real imgcloud binary on a free port with a temporary data directory.

Started as tests/api/helpers.rs does: environment cleared except PATH, IMGCLOUD_LISTEN=127.0.0.1:0,
a fresh IMGCLOUD_DATA_DIR, a first admin from IMGCLOUD_ADMIN_EMAIL/PASSWORD, bcrypt cost 4, cwd the
temporary directory; the base URL is read from the "listening on http://ADDR" line. The binary is
$IMGCLOUD_BIN, else <repo>/target/debug/imgcloud, else <repo>/target/release/imgcloud.
"""
from __future__ import annotations

import os
import queue
import struct
import subprocess
import tempfile
import threading
import zlib
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import httpx
import pytest

from cloudimg import Cloudimg

SDK_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = SDK_DIR.parents[1]
VECTORS_DIR = REPO_ROOT / "tests" / "vectors"
ADMIN_EMAIL = "admin@sdk-test.local"
ADMIN_PASSWORD = "admin-password-1"


def server_binary() -> Path:
    candidates = [os.environ.get("IMGCLOUD_BIN", "")]
    candidates += [str(REPO_ROOT / "target" / "debug" / "imgcloud"), str(REPO_ROOT / "target" / "release" / "imgcloud")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return Path(c)
    raise RuntimeError(
        "imgcloud binary not found: set IMGCLOUD_BIN or build it (cargo build) so that "
        f"{REPO_ROOT}/target/debug/imgcloud exists"
    )


class Server:
    """One running imgcloud process; `stop()` kills it and removes its data directory."""

    def __init__(self, extra_env: Optional[Dict[str, str]] = None) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="cloudimg-sdk-")
        self.dir = Path(self.tmp.name)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "IMGCLOUD_LISTEN": "127.0.0.1:0",
            "IMGCLOUD_DATA_DIR": str(self.dir / "data"),
            "IMGCLOUD_ADMIN_EMAIL": ADMIN_EMAIL,
            "IMGCLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "IMGCLOUD_AUTH__BCRYPT_COST": "4",
        }
        env.update(extra_env or {})
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [str(server_binary()), "serve"], env=env, cwd=self.dir,
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
        )
        lines: "queue.Queue[str]" = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                lines.put(raw.decode("utf-8", "replace"))

        threading.Thread(target=pump, daemon=True).start()
        self.base = ""
        try:
            while not self.base:
                line = lines.get(timeout=60)
                marker = "listening on http://"
                if marker in line and not line.startswith("metrics"):
                    self.base = "http://" + line.split(marker, 1)[1].split()[0]
        except queue.Empty:
            self.stop()
            raise RuntimeError("imgcloud did not start: " + (self.dir / "server.log").read_text(errors="replace"))

    def mint_key(self, name: str = "sdk-tests", email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> Dict[str, str]:
        with httpx.Client(base_url=self.base) as http:
            r = http.post("/v1/auth/login", json={"email": email, "password": password})
            assert r.status_code == 200, r.text
            r = http.post("/v1/api-keys", json={"name": name})
            assert r.status_code in (200, 201), r.text
            body = r.json()
            return {"key_id": body["key_id"], "key_secret": body["key_secret"]}

    def create_user(self, email: str, password: str) -> None:
        with httpx.Client(base_url=self.base) as http:
            r = http.post("/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert r.status_code == 200, r.text
            r = http.post("/v1/users", json={"email": email, "password": password, "role": "user"})
            assert r.status_code in (200, 201), r.text

    def client(self, **kwargs: object) -> Cloudimg:
        key = self.mint_key()
        return Cloudimg(base_url=self.base, key_id=key["key_id"], key_secret=key["key_secret"], **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.tmp.cleanup()


def png_bytes(w: int, h: int, compress: int = 6) -> bytes:
    """A valid RGB PNG with a gradient, built with zlib alone."""
    row_cache: List[bytes] = []
    for y in range(h):
        row_cache.append(b"\x00" + bytes(((x * 7 + y * 3) % 256 for x in range(w * 3))))
    raw = b"".join(row_cache)

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, compress))
        + chunk(b"IEND", b"")
    )


def write_big_png(path: Path, w: int, h: int) -> None:
    """An uncompressed (stored deflate) PNG written row block by row block: about w*h*3 bytes."""
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        comp = zlib.compressobj(0)
        row = b"\x00" + bytes((x * 13) % 256 for x in range(w * 3))
        block = row * 64
        y = 0
        while y < h:
            n = min(64, h - y)
            data = comp.compress(block if n == 64 else row * n)
            if data:
                f.write(chunk(b"IDAT", data))
            y += n
        f.write(chunk(b"IDAT", comp.flush()))
        f.write(chunk(b"IEND", b""))


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def api_key(server: Server) -> Dict[str, str]:
    return server.mint_key()


@pytest.fixture()
def cli(server: Server, api_key: Dict[str, str]) -> Iterator[Cloudimg]:
    with Cloudimg(base_url=server.base, key_id=api_key["key_id"], key_secret=api_key["key_secret"]) as c:
        yield c


@pytest.fixture(scope="session")
def photo_jpg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real JPEG, made from a generated PNG by the server binary's own `render` command."""
    d = tmp_path_factory.mktemp("photo")
    (d / "in.png").write_bytes(png_bytes(64, 48))
    out = d / "photo.jpg"
    subprocess.run([str(server_binary()), "render", str(d / "in.png"), "f_jpg", str(out)], check=True,
                   capture_output=True, env={"PATH": os.environ.get("PATH", "")})
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    return out
