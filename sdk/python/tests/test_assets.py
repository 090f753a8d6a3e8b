"""Signed URLs, listing to the end, iteration and usage against the real server."""
from __future__ import annotations

import uuid

import httpx

from cloudimg import Cloudimg

from conftest import png_bytes


def test_signed_url_200_and_tampered_403(cli: Cloudimg) -> None:
    a = cli.upload(png_bytes(40, 30), visibility="private")
    assert httpx.get(a["url"]).status_code == 401, "a private asset needs a signature"

    url = cli.signed_url(a["public_id"], transform={"w": 20, "f": "png"}, ttl_seconds=600)
    assert url.startswith(f"{cli.base_url}/v1/image/w_20,f_png/{a['public_id']}?expires=")
    ok = httpx.get(url)
    assert ok.status_code == 200
    assert ok.content[:8] == b"\x89PNG\r\n\x1a\n"

    tampered = url.replace("w_20", "w_21")
    assert httpx.get(tampered).status_code == 403
    base, sig = url.rsplit("sig=", 1)
    flipped = base + "sig=" + ("A" if sig[0] != "A" else "B") + sig[1:]
    assert httpx.get(flipped).status_code == 403

    # A string transform in any order is sent in the canonical form the server signs.
    same = cli.signed_url(a["public_id"], transform="f_png,w_20")
    assert "/v1/image/w_20,f_png/" in same and httpx.get(same).status_code == 200
    plain = cli.signed_url(a["public_id"])
    assert plain.startswith(f"{cli.base_url}/v1/image/{a['public_id']}?expires=")
    assert httpx.get(plain).status_code == 200


def test_list_paging_to_the_end_and_iter_assets(cli: Cloudimg) -> None:
    folder = "paging-" + uuid.uuid4().hex[:8]
    ids = {cli.upload(png_bytes(4, 4), folder=folder, tags=["p"] if i % 2 else None)["public_id"] for i in range(7)}

    seen = []
    cursor = None
    pages = 0
    while True:
        page = cli.list_assets(folder=folder, limit=3, cursor=cursor)
        pages += 1
        assert len(page["assets"]) <= 3
        seen += [x["public_id"] for x in page["assets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7 and set(seen) == ids

    assert {x["public_id"] for x in cli.iter_assets(folder=folder, limit=2)} == ids
    assert len(list(cli.iter_assets(folder=folder, tags=["p"]))) == 3
    assert {x["public_id"] for x in cli.iter_assets(prefix=folder + "/")} == ids


def test_usage(cli: Cloudimg) -> None:
    before = cli.usage()
    a = cli.upload(png_bytes(6, 6))
    after = cli.usage()
    assert after["asset_count"] == before["asset_count"] + 1
    assert after["storage_bytes"] == before["storage_bytes"] + a["bytes"]
    assert httpx.get(a["url"]).status_code == 200
    assert cli.usage()["bandwidth_bytes"] > after["bandwidth_bytes"]
    everyone = cli.usage(all=True)  # the test key belongs to the admin
    assert "totals" in everyone and "users" in everyone
