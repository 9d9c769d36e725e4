"""TikTok's answer envelopes: status codes, feeds (camelCase and snake_case), challenge detail."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_spiders.errors import (
    STATUS_CODE_ERRORS,
    CaptchaRequired,
    MalformedPayload,
    SoftFailure,
    UpstreamBlocked,
    UpstreamError,
)
from tiktok_spiders.items import AnswerItem, Rejected, Video
from tiktok_spiders.parsing.items import TIKTOK_WEB, parse_item
from tiktok_spiders.parsing.values import as_bool, as_id, as_int, as_text, mapping, mappings

#: TikTok's search marks each ``data`` entry with a type; 1 is a video, others are users, lives, ...
SEARCH_VIDEO_TYPE = 1


@dataclass(slots=True)
class FeedPage:
    """One page of any feed: its entries (videos, comments, creators, and what was rejected)."""

    entries: list[AnswerItem | Rejected]
    has_more: bool
    #: an offset cursor (hashtag, search, comments, sounds)
    next_cursor: int | None = None
    #: TikTok's own cursor as it wrote it, where it is opaque (a creator's posts)
    next_token: str | None = None
    #: how many entries TikTok says the whole feed holds, where it says (comments)
    total: int | None = None

    @property
    def videos(self) -> list[Video]:
        return [entry for entry in self.entries if isinstance(entry, Video)]


@dataclass(slots=True)
class Challenge:
    """A hashtag as TikTok knows it: ``challengeID`` is what its feed is fetched by."""

    id: str
    title: str
    description: str = ""
    video_count: int | None = None
    view_count: int | None = None


def load_json(body: bytes | str) -> dict[str, Any]:
    """The JSON object of an API answer, after ``check_status``; typed errors for the rest."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedPayload("answer is not UTF-8") from exc
    if not body.strip():
        raise UpstreamBlocked("empty body: TikTok distrusts the session")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise MalformedPayload(f"answer is not JSON ({body[:1]!r}...)") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload(f"answer is a JSON {type(payload).__name__}, not an object")
    check_status(payload)
    return payload


def check_status(payload: Mapping[str, Any]) -> None:
    """Raise the typed error for a ``statusCode`` (or ``status_code``) other than 0."""
    raw_code = payload.get("statusCode", payload.get("status_code", 0))
    code = as_int(raw_code)
    if "verifyConfig" in payload or code == 10000:
        raise CaptchaRequired("captcha (statusCode 10000)", status_code=10000)
    if code == 0:
        return
    if raw_code in (-1, "-1"):
        raise SoftFailure("statusCode -1: TikTok refused the session without saying so", status_code=-1)
    if code is None:
        raise MalformedPayload(f"statusCode is not a number: {raw_code!r}"[:80])
    message = as_text(payload.get("statusMsg") or payload.get("status_msg")) or ""
    error = STATUS_CODE_ERRORS.get(code, UpstreamError)
    raise error(f"statusCode {code} {message[:100]}".strip(), status_code=code)


def parse_feed(payload: Mapping[str, Any], web_base: str = TIKTOK_WEB) -> FeedPage:
    """``/api/recommend|challenge|post/item_list/``: ``itemList``, ``hasMore``, ``cursor``.

    TikTok leaves ``itemList`` out when a page is empty, so a missing list is an empty page.
    """
    items = payload.get("itemList")
    if items is not None and not isinstance(items, list):
        raise MalformedPayload("itemList is not a list")
    return FeedPage(
        entries=[parse_item(raw, web_base) for raw in items or ()],
        has_more=as_bool(payload.get("hasMore")),
        next_cursor=as_int(payload.get("cursor")),
    )


def parse_search(payload: Mapping[str, Any], web_base: str = TIKTOK_WEB) -> FeedPage:
    """Search answers, snake_case: ``data[{type, item}]`` (general) or ``item_list`` (videos)."""
    entries: list[AnswerItem | Rejected] = []
    data, item_list = payload.get("data"), payload.get("item_list")
    if any(part is not None and not isinstance(part, list) for part in (data, item_list)):
        raise MalformedPayload("data or item_list is not a list")
    for entry in mappings(data):
        if as_int(entry.get("type")) == SEARCH_VIDEO_TYPE:
            entries.append(parse_item(entry.get("item"), web_base))
        else:
            entries.append(Rejected("not_a_video", detail=f"type {entry.get('type')!r}"[:40]))
    entries.extend(parse_item(raw, web_base) for raw in item_list or [])
    return FeedPage(
        entries=entries,
        has_more=as_bool(payload.get("has_more")),
        next_cursor=as_int(payload.get("cursor")),
    )


def parse_challenge_detail(payload: Mapping[str, Any]) -> Challenge:
    """``/api/challenge/detail/``: the ``challengeID`` that the hashtag feed needs."""
    info = mapping(payload.get("challengeInfo"))
    challenge = mapping(info.get("challenge"))
    challenge_id = as_id(challenge.get("id"))
    if challenge_id is None:
        raise MalformedPayload("challengeInfo.challenge.id is missing")
    stats = mapping(info.get("statsV2")) or mapping(info.get("stats"))
    return Challenge(
        id=challenge_id,
        title=as_text(challenge.get("title")) or "",
        description=as_text(challenge.get("desc")) or "",
        video_count=as_int(stats.get("videoCount")),
        view_count=as_int(stats.get("viewCount")),
    )


def parse_item_detail(payload: Mapping[str, Any], web_base: str = TIKTOK_WEB) -> Video | Rejected:
    """``/api/item/detail/``: ``itemInfo.itemStruct``."""
    item = mapping(payload.get("itemInfo")).get("itemStruct")
    if item is None:
        raise MalformedPayload("itemInfo.itemStruct is missing")
    return parse_item(item, web_base)


def parse_discover_hashtags(payload: Mapping[str, Any]) -> list[Challenge]:
    """``/node/share/discover``: the trending hashtags (cards of type 3)."""
    hashtags = []
    for section in mappings(payload.get("body")):
        for card in mappings(section.get("exploreList")):
            item = mapping(card.get("cardItem"))
            extra = mapping(item.get("extraInfo"))
            challenge_id = as_id(extra.get("challengeId") or item.get("id"))
            name = as_text(extra.get("challengeName")) or (as_text(item.get("title")) or "")
            if as_int(item.get("type")) == 3 and challenge_id and name:
                hashtags.append(
                    Challenge(
                        id=challenge_id,
                        title=name.removeprefix("#"),
                        description=as_text(item.get("description")) or "",
                        view_count=as_int(extra.get("views")),
                    )
                )
    return hashtags
