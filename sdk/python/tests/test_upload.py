"""Uploads of a path, bytes and a file object; tags and folder round trips; a 40 MB streamed file."""
from __future__ import annotations

import io
import re
import tracemalloc
from pathlib import Path

import httpx

from cloudimg import Cloudimg

from conftest import png_bytes, write_big_png


def test_upload_path_str_and_pathlib(cli: Cloudimg, photo_jpg: Path) -> None:
    a = cli.upload(str(photo_jpg))
    assert re.fullmatch(r"photo-[0-9a-f]{12}", a["public_id"])
    assert a["url"] == f"{cli.base_url}/v1/image/{a['public_id']}"
    assert a["versioned_url"] == f"{cli.base_url}/v1/image/v1/{a['public_id']}"
    assert cli.url_for(a["public_id"], version=a["version"]) == a["versioned_url"]
    versioned = httpx.get(cli.url_for(a["public_id"], version=a["version"], w=32, f="png"))
    assert versioned.status_code == 200 and versioned.content[:4] == b"\x89PNG"
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (a["format"], a["width"], a["height"]) == ("jpg", 64, 48)
    assert a["bytes"] == photo_jpg.stat().st_size
    b = cli.upload(photo_jpg, public_id="paths/from-pathlib")
    assert b["public_id"] == "paths/from-pathlib"
    served = httpx.get(b["url"])
    assert served.status_code == 200 and served.content[:3] == b"\xff\xd8\xff"


def test_upload_bytes_and_file_object(cli: Cloudimg) -> None:
    data = png_bytes(30, 20)
    a = cli.upload(data, filename="Holiday Pic.png")
    assert re.fullmatch(r"holiday-pic-[0-9a-f]{12}", a["public_id"])
    assert (a["format"], a["width"], a["height"], a["bytes"]) == ("png", 30, 20, len(data))
    b = cli.upload(io.BytesIO(data), public_id="streams/bytesio")
    assert (b["public_id"], b["bytes"]) == ("streams/bytesio", len(data))
    c = cli.upload(bytearray(data), public_id="streams/bytearray")
    assert c["bytes"] == len(data)


def test_tags_folder_visibility_round_trip(cli: Cloudimg) -> None:
    a = cli.upload(png_bytes(8, 8), folder="marketing", tags=["hero", "homepage"], visibility="private")
    assert a["public_id"].startswith("marketing/")
    assert (a["folder"], sorted(a["tags"]), a["visibility"]) == ("marketing", ["hero", "homepage"], "private")
    got = cli.get_asset(a["public_id"])
    assert (got["folder"], sorted(got["tags"]), got["visibility"]) == ("marketing", ["hero", "homepage"], "private")

    u = cli.update_asset(a["public_id"], tags="archived,old", folder="archive", visibility="public")
    assert (u["folder"], sorted(u["tags"]), u["visibility"]) == ("archive", ["archived", "old"], "public")
    u = cli.update_asset(a["public_id"], tags=["one"])
    assert (u["folder"], u["tags"], u["visibility"]) == ("archive", ["one"], "public")
    assert cli.get_asset(a["public_id"])["tags"] == ["one"]

    b = cli.upload(png_bytes(8, 8), tags="x, y", folder="marketing")
    assert sorted(b["tags"]) == ["x", "y"]


def test_overwrite_replaces_and_bumps_version(cli: Cloudimg) -> None:
    a = cli.upload(png_bytes(10, 10), public_id="over/write")
    b = cli.upload(png_bytes(12, 10), public_id="over/write", overwrite=True)
    assert (a["version"], b["version"], b["width"]) == (1, 2, 12)


def test_40mb_file_object_is_streamed_with_flat_memory(cli: Cloudimg, tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    write_big_png(big, 4000, 3400)
    size = big.stat().st_size
    assert size > 40_000_000
    tracemalloc.start()
    try:
        with open(big, "rb") as f:
            a = cli.upload(f, public_id="big/streamed")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (a["bytes"], a["width"], a["height"]) == (size, 4000, 3400)
    # The whole file never sits in Python memory: the peak stays a small fraction of it.
    assert peak < 8_000_000, f"peak Python allocation {peak} bytes while uploading {size} bytes"
    cli.delete_asset("big/streamed")


def test_file_object_is_sent_from_its_current_position(cli: Cloudimg) -> None:
    data = png_bytes(9, 7)
    f = io.BytesIO(b"HEADER-TO-SKIP" + data)
    f.seek(len(b"HEADER-TO-SKIP"))
    a = cli.upload(f)
    assert (a["bytes"], a["width"], a["height"]) == (len(data), 9, 7)
