"""The SDK's transform strings agree byte for byte with the server's shared vectors."""
from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

from cloudimg import Cloudimg, TransformError, canonical_transform

from conftest import VECTORS_DIR


def load(name: str) -> List[Dict[str, Any]]:
    path = VECTORS_DIR / name
    vectors: List[Dict[str, Any]] = json.loads(path.read_text())
    assert vectors, f"{path} is empty"
    return vectors


STRING_VECTORS = load("transforms.json")
OBJECT_VECTORS = load("transform_objects.json")
URL_VECTORS = load("delivery_urls.json")


@pytest.mark.parametrize("v", STRING_VECTORS, ids=lambda v: repr(v["input"]))
def test_string_vectors(v: Dict[str, Any]) -> None:
    if "canonical" in v:
        assert canonical_transform(v["input"]) == v["canonical"]
    else:
        with pytest.raises(TransformError) as e:
            canonical_transform(v["input"])
        assert (e.value.key or "") == v["error"]


@pytest.mark.parametrize("v", OBJECT_VECTORS, ids=lambda v: json.dumps(v["object"]))
def test_object_vectors(v: Dict[str, Any]) -> None:
    cli = Cloudimg(base_url="https://img-cloud.org/")
    if "canonical" in v:
        assert canonical_transform(v["object"]) == v["canonical"]
        t = v["canonical"]
        expected = f"https://img-cloud.org/v1/image/{t + '/' if t else ''}photo-3a7f9c81b2e4"
        assert cli.url_for("photo-3a7f9c81b2e4", **v["object"]) == expected
    else:
        with pytest.raises(TransformError) as e:
            canonical_transform(v["object"])
        assert (e.value.key or "") == v["error"]
        with pytest.raises(TransformError):
            cli.url_for("photo-3a7f9c81b2e4", **v["object"])


@pytest.mark.parametrize("v", URL_VECTORS, ids=lambda v: str(v.get("path", f"{v['public_id']} unversioned")))
def test_versioned_url_vectors(v: Dict[str, Any]) -> None:
    cli = Cloudimg(base_url="https://img-cloud.org/")
    # The vector's canonical string as keyword arguments: "w_400,c_fill" -> w=400, c="fill".
    params: Dict[str, Any] = {}
    for item in filter(None, str(v["transform"]).split(",")):
        key, value = item.split("_", 1)
        params[key] = int(value) if value.isdigit() else value
    if "error" in v:
        with pytest.raises(ValueError, match="version"):
            cli.url_for(v["public_id"], version=v["version"], **params)
    else:
        assert cli.url_for(v["public_id"], version=v["version"], **params) == f"https://img-cloud.org{v['path']}"


def test_only_a_leading_version_segment_needs_a_version() -> None:
    cli = Cloudimg(base_url="https://img-cloud.org/")
    assert cli.url_for("albums/v2/x") == "https://img-cloud.org/v1/image/albums/v2/x"
    assert cli.url_for("v2x/photo") == "https://img-cloud.org/v1/image/v2x/photo"
    with pytest.raises(ValueError, match="starts with a version segment"):
        cli.url_for("v7/photo", w=20)


def test_version_must_be_a_positive_integer() -> None:
    cli = Cloudimg(base_url="https://img-cloud.org")
    assert cli.url_for("p", version=2, w=20) == "https://img-cloud.org/v1/image/w_20/v2/p"
    assert cli.url_for("p", version=None) == "https://img-cloud.org/v1/image/p"
    for bad in (0, -1, True, 1.5, "3"):
        with pytest.raises(ValueError, match="version must be a positive integer"):
            cli.url_for("p", version=bad)  # type: ignore[arg-type]


def test_docs_url_for_examples() -> None:
    cli = Cloudimg(base_url="https://img-cloud.org")
    assert (
        cli.url_for("photo-3a7f9c81b2e4", w=400, h=400, c="fill", f="webp")
        == "https://img-cloud.org/v1/image/w_400,h_400,c_fill,f_webp/photo-3a7f9c81b2e4"
    )
    assert (
        cli.url_for("photo-3a7f9c81b2e4", w=400, h=400, c="fill", f="webp", q=80)
        == "https://img-cloud.org/v1/image/w_400,h_400,c_fill,q_80,f_webp/photo-3a7f9c81b2e4"
    )
    assert cli.url_for("gallery/photo-3a7f9c81b2e4") == "https://img-cloud.org/v1/image/gallery/photo-3a7f9c81b2e4"


def test_errors_name_the_key_and_its_range() -> None:
    cli = Cloudimg(base_url="https://img-cloud.org")
    with pytest.raises(TransformError, match=r"^w must be an integer from 1 to 4000 \(got 5000\)$") as e:
        cli.url_for("x", w=5000)
    assert e.value.key == "w"
    assert isinstance(e.value, ValueError)
    with pytest.raises(TransformError, match="c must be one of fit, fill, cover, contain, inside, outside, thumb"):
        cli.url_for("x", c="stretch")
    with pytest.raises(TransformError, match="unknown transform key 'width'"):
        cli.url_for("x", width=400)
    with pytest.raises(TransformError, match="each side after dpr must be at most 4000 px"):
        cli.url_for("x", w=4000, dpr=2)
