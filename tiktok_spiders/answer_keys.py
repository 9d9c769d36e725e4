"""What the HTTP bridge and the cache-warming pipeline share: answer bodies and stored answers.

Both sides must agree byte for byte, so they live here, in a module that imports neither ``bridge`` nor
Scrapy (the cache key of a feed request is its feed's, ``tiktok_spiders.feeds.Feed.key``):

- the answer body: the items (videos, creators, comments, sounds) as compact UTF-8 JSON, an array or
  one object (``answer_body``), each ``video.url`` written as ``BASE_PLACEHOLDER/videos/{id}/play``
  (the bridge puts each caller's base URL in when it answers);
- the stored form of an answer in a shared cache (``encode_stored`` / ``decode_stored``): one line of
  JSON metadata (ETag, wall-clock time stored, TTL, next cursor), a newline, then the body.

``BASE_PLACEHOLDER`` is a fixed token, the same in every process, because several bridge instances and
scrapyd jobs share one cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiktok_spiders.items import Comment, Creator, Sound, Video

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tiktok_spiders.feeds import Shape
    from tiktok_spiders.items import AnswerItem

#: stands for the service's public base URL in cached bodies (fixed: processes share the cache)
BASE_PLACEHOLDER = "tiktok-fetch-service:base"
#: the prefix of answer keys in a shared cache (Redis)
SHARED_PREFIX = "tfs:answer:"
#: the prefix of the single-flight locks in a shared cache
LOCK_PREFIX = "tfs:lock:"
_FORMAT = 1


def play_url_template(video_id: str) -> str:
    return f"{BASE_PLACEHOLDER}/videos/{video_id}/play"


@dataclass(frozen=True, slots=True)
class AnsweredVideo:
    """One video as answers carry it: its JSON object, ``video.url`` written as the play link with
    ``BASE_PLACEHOLDER``, and TikTok's own play address for the play proxy. Kept as bytes: a video
    held as JSON weighs about a third of the same video as Python objects."""

    id: str
    source_url: str
    body: bytes


def answered_video(item: Video) -> AnsweredVideo:
    body = json.dumps(video_object(item), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return AnsweredVideo(item.id, item.video.sourceUrl, body)


def video_object(item: Video) -> dict[str, Any]:
    """The ``Video`` as the answer's JSON object: its fields in order (``dataclasses.asdict`` gives the
    same, about eight times more slowly), ``video.url`` pointing at the play proxy."""
    author, stats, media, music = item.author, item.stats, item.video, item.music
    return {
        "id": item.id,
        "description": item.description,
        "createTime": item.createTime,
        "webUrl": item.webUrl,
        "author": {
            "id": author.id,
            "uniqueId": author.uniqueId,
            "nickname": author.nickname,
            "avatar": author.avatar,
            "verified": author.verified,
        },
        "stats": {
            "playCount": stats.playCount,
            "diggCount": stats.diggCount,
            "commentCount": stats.commentCount,
            "shareCount": stats.shareCount,
            "collectCount": stats.collectCount,
        },
        "hashtags": [{"id": hashtag.id, "title": hashtag.title} for hashtag in item.hashtags],
        "video": {
            "url": play_url_template(item.id),
            "sourceUrl": media.sourceUrl,
            "cover": media.cover,
            "width": media.width,
            "height": media.height,
            "duration": media.duration,
        },
        "music": None
        if music is None
        else {"id": music.id, "title": music.title, "authorName": music.authorName},
        "pinned": item.pinned,
    }


def creator_object(item: Creator) -> dict[str, Any]:
    stats = item.stats
    return {
        "id": item.id,
        "uniqueId": item.uniqueId,
        "nickname": item.nickname,
        "secUid": item.secUid,
        "signature": item.signature,
        "avatar": item.avatar,
        "verified": item.verified,
        "privateAccount": item.privateAccount,
        "createTime": item.createTime,
        "stats": {
            "followerCount": stats.followerCount,
            "followingCount": stats.followingCount,
            "heartCount": stats.heartCount,
            "videoCount": stats.videoCount,
            "diggCount": stats.diggCount,
            "friendCount": stats.friendCount,
        },
    }


def comment_object(item: Comment) -> dict[str, Any]:
    author = item.author
    return {
        "id": item.id,
        "videoId": item.videoId,
        "text": item.text,
        "createTime": item.createTime,
        "diggCount": item.diggCount,
        "replyCount": item.replyCount,
        "pinnedByAuthor": item.pinnedByAuthor,
        "language": item.language,
        "author": {
            "id": author.id,
            "uniqueId": author.uniqueId,
            "nickname": author.nickname,
            "avatar": author.avatar,
        },
        "images": list(item.images),
    }


def sound_object(item: Sound) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "authorName": item.authorName,
        "original": item.original,
        "duration": item.duration,
        "cover": item.cover,
        "videoCount": item.videoCount,
    }


def item_body(item: AnswerItem) -> bytes:
    """Any item's JSON object as an answer carries it (a video's as ``answered_video`` writes it)."""
    if isinstance(item, Video):
        return answered_video(item).body
    if isinstance(item, Creator):
        value = creator_object(item)
    elif isinstance(item, Comment):
        value = comment_object(item)
    else:
        value = sound_object(item)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def feed_body(videos: Sequence[AnsweredVideo]) -> bytes:
    return b"[" + b",".join(video.body for video in videos) + b"]"


def answer_body(shape: Shape, bodies: Sequence[bytes]) -> bytes:
    """An answer of ``bodies`` (each an item's JSON object): an array, or (``object``) the first."""
    if shape == "object":
        return bodies[0]
    return b"[" + b",".join(bodies) + b"]"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    body: bytes
    etag: str
    #: wall-clock time (``time.time()``) it was stored: comparable across processes and machines
    stored_at: float
    ttl: float
    #: an offset (hashtag, search, comments) or TikTok's own cursor (a creator's posts)
    next_cursor: int | str | None = None


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
            cursor if isinstance(cursor, (int, str)) and not isinstance(cursor, bool) else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
