"""Creators: who posted each item, their profile and counts, and the order of their posts.

An item's author is a function of the item's index alone (not a draw of the item's generator), so
the corpus knows every creator's posts without building the items. A few creators are prolific
(hundreds of posts, so their feed pages); most have a page or so. The private items belong to
private accounts, which no feed shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

#: creators 0..PROLIFIC-1 post about 30% of the feed items between them; the rest share the others
PROLIFIC = 8
PUBLIC_ACCOUNTS = 500
PRIVATE_ACCOUNTS = 3
#: pinned posts come first in a creator's feed: creators numbered 3k have ``k % 4`` of them (up to 3)
MAX_PINNED = 3

_NICKNAMES = (
    "Mia Chen",
    "敏c",
    "ゆうき🍙",
    "Дмитрий",
    "ليلى ✨",
    "נועה",
    "김민지",
    "Zoë 🌈",
    "chef_tony",
    "🐱 cat dad 🐱",
    "Ana Lúcia",
    "Ngọc Anh",
)
_SIGNATURES = ("🍜 | لندن | 東京", "daily recipes 🍝", "", "链接在简介 👇", "📍 Lisboa", "no DMs 🙅")


def round_count(n: int) -> int:
    """TikTok's rounded ``stats``: three significant digits from 10,000 up."""
    if n < 10_000:
        return n
    digits = len(str(n)) - 3
    return round(n, -digits)


def author_number(index: int, feed_items: int, seed: int) -> int:
    """The creator of item ``index``: spread by a multiplicative hash, 30% to the prolific few."""
    if index >= feed_items:
        return PUBLIC_ACCOUNTS + (index - feed_items) % PRIVATE_ACCOUNTS
    h = (index * 2_654_435_761 + seed * 40_503) % 2**32
    spread = h // 10
    if h % 10 < 3:
        return spread % PROLIFIC
    return PROLIFIC + spread % (PUBLIC_ACCOUNTS - PROLIFIC)


@dataclass(frozen=True)
class Creator:
    number: int
    id: str
    unique_id: str
    nickname: str | None  # about 4% have none in the item's author, as in some captures
    signature: str
    verified: bool
    sec_uid: str
    private: bool
    create_time: int
    counts: dict[
        str, int
    ]  # exact: followerCount, followingCount, heartCount, videoCount, diggCount, friendCount

    @property
    def pinned(self) -> int:
        return 0 if self.number % 3 else min((self.number // 3) % 4, MAX_PINNED)

    def author(self, avatar: Any) -> dict[str, Any]:
        """The camelCase ``author`` of an item (and ``userInfo.user`` without the profile extras)."""
        author: dict[str, Any] = {
            "id": self.id,
            "uniqueId": self.unique_id,
            "nickname": self.nickname,
            "avatarThumb": avatar("avatar", self.id, "100x100"),
            "avatarMedium": avatar("avatar", self.id, "720x720"),
            "avatarLarger": avatar("avatar", self.id, "1080x1080"),
            "signature": self.signature,
            "verified": self.verified,
            "secUid": self.sec_uid,
            "privateAccount": self.private,
        }
        if self.nickname is None:
            del author["nickname"]
        return author

    def stats(self) -> dict[str, int]:
        """Rounded, as ``stats`` and ``authorStats`` carry them; ``heart`` repeats ``heartCount``."""
        rounded = {name: round_count(value) for name, value in self.counts.items()}
        return rounded | {"heart": rounded["heartCount"]}

    def stats_v2(self) -> dict[str, str]:
        """Exact, as strings, as ``statsV2`` and ``authorStatsV2`` carry them."""
        exact = {name: str(value) for name, value in self.counts.items()}
        return exact | {"heart": exact["heartCount"]}


def make_creator(number: int, post_count: int, seed: int) -> Creator:
    rng = random.Random(f"{seed}:creator:{number}")
    private = number >= PUBLIC_ACCOUNTS
    nickname: str | None = rng.choice(_NICKNAMES)
    if number % 25 == 7:
        nickname = None
    followers = int(rng.lognormvariate(9, 2.5)) if number >= PROLIFIC else rng.randint(2_000_000, 60_000_000)
    if private:
        unique_id = f"private.{number}"
    else:
        unique_id = f"user.{number:03d}" if number % 3 else f"creator_{number}"
    return Creator(
        number=number,
        id=str(6_800_000_000_000_000_000 + number * 7_919),
        unique_id=unique_id,
        nickname=nickname,
        signature=rng.choice(_SIGNATURES),
        verified=number % 11 == 0,
        sec_uid="MS4wLjABAAAA" + format(number * 2_654_435_761 % 2**64, "x").rjust(16, "0"),
        private=private,
        create_time=1_420_070_400 + rng.randint(0, 10 * 365 * 86_400),
        counts={
            "followerCount": followers,
            "followingCount": rng.randint(0, 2_000),
            "heartCount": followers * rng.randint(3, 40),
            "videoCount": post_count,
            "diggCount": rng.randint(0, 50_000),
            "friendCount": rng.randint(0, 300),
        },
    )
