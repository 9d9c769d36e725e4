"""What of a TikTok answer crosses from the page to Python: the items cut down, in the page, to the
keys ``tiktok_spiders.parsing`` reads.

A real item is about 30 KB (``post_item_list_2025-10.json``: ``bitrateInfo`` 14 KB, ``claInfo``
4.5 KB, subtitles, covers, effect stickers); every byte of it crosses the DevTools protocol, the
Playwright driver and the pipe to Python, and is decoded twice on the way. Cut, it is 11 KB (the
captures' feeds and search answers: 36-44% of their size), nearly all of it the play addresses' URL
lists, kept whole because the parser chooses among them. ``SLIM_ANSWER`` runs in the page on the answer's text: items in ``itemList``,
``item_list``, ``data[].item`` and ``itemInfo.itemStruct`` keep the keys in ``ITEM_KEYS`` (nested as
given there); everything else in the envelope (status codes, cursors, ``hasMore``) is kept whole.
A body that is not JSON, or that holds an integer JavaScript cannot represent exactly (16 digits or
more), crosses as it came, so the parser sees it and says what is wrong with it.

``tests/test_slim.py`` parses every capture and emulator answer both ways and requires the same
result: a key the parser starts reading must be added here, or that test fails.
"""

from __future__ import annotations

import json
from typing import Any

#: a URL field: a string, a list of strings, or an object with one of these lists (``urls_in``)
URLS = {"UrlList": True, "urlList": True, "url_list": True}
#: keys kept in an item: ``True`` keeps the value whole, a dict keeps those keys of an object (or of
#: each object of a list; a string or a number is kept as it is), ``"flag"`` keeps only whether the
#: value is truthy
ITEM_KEYS: dict[str, Any] = {
    "id": True,
    "isAd": True,
    "isLive": True,
    "imagePost": "flag",
    "liveRoomInfo": "flag",
    "desc": True,
    "createTime": True,
    "isPinnedItem": True,
    "author": {
        "id": True,
        "uniqueId": True,
        "nickname": True,
        "avatarMedium": URLS,
        "avatarThumb": URLS,
        "avatarLarger": URLS,
        "verified": True,
    },
    # SIGI_STATE's flattened author
    "authorId": True,
    "nickname": True,
    "avatarThumb": URLS,
    "stats": True,
    "statsV2": True,
    "challenges": {"id": True, "title": True},
    "textExtra": {"hashtagName": True, "hashtagId": True},
    "contents": {"desc": True, "textExtra": {"hashtagName": True, "hashtagId": True}},
    "music": {"id": True, "title": True, "authorName": True},
    "video": {
        "playAddr": URLS,
        "downloadAddr": URLS,
        "bitrateInfo": {"CodecType": True, "PlayAddr": URLS},
        "cover": URLS,
        "originCover": URLS,
        "dynamicCover": URLS,
        "width": True,
        "height": True,
        "duration": True,
    },
}

#: A JavaScript function of the answer's text, returning the text to send to Python.
SLIM_ANSWER = (
    """(text) => {
  const KEYS = """
    + json.dumps(ITEM_KEYS, separators=(",", ":"))
    + """;
  // Python's truth, which the parser applies: an empty object or list is false.
  const truthy = (value) =>
    Array.isArray(value) ? value.length > 0
      : value !== null && typeof value === "object" ? Object.keys(value).length > 0 : !!value;
  const cut = (value, keys) => {
    if (keys === true) return value;
    if (keys === "flag") return truthy(value);
    if (Array.isArray(value)) return value.map((each) => cut(each, keys));
    if (value === null || typeof value !== "object") return value;
    const kept = {};
    for (const key in keys) if (key in value) kept[key] = cut(value[key], keys[key]);
    return kept;
  };
  if (/[:\\[,]\\s*-?\\d{16,}/.test(text)) return text;
  let payload;
  try { payload = JSON.parse(text); } catch (error) { return text; }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return text;
  for (const list of ["itemList", "item_list"]) {
    if (Array.isArray(payload[list])) payload[list] = payload[list].map((item) => cut(item, KEYS));
  }
  if (Array.isArray(payload.data)) {
    for (const entry of payload.data) {
      if (entry && typeof entry === "object" && entry.item) entry.item = cut(entry.item, KEYS);
    }
  }
  if (payload.itemInfo && payload.itemInfo.itemStruct) {
    payload.itemInfo.itemStruct = cut(payload.itemInfo.itemStruct, KEYS);
  }
  return JSON.stringify(payload);
}"""
)
