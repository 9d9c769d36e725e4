"""Comments and replies, in the snake_case shape of ``comment_list_2026-02.json``.

A video has ``min(commentCount, MAX_COMMENTS)`` comments, a comment up to ``MAX_REPLIES`` replies,
each built from a generator seeded by its position, so any page is computed alone. Ids encode the
position: a comment's ``cid`` names its video and rank, a reply's its comment and rank, so
``/api/comment/list/reply/`` needs only ``comment_id`` (TikTokApi 7.3.3 sends the comment author's
uid as ``item_id``). About one comment in 23 is hidden (TikTok filters some): it is not served but
still takes its place, which is why a page can hold fewer than were asked while the cursor moves on
by the count asked, as in the capture (asked 20, got 19, ``cursor`` 20).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.creators import PUBLIC_ACCOUNTS

if TYPE_CHECKING:
    from emulator.corpus import Corpus, Urls

MAX_COMMENTS = 240
MAX_REPLIES = 60
COMMENT_BASE = 7_600_000_000_000_000_000
REPLY_BASE = 7_650_000_000_000_000_000
_RANKS = 1000  # comment ranks per video in a cid
_REPLY_RANKS = 100  # reply ranks per comment in a reply's cid

_TEXTS = (
    ("this is so good 😭😭", "en"),
    ("where is this place??", "en"),
    ("太好吃了吧 🤤", "zh-Hans"),
    ("ماشاءالله 😍", "ar"),
    ("обожаю 🔥🔥", "ru"),
    ("대박 ㅋㅋㅋ", "ko"),
    ("first 🥇", "en"),
    ("la receta porfa 🙏", "es"),
    ("😂😂😂", "un"),
    ("נראה מדהים", "he"),
    ("me at 3am 👁👄👁", "en"),
    ("thanks for sharing", "en"),
)
_REPLY_TEXTS = (("same 😂", "en"), ("fr fr", "en"), ("+1", "un"), ("真的", "zh-Hans"), ("jajaja", "es"))


@dataclass(frozen=True)
class Thread:
    """Where a comment or a reply sits: its video's item index, its comment rank, its reply rank."""

    index: int
    rank: int
    reply: int | None = None

    @property
    def cid(self) -> str:
        if self.reply is None:
            return str(COMMENT_BASE + self.index * _RANKS + self.rank)
        return str(REPLY_BASE + (self.index * _RANKS + self.rank) * _REPLY_RANKS + self.reply)


def parse_cid(cid: str) -> Thread | None:
    if not cid.isdigit():
        return None
    value = int(cid)
    if value >= REPLY_BASE:
        position, reply = divmod(value - REPLY_BASE, _REPLY_RANKS)
        index, rank = divmod(position, _RANKS)
        return Thread(index, rank, reply)
    if value >= COMMENT_BASE:
        index, rank = divmod(value - COMMENT_BASE, _RANKS)
        return Thread(index, rank)
    return None


def comment_total(corpus: Corpus, index: int, urls: Urls) -> int:
    item = corpus.item(index, urls)
    stats = item.get("statsV2") or item.get("stats") or {}
    return min(int(stats.get("commentCount", 0)), MAX_COMMENTS)


def is_hidden(thread: Thread) -> bool:
    return (thread.rank * 7 + thread.index + (thread.reply or 0)) % 23 == 5


def _rng(corpus: Corpus, thread: Thread) -> random.Random:
    return random.Random(f"{corpus.seed}:comment:{thread.index}:{thread.rank}:{thread.reply}")


def reply_total(corpus: Corpus, thread: Thread) -> int:
    rng = _rng(corpus, Thread(thread.index, thread.rank))
    return rng.randint(1, MAX_REPLIES) if rng.random() < 0.2 else 0


def _user(corpus: Corpus, number: int, urls: Urls) -> dict[str, Any]:
    creator = corpus.creators[number]
    return {
        "uid": creator.id,
        "unique_id": creator.unique_id,
        "nickname": creator.nickname or creator.unique_id,
        "sec_uid": creator.sec_uid,
        "avatar_thumb": {
            "uri": f"avatar/{creator.id}",
            "url_list": [urls.image("avatar", creator.id, "100x100")],
        },
        "custom_verify": "",
        "enterprise_verify_reason": "verified account" if creator.verified else "",
        "signature": creator.signature,
        "follow_status": 0,
    }


def comment(corpus: Corpus, thread: Thread, urls: Urls) -> dict[str, Any]:
    """One comment or reply of the capture's shape (the keys a client reads, and their neighbours)."""
    rng = _rng(corpus, thread)
    item = corpus.item(thread.index, urls)
    is_reply = thread.reply is not None
    text, language = rng.choice(_REPLY_TEXTS if is_reply else _TEXTS)
    images: list[dict[str, Any]] = []
    if not is_reply and rng.random() < 0.04:
        text, language = "", "un"  # image-only comments keep an empty text, as in the capture
        key = f"{thread.cid}_img"
        images = [
            {
                "crop_url": {
                    "uri": key,
                    "url_list": [urls.image("comment", key, "720x1520")],
                    "width": 720,
                    "height": 1520,
                },
                "origin_url": {
                    "uri": key,
                    "url_list": [urls.image("comment", key, "origin")],
                    "width": 720,
                    "height": 1520,
                },
            }
        ]
    parent = Thread(thread.index, thread.rank)
    return {
        "cid": thread.cid,
        "aweme_id": item["id"],
        "text": text,
        "text_extra": [],
        "create_time": int(item["createTime"]) + rng.randint(60, 30 * 86_400),
        "digg_count": int(rng.lognormvariate(2, 2.5)),
        "reply_comment_total": 0 if is_reply else reply_total(corpus, thread),
        "reply_comment": None,
        "reply_id": parent.cid if is_reply else "0",
        "reply_to_reply_id": "0",
        "author_pin": not is_reply and thread.rank == 0 and thread.index % 5 == 0,
        "is_author_digged": rng.random() < 0.05,
        "comment_language": language,
        "image_list": images or None,
        "label_list": None,
        "status": 1,
        "stick_position": 0,
        "user_digged": 0,
        "user_buried": False,
        "collect_stat": 0,
        "fold_status": -1,
        "no_show": False,
        "share_info": {"acl": {"code": 0, "extra": "{}"}, "desc": "", "title": text, "url": ""},
        "user": _user(corpus, rng.randrange(PUBLIC_ACCOUNTS), urls),
    }


def page(corpus: Corpus, threads: list[Thread], urls: Urls) -> list[dict[str, Any]]:
    return [comment(corpus, t, urls) for t in threads if not is_hidden(t)]
