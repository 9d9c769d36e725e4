"""Raw TikTok items (``itemStruct``) as the service judges them, for the emulator's corpus tests."""

from __future__ import annotations

from typing import Any

from tiktok_spiders.items import Video
from tiktok_spiders.parsing.items import best_play_address, parse_item
from tiktok_spiders.parsing.values import mapping


def play_address(item: dict[str, Any]) -> str:
    """The address the service would play the item from ('' when none)."""
    return best_play_address(mapping(item.get("video"))) or ""


def is_playable(item: dict[str, Any]) -> bool:
    """Whether the service keeps the item (not an ad, a photo post, a live, nor without a play address)."""
    return isinstance(parse_item(item), Video)
