"""JSON shapes the server answers (fields may be added by the server, never renamed)."""
from __future__ import annotations

from typing import List, Literal, Optional, TypedDict, Union


Visibility = Literal["public", "private"]


class Asset(TypedDict):
    public_id: str
    url: str
    versioned_url: str
    folder: str
    tags: List[str]
    visibility: Visibility
    format: str
    width: int
    height: int
    bytes: int
    version: int
    created_at: str
    updated_at: str
    owner: int


class AssetPage(TypedDict):
    assets: List[Asset]
    next_cursor: Optional[str]


class Usage(TypedDict):
    storage_bytes: int
    asset_count: int
    bandwidth_bytes: int
    requests: int


class TransformParams(TypedDict, total=False):
    """Transform keys for url_for(**transform) and signed_url(transform=...); None leaves a key out."""

    w: Optional[int]
    h: Optional[int]
    c: Optional[Literal["fit", "fill", "cover", "contain", "inside", "outside", "thumb"]]
    q: Optional[int]
    f: Optional[Literal["auto", "jpg", "jpeg", "png", "webp", "avif", "gif"]]
    dpr: Union[float, str, None]
    gr: Union[bool, int, None]
    bl: Union[float, str, None]
    r: Optional[int]
    bg: Optional[str]
