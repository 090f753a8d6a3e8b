"""The transform grammar, mirrored from the server (engine/src/transform/; ranges checked against tests/vectors/transform_keys.json by tests/test_transform_keys.py).

One table of key specs (`_SPECS`) drives parsing, range checks, error messages and printing, so
the SDK's canonical string is byte for byte the server's: key order w,h,c,q,f,dpr,gr,bl,r,bg,
`f_jpeg` printed `f_jpg`, `bg` lowercase, `dpr`/`bl` with trailing zeros trimmed.

Both forms go through the same string parser: a mapping is first spelled item by item
(`{"w": 400}` -> `w_400`) and then parsed like any transform string.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Tuple, Union

from ._errors import TransformError

MAX_SIDE = 4000
MAX_PIXELS = 16_000_000

CROP_MODES = ("fit", "fill", "cover", "contain", "inside", "outside", "thumb")
FORMATS = ("auto", "jpg", "png", "webp", "avif", "gif")

_UINT = re.compile(r"0|[1-9][0-9]*")
_LEADING_ZERO = re.compile(r"0[0-9]+")
_HEX6 = re.compile(r"[0-9A-Fa-f]{6}")

# A parsed value: int for integer keys and hundredths for dpr/bl, str for c/f/bg, True for gr.
Value = Union[int, str, bool]


@dataclass(frozen=True)
class _Spec:
    key: str
    range_text: str
    parse: Callable[[str, str], Value]
    print: Callable[[Value], str]


def _shown(value: str) -> str:
    return value if len(value) <= 32 else value[:32] + "..."


def _bad(key: str, value: str) -> TransformError:
    return TransformError(key, f"{key} must be {_SPECS[key].range_text} (got {_shown(value)})")


def _leading_zero(key: str, value: str) -> TransformError:
    return TransformError(
        key, f"{key} must be {_SPECS[key].range_text}, written without leading zeros (got {_shown(value)})"
    )


def _digits(key: str, raw: str, s: str) -> Optional[int]:
    """`0|[1-9][0-9]*` as an int; None when not digits at all; an error for leading zeros."""
    if not s or not s.isascii() or not s.isdigit():
        return None
    if _LEADING_ZERO.fullmatch(s):
        raise _leading_zero(key, raw)
    return int(s) if len(s) <= 9 else 10**18


def _uint(lo: int, hi: int) -> Callable[[str, str], Value]:
    def parse(key: str, value: str) -> Value:
        n = _digits(key, value, value)
        if n is None or not lo <= n <= hi:
            raise _bad(key, value)
        return n

    return parse


def _rotation(key: str, value: str) -> Value:
    neg = value.startswith("-")
    n = _digits(key, value, value[1:] if neg else value)
    if n == 0 and neg:
        raise _leading_zero(key, value)
    if n is None or n > 360:
        raise _bad(key, value)
    return -n if neg else n


def _hundredths(lo: int, hi: int) -> Callable[[str, str], Value]:
    def parse(key: str, value: str) -> Value:
        int_part, dot, frac = value.partition(".")
        n = _digits(key, value, int_part)
        if n is None:
            raise _bad(key, value)
        f = 0
        if dot:
            if not 1 <= len(frac) <= 2 or not frac.isascii() or not frac.isdigit():
                raise _bad(key, value)
            f = int(frac) * (10 if len(frac) == 1 else 1)
        v = n * 100 + f
        if not lo <= v <= hi:
            raise _bad(key, value)
        return v

    return parse


def _one_of(names: Tuple[str, ...], aliases: Optional[Mapping[str, str]] = None) -> Callable[[str, str], Value]:
    def parse(key: str, value: str) -> Value:
        value_ = (aliases or {}).get(value, value)
        if value_ not in names:
            raise _bad(key, value)
        return value_

    return parse


def _gr(key: str, value: str) -> Value:
    if value != "1":
        raise _bad(key, value)
    return True


def _hex(key: str, value: str) -> Value:
    if not _HEX6.fullmatch(value):
        raise _bad(key, value)
    return value.lower()


def _fmt_hundredths(v: Value) -> str:
    i, f = divmod(int(v), 100)
    if f == 0:
        return str(i)
    if f % 10 == 0:
        return f"{i}.{f // 10}"
    return f"{i}.{f:02d}"


def _plain(v: Value) -> str:
    return "1" if v is True else str(v)


_SPECS = {
    s.key: s
    for s in (
        _Spec("w", "an integer from 1 to 4000", _uint(1, 4000), _plain),
        _Spec("h", "an integer from 1 to 4000", _uint(1, 4000), _plain),
        _Spec("c", "one of " + ", ".join(CROP_MODES), _one_of(CROP_MODES), _plain),
        _Spec("q", "an integer from 1 to 100", _uint(1, 100), _plain),
        _Spec("f", "one of " + ", ".join(FORMATS), _one_of(FORMATS, {"jpeg": "jpg"}), _plain),
        _Spec("dpr", "a number from 1 to 3 with at most 2 decimals", _hundredths(100, 300), _fmt_hundredths),
        _Spec("gr", "1", _gr, _plain),
        _Spec("bl", "a number from 0.3 to 25 with at most 2 decimals", _hundredths(30, 2500), _fmt_hundredths),
        _Spec("r", "an integer from -360 to 360", _rotation, _plain),
        _Spec("bg", "6 hex digits like ffffff", _hex, _plain),
    )
}
KEYS = tuple(_SPECS)


def _scale(value: int, dpr: int) -> int:
    return max(1, (value * dpr + 50) // 100)


def _check_bounds(t: Mapping[str, Value]) -> None:
    """Each side after dpr at most 4000 px, and at most 16 MP in total (the server's validate)."""
    dpr = int(t.get("dpr", 100))
    for key in ("w", "h"):
        if key in t:
            v = int(t[key])
            scaled = _scale(v, dpr)
            if scaled > MAX_SIDE:
                raise TransformError(
                    "dpr" if "dpr" in t else key,
                    f"{key} x dpr = {v} x {_fmt_hundredths(dpr)} = {scaled} exceeds {MAX_SIDE} px; "
                    f"each side after dpr must be at most {MAX_SIDE} px",
                )
    if "w" in t and "h" in t:
        w, h = _scale(int(t["w"]), dpr), _scale(int(t["h"]), dpr)
        if w * h > MAX_PIXELS:
            raise TransformError(
                "dpr" if "dpr" in t else "w",
                f"w x h after dpr = {w} x {h} = {w * h} px exceeds the {MAX_PIXELS} px (16 MP) limit",
            )


def parse_transform(s: str) -> dict[str, Value]:
    """Parses a transform string (items in any order) into {key: value}; raises TransformError."""
    out: dict[str, Value] = {}
    if s == "":
        return out
    for item in s.split(","):
        if item == "":
            raise TransformError(None, "empty item in transform")
        key, sep, value = item.partition("_")
        spec = _SPECS.get(key)
        if spec is None:
            raise TransformError(key, f"unknown transform key '{_shown(key)}' (known: {', '.join(KEYS)})")
        if key in out:
            raise TransformError(key, f"duplicate key '{key}'")
        if not sep or value == "":
            raise TransformError(
                key, f"missing value for '{key}': {key} must be {spec.range_text}, as in {key}_<value>"
            )
        out[key] = spec.parse(key, value)
    _check_bounds(out)
    return out


def _print(t: Mapping[str, Value]) -> str:
    return ",".join(f"{k}_{_SPECS[k].print(t[k])}" for k in KEYS if k in t)


def _spell(key: str, value: object) -> Optional[str]:
    """One mapping value spelled as the string grammar writes it; None leaves the key out."""
    if value is None:
        return None
    if key == "gr" and isinstance(value, bool):
        return "1" if value else None
    if isinstance(value, bool):
        raise _bad(key, str(value).lower())
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(key, repr(value))
        # JSON and JavaScript do not tell 400 from 400.0; neither do we.
        return str(int(value)) if value.is_integer() else repr(value)
    raise TransformError(key, f"{key} must be {_SPECS[key].range_text} (got a {type(value).__name__})")


def canonical_transform(transform: Union[str, Mapping[str, object], None]) -> str:
    """The server's canonical transform string for a string or a mapping (`{"w": 400, "c": "fill"}`).

    Raises TransformError (a ValueError) naming the offending key and its allowed range.
    """
    if transform is None:
        return ""
    if isinstance(transform, str):
        return _print(parse_transform(transform))
    items = []
    for key, value in transform.items():
        if key not in _SPECS:
            raise TransformError(key, f"unknown transform key '{_shown(key)}' (known: {', '.join(KEYS)})")
        spelled = _spell(key, value)
        if spelled is not None:
            if spelled == "" or "," in spelled:
                raise _bad(key, spelled)
            items.append(f"{key}_{spelled}")
    return _print(parse_transform(",".join(items)))
