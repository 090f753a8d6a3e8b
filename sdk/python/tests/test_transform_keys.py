"""The SDK's grammar against the engine's key table (tests/vectors/transform_keys.json).

Every key's bounds are accepted, one step past them is refused with the table's range text, and
every name and alias reads as the table says; so the SDK's ranges cannot drift from the server's.
"""
from __future__ import annotations

import json
from typing import Any, Dict, get_args, get_type_hints

import pytest

from cloudimg import TransformError, TransformParams, canonical_transform
from cloudimg._transform import CROP_MODES, FORMATS, KEYS, MAX_PIXELS, MAX_SIDE

from conftest import VECTORS_DIR

TABLE: Dict[str, Any] = json.loads((VECTORS_DIR / "transform_keys.json").read_text())
BY_KEY = {k["key"]: k for k in TABLE["keys"]}


def refused(key: str, value: str, range_text: str) -> None:
    with pytest.raises(TransformError) as e:
        canonical_transform(f"{key}_{value}")
    assert e.value.key == key
    assert e.value.message == f"{key} must be {range_text} (got {value})"


def test_names_order_and_bounds_are_the_tables() -> None:
    assert KEYS == tuple(BY_KEY)
    assert (MAX_SIDE, MAX_PIXELS) == (TABLE["max_side"], TABLE["max_pixels"])
    assert CROP_MODES == tuple(BY_KEY["c"]["values"])
    assert FORMATS == tuple(BY_KEY["f"]["values"])


def test_typed_params_name_the_tables_values() -> None:
    hints = get_type_hints(TransformParams)
    for key in ("c", "f"):
        (literal,) = [a for a in get_args(hints[key]) if a is not type(None)]
        names = set(get_args(literal)) - set(BY_KEY[key]["aliases"])
        assert names == set(BY_KEY[key]["values"]), key


def fmt_decimal(x: float) -> str:
    s = f"{round(x, 2):.2f}".rstrip("0").rstrip(".")
    return s


@pytest.mark.parametrize("k", TABLE["keys"], ids=lambda k: k["key"])
def test_key_against_table(k: Dict[str, Any]) -> None:
    key, text = k["key"], k["range_text"]

    def ok(v: str, printed: str = "") -> None:
        assert canonical_transform(f"{key}_{v}") == f"{key}_{printed or v}"

    kind = k["kind"]
    if kind == "int":
        ok(str(k["min"]))
        ok(str(k["max"]))
        refused(key, str(k["min"] - 1), text)
        refused(key, str(k["max"] + 1), text)
    elif kind == "decimal":
        step = 10 ** -k["decimals"]
        ok(fmt_decimal(k["min"]))
        ok(fmt_decimal(k["max"]))
        refused(key, fmt_decimal(k["min"] - step), text)
        refused(key, fmt_decimal(k["max"] + step), text)
    elif kind == "name":
        for v in k["values"]:
            ok(v)
        for alias, name in k["aliases"].items():
            ok(alias, name)
        refused(key, "zz", text)
    elif kind == "flag":
        for v in k["values"]:
            ok(v)
        refused(key, "2", text)
    elif kind == "hex":
        ok("a" * k["digits"])
        refused(key, "a" * (k["digits"] - 1), text)
    else:
        pytest.fail(f"unknown kind {kind} in the key table: teach this test and the SDK")
