"""The items spiders yield.

``Video`` is the public contract (DESIGN.md section 1): its field names are the JSON keys the HTTP API
and the batch exports write, which is why they are camelCase. A field TikTok did not send is ``None``,
never an invented value. ``Rejected`` stands for an upstream entry that is not a playable video; the
validation pipeline drops it and counts its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Author:
    id: str | None = None
    uniqueId: str | None = None
    nickname: str | None = None
    avatar: str | None = None
    verified: bool = False


@dataclass(slots=True)
class Stats:
    playCount: int | None = None
    diggCount: int | None = None
    commentCount: int | None = None
    shareCount: int | None = None
    collectCount: int | None = None


@dataclass(slots=True)
class Hashtag:
    id: str | None
    title: str


@dataclass(slots=True)
class VideoFile:
    url: str
    sourceUrl: str
    cover: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None


@dataclass(slots=True)
class Music:
    id: str | None = None
    title: str | None = None
    authorName: str | None = None


@dataclass(slots=True)
class Video:
    id: str
    description: str
    createTime: int | None
    webUrl: str
    author: Author
    stats: Stats
    hashtags: list[Hashtag]
    video: VideoFile
    music: Music | None = None


@dataclass(slots=True)
class Rejected:
    """An upstream entry that is not a playable video, and why (a short snake_case reason)."""

    reason: str
    id: str | None = None
    detail: str = field(default="")
