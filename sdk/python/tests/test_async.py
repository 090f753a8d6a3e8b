"""AsyncCloudimg: the same calls, awaited, against the real server."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Dict, List

import httpx
import pytest

from cloudimg import AsyncCloudimg, ConflictError, NotFoundError, RateLimitError

from conftest import Server, png_bytes


def test_async_client_round_trip(server: Server, api_key: Dict[str, str], photo_jpg: Path) -> None:
    async def main() -> None:
        folder = "async-" + uuid.uuid4().hex[:8]
        async with AsyncCloudimg(base_url=server.base, **api_key) as cli:
            uploads = await asyncio.gather(*(cli.upload(png_bytes(4, 4), folder=folder) for _ in range(3)))
            a = await cli.upload(photo_jpg, folder=folder, tags=["hero"], public_id=f"{folder}/photo")
            assert a["public_id"] == f"{folder}/photo" and a["tags"] == ["hero"]
            with open(photo_jpg, "rb") as f:
                b = await cli.upload(f, public_id=f"{folder}/photo", overwrite=True)
            assert b["version"] == 2
            with pytest.raises(ConflictError):
                await cli.upload(photo_jpg, public_id=f"{folder}/photo")
            assert cli.url_for(a["public_id"], w=400, h=400, c="fill", f="webp", q=80) == (
                f"{server.base}/v1/image/w_400,h_400,c_fill,q_80,f_webp/{a['public_id']}"
            )
            signed = await cli.signed_url(a["public_id"], transform={"w": 10})
            async with httpx.AsyncClient() as http:
                assert (await http.get(signed)).status_code == 200
            u = await cli.update_asset(a["public_id"], tags="archived,old")
            assert sorted(u["tags"]) == ["archived", "old"]
            ids: List[str] = [x["public_id"] async for x in cli.iter_assets(folder=folder, limit=2)]
            assert sorted(ids) == sorted([x["public_id"] for x in uploads] + [a["public_id"]])
            page = await cli.list_assets(folder=folder, limit=10)
            assert page["next_cursor"] is None and len(page["assets"]) == 4
            await cli.delete_asset(a["public_id"])
            with pytest.raises(NotFoundError) as e:
                await cli.get_asset(a["public_id"])
            assert e.value.request_id
            assert (await cli.usage())["asset_count"] >= 3

    asyncio.run(main())


def test_async_rate_limit(server: Server) -> None:
    limited = Server({"IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE": "1"})
    try:
        key = limited.mint_key()

        async def main() -> None:
            async with AsyncCloudimg(base_url=limited.base, **key) as cli:
                await cli.upload(png_bytes(4, 4))
                with pytest.raises(RateLimitError) as e:
                    await cli.upload(png_bytes(4, 4))
                assert e.value.retry_after is not None and e.value.retry_after > 0

        asyncio.run(main())
    finally:
        limited.stop()
