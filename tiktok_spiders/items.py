"""The items spiders yield.

``Video``, ``Creator``, ``Comment`` and ``Sound`` are the public contract (DESIGN.md section 1, README):
their field names are the JSON keys the HTTP API and the batch exports write, which is why they are
camelCase. A field TikTok did not send is ``None``,
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
    #: whether the creator pinned it to the top of their profile; None where the feed does not say
    pinned: bool | None = None


@dataclass(slots=True)
class CreatorStats:
    followerCount: int | None = None
    followingCount: int | None = None
    heartCount: int | None = None
    videoCount: int | None = None
    diggCount: int | None = None
    friendCount: int | None = None


@dataclass(slots=True)
class Creator:
    """A TikTok account (``/users/{uniqueId}``, user search). ``uniqueId`` is what the routes take."""

    id: str
    uniqueId: str
    nickname: str | None = None
    #: what TikTok's posts feed is asked by
    secUid: str | None = None
    signature: str | None = None
    avatar: str | None = None
    verified: bool | None = None
    privateAccount: bool | None = None
    createTime: int | None = None
    stats: CreatorStats = field(default_factory=CreatorStats)


@dataclass(slots=True)
class CommentAuthor:
    id: str | None = None
    uniqueId: str | None = None
    nickname: str | None = None
    avatar: str | None = None


@dataclass(slots=True)
class Comment:
    """A comment on a video, or a reply to one (the same object)."""

    id: str
    videoId: str | None
    #: empty for an image-only comment
    text: str
    createTime: int | None = None
    diggCount: int | None = None
    replyCount: int | None = None
    pinnedByAuthor: bool = False
    language: str | None = None
    author: CommentAuthor = field(default_factory=CommentAuthor)
    images: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Sound:
    """A sound (TikTok's ``music``): ``/music/{id}``."""

    id: str
    title: str | None = None
    authorName: str | None = None
    #: whether it is the creator's own sound rather than a licensed track
    original: bool | None = None
    #: seconds
    duration: int | None = None
    cover: str | None = None
    videoCount: int | None = None


#: every item a spider may yield that reaches an answer or an export
AnswerItem = Video | Creator | Comment | Sound


@dataclass(slots=True)
class Rejected:
    """An upstream entry that is not a playable video, and why (a short snake_case reason)."""

    reason: str
    id: str | None = None
    detail: str = field(default="")
    #: what the entry would have been (``video``, ``comment``, ``creator``, ``sound``): the pipelines
    #: count its drop under that kind's stats
    kind: str = "video"
