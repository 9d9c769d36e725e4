"""Real captured TikTok answers (``../shared/fixtures/tiktok/``), read-only, for parsing tests."""

from __future__ import annotations

import copy
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

CAPTURES = Path(
    os.environ.get("TIKTOK_CAPTURES", Path(__file__).resolve().parents[2] / "shared/fixtures/tiktok")
)


@cache
def _text(name: str) -> str:
    return (CAPTURES / name).read_text(encoding="utf-8")


def capture_text(name: str) -> str:
    return _text(name)


def capture_json(name: str) -> dict[str, Any]:
    """A fresh copy each call, so a test may mangle it."""
    if name.endswith(".jsonc"):
        return lenient_json(_text(name))
    payload: dict[str, Any] = json.loads(_text(name))
    return copy.deepcopy(payload)


def lenient_json(text: str) -> dict[str, Any]:
    """JSON with comments and elisions (``[...]``, ``{...}``) as in the 2024-12 excerpt."""
    text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    text = text.replace("[...]", "[]").replace("{...}", "{}")
    payload: dict[str, Any] = json.loads(text)
    return payload


def ssr_page(state: dict[str, Any], script_id: str = "__UNIVERSAL_DATA_FOR_REHYDRATION__") -> str:
    """An HTML page carrying ``state`` the way TikTok's server renders it."""
    body = json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
    return f'<html><head></head><body><script id="{script_id}" type="application/json">{body}</script></body></html>'


def all_items() -> list[dict[str, Any]]:
    """Every raw ``itemStruct`` in the captures (feeds, search, pages), for property-based tests."""
    items: list[dict[str, Any]] = []
    items += capture_json("recommend_item_list_2022-11.json")["itemList"]
    items += capture_json("recommend_item_list_2024-12_excerpt.jsonc")["itemList"]
    items += capture_json("post_item_list_2025-10.json")["itemList"]
    items += [
        entry["item"] for entry in capture_json("search_general_full_2026-02.json")["data"] if "item" in entry
    ]
    detail = capture_json("universal_data_video_detail_2025-04.json")["__DEFAULT_SCOPE__"][
        "webapp.video-detail"
    ]
    items.append(detail["itemInfo"]["itemStruct"])
    return items
