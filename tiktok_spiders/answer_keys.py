"""What the HTTP bridge and the cache-warming pipeline share: cache keys, answer bodies, stored answers.

Both sides must agree byte for byte, so they live here, in a module that imports neither ``bridge`` nor
Scrapy:

- the cache key of a feed request, from its normalised parameters (``trending_key``, ``category_key``,
  ``search_key``);
- the answer body: the videos as compact UTF-8 JSON, each ``video.url`` written as
  ``BASE_PLACEHOLDER/videos/{id}/play`` (the bridge puts each caller's base URL in when it answers);
- the stored form of an answer in a shared cache (``encode_stored`` / ``decode_stored``): one line of
  JSON metadata (ETag, wall-clock time stored, TTL, next cursor), a newline, then the body.

``BASE_PLACEHOLDER`` is a fixed token, the same in every process, because several bridge instances and
scrapyd jobs share one cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tiktok_spiders.params import hashtag_key

#: stands for the service's public base URL in cached bodies (fixed: processes share the cache)
BASE_PLACEHOLDER = "tiktok-fetch-service:base"
#: the prefix of answer keys in a shared cache (Redis)
SHARED_PREFIX = "tfs:answer:"
#: the prefix of the single-flight locks in a shared cache
LOCK_PREFIX = "tfs:lock:"
_FORMAT = 1


def trending_key(count: int) -> str:
    return f"trending?count={count}"


def category_key(hashtag: str, count: int, cursor: int) -> str:
    return f"category?hashtag={hashtag_key(hashtag)}&count={count}&cursor={cursor}"


def search_key(q: str, count: int, cursor: int) -> str:
    # TikTok's search is case-insensitive: "Pasta" and "pasta  " are one key (whitespace is folded).
    return "search?" + urlencode({"q": q.casefold(), "count": count, "cursor": cursor})


def play_url_template(video_id: str) -> str:
    return f"{BASE_PLACEHOLDER}/videos/{video_id}/play"


def video_dict(item: Any) -> dict[str, Any]:
    """A ``Video`` item as the answer's JSON object, its ``video.url`` pointing at the play proxy."""
    # dataclasses.asdict is many times faster than ItemAdapter here.
    video = dataclasses.asdict(item)
    video["video"]["url"] = play_url_template(video["id"])
    return video


def feed_body(videos: list[dict[str, Any]]) -> bytes:
    return json.dumps(videos, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    body: bytes
    etag: str
    #: wall-clock time (``time.time()``) it was stored: comparable across processes and machines
    stored_at: float
    ttl: float
    next_cursor: int | None = None


def encode_stored(answer: StoredAnswer) -> bytes:
    meta = {
        "v": _FORMAT,
        "etag": answer.etag,
        "stored_at": answer.stored_at,
        "ttl": answer.ttl,
        "next_cursor": answer.next_cursor,
    }
    return json.dumps(meta, separators=(",", ":")).encode("ascii") + b"\n" + answer.body


def decode_stored(raw: bytes) -> StoredAnswer | None:
    """The answer, or None when ``raw`` is not one (another format, a truncated value)."""
    head, newline, body = raw.partition(b"\n")
    if not newline:
        return None
    try:
        meta = json.loads(head)
        if meta.get("v") != _FORMAT:
            return None
        cursor = meta.get("next_cursor")
        return StoredAnswer(
            body,
            str(meta["etag"]),
            float(meta["stored_at"]),
            float(meta["ttl"]),
            cursor if isinstance(cursor, int) else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
