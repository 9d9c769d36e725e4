"""The answers around a video: its creator and their posts, its comments and their replies, its
sound, and user search; to ``Creator``, ``Comment`` and ``Sound`` items and ``FeedPage`` pages.

Shapes as in ``shared/TIKTOK_PROTOCOL.md`` ("Endpoints beyond the feeds") and the captures
``user_detail_2025-10``, ``post_item_list*_2025-10``, ``comment_list_2026-02`` (snake_case) and the
``user_info`` of ``search_general_full_2026-02``; the emulator (``emulator/around.py``,
``emulator/comments.py``, ``emulator/api.py``) serves the same. Counts are exact where TikTok says
(``statsV2``, strings) and rounded otherwise (``stats``); what TikTok did not send is ``None``.

Each envelope parser calls ``check_status`` again (a dictionary lookup) so that a payload which did not
pass ``load_json`` still raises the typed error its status code means rather than parse as empty.
An odd comment or search result becomes a ``Rejected`` of its kind; the one object an answer is about
(a profile, a sound) raises instead, as ``parse_challenge_detail`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_spiders.errors import MalformedPayload, SoftFailure
from tiktok_spiders.items import (
    AnswerItem,
    Comment,
    CommentAuthor,
    Creator,
    CreatorStats,
    Rejected,
    Sound,
)
from tiktok_spiders.params import TOKEN_CURSOR, InvalidParameter
from tiktok_spiders.parsing.envelopes import FeedPage, check_status, parse_feed
from tiktok_spiders.parsing.items import TIKTOK_WEB
from tiktok_spiders.parsing.values import (
    as_bool,
    as_flag,
    as_id,
    as_int,
    as_text,
    first_url,
    mapping,
    mappings,
)

#: ``CreatorStats`` field -> the keys of ``userInfo.stats``/``statsV2`` that hold it, first preferred
PROFILE_STATS: dict[str, tuple[str, ...]] = {
    "followerCount": ("followerCount",),
    "followingCount": ("followingCount",),
    "heartCount": ("heartCount", "heart"),
    "videoCount": ("videoCount",),
    "diggCount": ("diggCount",),
    "friendCount": ("friendCount",),
}
#: ``CreatorStats`` field -> the snake_case key of a search ``user_info`` (no friend count there)
SEARCH_STATS: dict[str, str] = {
    "followerCount": "follower_count",
    "followingCount": "following_count",
    "heartCount": "total_favorited",
    "videoCount": "aweme_count",
    "diggCount": "favoriting_count",
}
#: the texts by which search (and comments) mark a verified account; empty on every other
_VERIFY_REASONS = ("custom_verify", "enterprise_verify_reason")


def parse_user_detail(payload: Mapping[str, Any]) -> Creator:
    """``/api/user/detail/``: ``userInfo{user, stats, statsV2}`` to a ``Creator``.

    A success whose ``user`` is empty (or has no ``id``) is how TikTok refuses a session it distrusts
    (the protocol notes' soft failure): ``SoftFailure``, so the client retries with a fresh session
    instead of answering an empty profile. A ``user`` with an id that is not TikTok's, or without a
    ``uniqueId`` (what the routes take), is ``MalformedPayload``. An unknown user never gets here:
    ``check_status`` raises ``NotFound`` for its 10221 (or 10202).
    """
    check_status(payload)
    info = mapping(payload.get("userInfo"))
    user = mapping(info.get("user"))
    raw_id = user.get("id")
    if raw_id is None or raw_id == "":
        raise SoftFailure("userInfo.user is empty: TikTok refused the session without saying so")
    creator_id, unique_id = as_id(raw_id), as_text(user.get("uniqueId"))
    if creator_id is None or not unique_id:
        raise MalformedPayload("userInfo.user has no valid id or uniqueId")
    exact, rounded = mapping(info.get("statsV2")), mapping(info.get("stats"))
    return Creator(
        id=creator_id,
        uniqueId=unique_id,
        nickname=as_text(user.get("nickname")),
        secUid=as_text(user.get("secUid")) or None,
        signature=as_text(user.get("signature")),
        avatar=first_url(user, "avatarLarger", "avatarMedium", "avatarThumb"),
        verified=as_flag(user, "verified"),
        # ``secret`` is the older name of the same flag; both sit in the capture
        privateAccount=as_flag(user, "privateAccount", "secret"),
        createTime=as_int(user.get("createTime")),
        stats=CreatorStats(
            **{name: exact_count(exact, rounded, *keys) for name, keys in PROFILE_STATS.items()}
        ),
    )


def parse_posts(payload: Mapping[str, Any], web_base: str = TIKTOK_WEB) -> FeedPage:
    """``/api/post/item_list/``: a creator's videos (pinned first, ``Video.pinned``) and TikTok's own
    cursor as ``next_token``, exactly as it wrote it.

    The cursor is a ms timestamp for the latest sort and a small number for the popular one
    (``"31865"``); nobody but TikTok reads it, so it is kept opaque, and ``next_cursor`` stays None.
    A cursor the route would refuse on the way back (``params.TOKEN_CURSOR``) is no cursor: None.
    Whether to follow it is ``has_more``'s to say.
    """
    check_status(payload)
    page = parse_feed(payload, web_base)
    page.next_cursor = None
    page.next_token = opaque_token(payload.get("cursor"))
    return page


def parse_comment_list(payload: Mapping[str, Any]) -> FeedPage:
    """``/api/comment/list/`` and ``/api/comment/list/reply/`` (the same envelope): snake_case
    ``comments``, ``cursor`` (an offset grown by the count asked, even when fewer came), ``has_more``
    0/1 and ``total``. An empty page leaves ``comments`` null (the emulator) or out."""
    check_status(payload)
    comments = payload.get("comments")
    if comments is not None and not isinstance(comments, list):
        raise MalformedPayload("comments is not a list")
    return FeedPage(
        entries=[parse_comment(raw) for raw in comments or ()],
        has_more=as_bool(payload.get("has_more")),
        next_cursor=as_int(payload.get("cursor")),
        total=as_int(payload.get("total")),
    )


def parse_comment(raw: object) -> Comment | Rejected:
    """One comment (or reply) of ``comments[]``; a ``Rejected`` of kind ``comment`` without a valid
    ``cid``. An image-only comment keeps its empty ``text`` and has ``images``."""
    if not isinstance(raw, Mapping):
        return Rejected("malformed_item", detail=type(raw).__name__, kind="comment")
    raw_id = raw.get("cid")
    if raw_id is None or raw_id == "":
        return Rejected("missing_id", kind="comment")
    comment_id = as_id(raw_id)
    if comment_id is None:
        return Rejected("invalid_id", detail=repr(raw_id)[:40], kind="comment")
    user = mapping(raw.get("user"))
    return Comment(
        id=comment_id,
        videoId=as_id(raw.get("aweme_id")),
        text=as_text(raw.get("text")) or "",
        createTime=as_int(raw.get("create_time")),
        diggCount=as_int(raw.get("digg_count")),
        replyCount=as_int(raw.get("reply_comment_total")),
        pinnedByAuthor=as_bool(raw.get("author_pin")),
        language=as_text(raw.get("comment_language")) or None,
        author=CommentAuthor(
            id=as_id(user.get("uid")),
            uniqueId=as_text(user.get("unique_id")) or None,
            nickname=as_text(user.get("nickname")),
            avatar=first_url(user, "avatar_thumb"),
        ),
        images=comment_images(raw.get("image_list")),
    )


def comment_images(image_list: object) -> list[str]:
    """One URL per attached image: the original size (``origin_url``), else the cropped one."""
    images = []
    for image in mappings(image_list):
        url = first_url(image, "origin_url", "crop_url")
        if url:
            images.append(url)
    return images


def parse_music_detail(payload: Mapping[str, Any]) -> Sound:
    """``/api/music/detail/``: ``musicInfo{music, author, stats, statsV2}`` to a ``Sound``.

    Without ``musicInfo.music.id`` there is no sound to answer: ``MalformedPayload`` (an unknown sound
    is 10202, ``NotFound``, from ``check_status``). ``original`` is None where TikTok leaves it out.
    """
    check_status(payload)
    info = mapping(payload.get("musicInfo"))
    music = mapping(info.get("music"))
    sound_id = as_id(music.get("id"))
    if sound_id is None:
        raise MalformedPayload("musicInfo.music.id is missing or not an id")
    return Sound(
        id=sound_id,
        title=as_text(music.get("title")),
        authorName=as_text(music.get("authorName")),
        original=as_flag(music, "original"),
        duration=as_int(music.get("duration")),
        cover=first_url(music, "coverLarge", "coverMedium", "coverThumb"),
        videoCount=exact_count(mapping(info.get("statsV2")), mapping(info.get("stats")), "videoCount"),
    )


def parse_user_search(payload: Mapping[str, Any]) -> FeedPage:
    """``/api/search/user/full/``: snake_case ``user_list[{user_info}]``, ``cursor`` (an offset) and
    ``has_more`` 0/1, to a page of ``Creator`` (see ``parse_search_user``). TikTok leaves the list out
    of an empty page."""
    check_status(payload)
    users = payload.get("user_list")
    if users is not None and not isinstance(users, list):
        raise MalformedPayload("user_list is not a list")
    entries: list[AnswerItem | Rejected] = [parse_search_user(entry) for entry in users or ()]
    return FeedPage(
        entries=entries,
        has_more=as_bool(payload.get("has_more")),
        next_cursor=as_int(payload.get("cursor")),
    )


def parse_search_user(entry: object) -> Creator | Rejected:
    """One ``user_list`` entry's ``user_info`` to a ``Creator`` with what search says, None for the rest.

    Search gives no ``createTime`` and no friend count, and its counts are whatever it wrote (no
    ``statsV2``; the capture's ``follower_count`` is rounded). ``verified`` comes from the reason texts
    search writes (``enterprise_verify_reason`` "verified account", or ``custom_verify``): one of them
    non-empty is verified, both empty is not, neither present is unknown (None).
    ``privateAccount`` is ``secret`` where search sends it. An entry without a valid ``uid`` or a
    ``unique_id`` (what the routes take) is a ``Rejected`` of kind ``creator``.
    """
    if not isinstance(entry, Mapping) or not isinstance(entry.get("user_info"), Mapping):
        return Rejected("malformed_item", detail=type(entry).__name__, kind="creator")
    info: Mapping[str, Any] = entry["user_info"]
    raw_id = info.get("uid")
    if raw_id is None or raw_id == "":
        return Rejected("missing_id", kind="creator")
    creator_id = as_id(raw_id)
    if creator_id is None:
        return Rejected("invalid_id", detail=repr(raw_id)[:40], kind="creator")
    unique_id = as_text(info.get("unique_id"))
    if not unique_id:
        return Rejected("missing_unique_id", creator_id, kind="creator")
    return Creator(
        id=creator_id,
        uniqueId=unique_id,
        nickname=as_text(info.get("nickname")),
        secUid=as_text(info.get("sec_uid")) or None,
        signature=as_text(info.get("signature")),
        avatar=first_url(info, "avatar_larger", "avatar_medium", "avatar_thumb"),
        verified=verified_by_reason(info),
        privateAccount=as_flag(info, "secret"),
        stats=CreatorStats(**{name: as_int(info.get(key)) for name, key in SEARCH_STATS.items()}),
    )


def verified_by_reason(info: Mapping[str, Any]) -> bool | None:
    """Verified when a verification reason text is non-empty; None when no such key was sent."""
    reasons = [info[key] for key in _VERIFY_REASONS if info.get(key) is not None]
    if not reasons:
        return None
    return any(isinstance(reason, str) and reason.strip() for reason in reasons)


def exact_count(exact: Mapping[str, Any], rounded: Mapping[str, Any], *keys: str) -> int | None:
    """The first count ``statsV2`` (exact strings) holds under ``keys``, else ``stats``'s (rounded)."""
    for source in (exact, rounded):
        for key in keys:
            count = as_int(source.get(key))
            if count is not None:
                return count
    return None


def opaque_token(value: object) -> str | None:
    """TikTok's cursor as it wrote it (a string, or the digits of an int), when the route takes it back."""
    text = as_text(value)
    if text is None:
        return None
    try:
        return str(TOKEN_CURSOR.parse(text, False))
    except InvalidParameter:
        return None
