"""Lenient readers for TikTok's loosely typed values (ints as strings, ids as ints, nulls anywhere)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

_DIGITS = re.compile(r"[0-9]{1,19}")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s")
#: counts beyond a signed 64-bit integer are garbage, not data
MAX_COUNT = 2**63 - 1


def as_int(value: object) -> int | None:
    """A non-negative integer from an int, an integral float or a decimal string; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_COUNT:
            return int(value)
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
        return number if number <= MAX_COUNT else None
    return None


def as_text(value: object) -> str | None:
    """A string that encodes to UTF-8 (lone surrogates become U+FFFD); ints become their digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        return None
    if _SURROGATES.search(value):
        # Pairs written as two escapes join up again; lone halves cannot be encoded, so replace them.
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def as_id(value: object) -> str | None:
    """TikTok's numeric ids arrive as strings or ints; anything else is not an id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if 0 < value <= MAX_COUNT else None
    if isinstance(value, str) and _DIGITS.fullmatch(value) and value.strip("0"):
        return value
    return None


def as_bool(value: object) -> bool:
    """True only for what TikTok writes for true (``true``, ``1``, ``"true"``); 1.0 is not a flag."""
    return value is True or (type(value) is int and value == 1) or value == "true"


def as_flag(source: Mapping[str, Any], *keys: str) -> bool | None:
    """The first of ``keys`` that ``source`` holds (not null), as ``as_bool``; ``None`` when none is
    there, so a flag TikTok did not send stays unknown rather than becoming ``False``."""
    for key in keys:
        value = source.get(key)
        if value is not None:
            return as_bool(value)
    return None


def as_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    if not value.startswith(("https://", "http://")) or _WHITESPACE.search(value):
        return None
    return as_text(value)


def urls_in(value: object) -> Iterator[str]:
    """URLs from a string, a list of strings, or a TikTok ``{UrlList: [...]}`` / ``{urlList: [...]}``."""
    if isinstance(value, Mapping):
        value = value.get("UrlList", value.get("urlList", value.get("url_list")))
    candidates = value if isinstance(value, list) else [value]
    for candidate in candidates:
        url = as_url(candidate)
        if url:
            yield url


def first_url(source: Mapping[str, Any], *keys: str) -> str | None:
    """The first URL under the first of ``keys`` that holds one (a string or a ``url_list``)."""
    for key in keys:
        for url in urls_in(source.get(key)):
            return url
    return None


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def mappings(value: object) -> list[Mapping[str, Any]]:
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []
