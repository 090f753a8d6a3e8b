"""The docs' snippet and typical use, checked by `mypy --strict` in test.sh (not run by pytest)."""
import os

from cloudimg import AsyncCloudimg, Cloudimg, NotFoundError

cli = Cloudimg(
base_url="https://img-cloud.org",
key_id=os.environ["CLOUDIMG_KEY_ID"],
key_secret=os.environ["CLOUDIMG_KEY_SECRET"],
)
asset = cli.upload("photo.jpg", folder="gallery", tags=["hero"])
print(asset["public_id"], asset["url"])
print(cli.url_for(asset["public_id"], w=400, h=400, c="fill", f="webp", q=80))
print(cli.signed_url(asset["public_id"], transform={"w": 200}, ttl_seconds=3600))
cli.update_asset(asset["public_id"], tags="archived,old")
cli.delete_asset(asset["public_id"])


def typed_use(c: Cloudimg) -> int:
    width: int = c.get_asset("x")["width"]
    page = c.list_assets(folder="marketing", limit=50)
    names = [a["public_id"] for a in page["assets"]]
    more = [a["public_id"] for a in c.iter_assets(tags=["hero"])]
    try:
        c.get_asset("nope")
    except NotFoundError as e:
        code: str | None = e.code
        print(e.status, code, e.request_id, e.retry_after)
    return width + len(names) + len(more) + c.usage()["asset_count"]


async def typed_async(c: AsyncCloudimg) -> list[str]:
    a = await c.upload(b"...", public_id="x", overwrite=True)
    return [a["url"]] + [x["public_id"] async for x in c.iter_assets(folder="f")]
