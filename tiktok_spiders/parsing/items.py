"""TikTok's item object (``itemStruct``, the same in every feed) to a ``Video``, or a ``Rejected``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tiktok_spiders.items import Author, Hashtag, Music, Rejected, Stats, Video, VideoFile
from tiktok_spiders.parsing.values import (
    as_bool,
    as_flag,
    as_id,
    as_int,
    as_text,
    first_url,
    mapping,
    mappings,
    urls_in,
)

#: where ``webUrl`` points: TikTok's own site, whatever upstream the crawl used
TIKTOK_WEB = "https://www.tiktok.com"
_STAT_KEYS = ("playCount", "diggCount", "commentCount", "shareCount", "collectCount")
#: codecs a browser's <video> plays; TikTok also lists h265 renditions that most browsers cannot
_PLAYABLE_CODECS = ("h264", "")


def parse_item(raw: object, web_base: str = TIKTOK_WEB) -> Video | Rejected:
    """A ``Video`` when ``raw`` is a playable video, else a ``Rejected`` saying why."""
    if not isinstance(raw, Mapping):
        return Rejected("malformed_item", detail=type(raw).__name__)
    raw_id = raw.get("id")
    if raw_id is None or raw_id == "":
        return Rejected("missing_id")
    video_id = as_id(raw_id)
    if video_id is None:
        return Rejected("invalid_id", detail=repr(raw_id)[:40])
    if as_bool(raw.get("isAd")):
        return Rejected("ad", video_id)
    if raw.get("imagePost"):
        return Rejected("photo_post", video_id)
    if raw.get("liveRoomInfo") or as_bool(raw.get("isLive")):
        return Rejected("live", video_id)
    media = mapping(raw.get("video"))
    source_url = best_play_address(media)
    if source_url is None:
        return Rejected("no_play_address", video_id)

    author = parse_author(raw)
    return Video(
        id=video_id,
        description=_description(raw),
        createTime=as_int(raw.get("createTime")),
        webUrl=f"{web_base}/@{author.uniqueId or ''}/video/{video_id}",
        author=author,
        stats=parse_stats(raw),
        hashtags=parse_hashtags(raw),
        video=VideoFile(
            url=source_url,
            sourceUrl=source_url,
            cover=first_url(media, "cover", "originCover", "dynamicCover"),
            width=as_int(media.get("width")),
            height=as_int(media.get("height")),
            duration=as_int(media.get("duration")),
        ),
        music=parse_music(raw.get("music")),
        pinned=as_flag(raw, "isPinnedItem"),
    )


def best_play_address(media: Mapping[str, Any]) -> str | None:
    """``playAddr``, else an h264 ``bitrateInfo[].PlayAddr.UrlList`` entry, else ``downloadAddr``."""
    for url in urls_in(media.get("playAddr")):
        return url
    renditions = sorted(
        mappings(media.get("bitrateInfo")),
        key=lambda rendition: str(rendition.get("CodecType", "")).lower() not in _PLAYABLE_CODECS,
    )
    for rendition in renditions:
        for url in urls_in(rendition.get("PlayAddr")):
            return url
    for url in urls_in(media.get("downloadAddr")):
        return url
    return None


def parse_author(raw: Mapping[str, Any]) -> Author:
    author = raw.get("author")
    if isinstance(author, Mapping):
        return Author(
            id=as_id(author.get("id")),
            uniqueId=as_text(author.get("uniqueId")) or None,
            nickname=as_text(author.get("nickname")),
            avatar=first_url(author, "avatarMedium", "avatarThumb", "avatarLarger"),
            verified=as_bool(author.get("verified")),
        )
    # SIGI_STATE's ItemModule flattens the author: "author" is the uniqueId, the rest sits beside it.
    return Author(
        id=as_id(raw.get("authorId")),
        uniqueId=as_text(author) or None,
        nickname=as_text(raw.get("nickname")),
        avatar=first_url(raw, "avatarThumb"),
        verified=False,
    )


def parse_stats(raw: Mapping[str, Any]) -> Stats:
    """Exact counts from ``statsV2`` (strings) where present, else TikTok's rounded ``stats``."""
    exact, rounded = mapping(raw.get("statsV2")), mapping(raw.get("stats"))
    counts: dict[str, int | None] = {}
    for key in _STAT_KEYS:
        count = as_int(exact.get(key))
        counts[key] = count if count is not None else as_int(rounded.get(key))
    return Stats(**counts)


def parse_hashtags(raw: Mapping[str, Any]) -> list[Hashtag]:
    """From ``challenges``, else ``textExtra``, else ``contents[].textExtra``; one per title."""
    found = list(_challenges(raw)) or list(_text_extra(raw.get("textExtra")))
    if not found:
        for content in mappings(raw.get("contents")):
            found.extend(_text_extra(content.get("textExtra")))
    unique: dict[str, Hashtag] = {}
    for hashtag in found:
        unique.setdefault(hashtag.title.casefold(), hashtag)
    return list(unique.values())


def parse_music(raw: object) -> Music | None:
    if not isinstance(raw, Mapping) or not raw:
        return None
    return Music(
        id=as_id(raw.get("id")),
        title=as_text(raw.get("title")),
        authorName=as_text(raw.get("authorName")),
    )


def _description(raw: Mapping[str, Any]) -> str:
    description = as_text(raw.get("desc"))
    if description is None:
        contents = mappings(raw.get("contents"))
        description = as_text(contents[0].get("desc")) if contents else None
    return description or ""


def _challenges(raw: Mapping[str, Any]) -> Iterator[Hashtag]:
    for challenge in mappings(raw.get("challenges")):
        title = as_text(challenge.get("title"))
        if title:
            yield Hashtag(id=as_id(challenge.get("id")), title=title)


def _text_extra(entries: object) -> Iterator[Hashtag]:
    for entry in mappings(entries):
        title = as_text(entry.get("hashtagName"))
        if title:
            yield Hashtag(id=as_id(entry.get("hashtagId")), title=title)
