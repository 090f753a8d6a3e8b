"""JSON shapes the server answers (fields may be added by the server, never renamed)."""
from __future__ import annotations

from typing import List, Optional, TypedDict


class Asset(TypedDict):
    public_id: str
    url: str
    folder: str
    tags: List[str]
    visibility: str
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
