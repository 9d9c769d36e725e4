"""The API around a video: its creator and their posts, its comments and their replies, its sound
and the sound's videos, and related videos. Envelopes, parameters and status codes follow
``shared/TIKTOK_PROTOCOL.md`` ("Endpoints beyond the feeds") and the captures ``user_detail_2025-10``,
``post_item_list*_2025-10`` and ``comment_list_2026-02``; the sound and related feeds have no public
capture, so their items are the same ``itemStruct`` in the envelope the protocol notes describe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator import comments, sounds
from emulator.creators import Creator
from emulator.envelopes import (
    INVALID_PARAMETER,
    ITEM_NOT_FOUND,
    PRIVATE_ACCOUNT,
    PRIVATE_ITEM,
    USER_NOT_FOUND,
    Payload,
    envelope,
    int_param,
    snake_envelope,
)

if TYPE_CHECKING:
    from emulator.app import App
    from emulator.corpus import Urls
    from emulator.sessions import Session

MAX_POSTS_COUNT = 35  # "a count much above 35 gets 10201"
DEFAULT_COMMENT_COUNT = 20
MAX_COMMENT_COUNT = 50
DEFAULT_RELATED_COUNT = 16
MAX_FEED_COUNT = 35
#: ``post_item_list_request_type``: latest first, most popular first, oldest first
LATEST, POPULAR, OLDEST = 0, 1, 2


def user_info(creator: Creator, urls: Urls) -> Payload:
    """``userInfo`` as in the capture: the profile, rounded ``stats`` and exact ``statsV2``."""
    user = creator.author(urls.image) | {
        "nickname": creator.nickname or creator.unique_id,
        "createTime": creator.create_time,
        "commentSetting": 0,
        "duetSetting": 0,
        "stitchSetting": 0,
        "downloadSetting": 0,
        "followingVisibility": 1,
        "openFavorite": False,
        "relation": 0,
        "secret": creator.private,
        "ftc": False,
        "isADVirtual": False,
        "ttSeller": False,
        "UserStoryStatus": 0,
    }
    return {"user": user, "stats": creator.stats(), "statsV2": creator.stats_v2()}


def share_meta(creator: Creator) -> Payload:
    counts = creator.counts
    return {
        "title": f"{creator.nickname or creator.unique_id} on TikTok",
        "desc": (
            f"@{creator.unique_id} — {counts['followerCount']} followers, {counts['followingCount']} following,"
            f" {counts['heartCount']} likes — Watch amazing short videos."
        ),
    }


def user_detail(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/user/detail/?uniqueId=NAME&secUid=``: by ``uniqueId`` when given, else ``secUid``."""
    unique_id, sec_uid = params.get("uniqueId", ""), params.get("secUid", "")
    if not unique_id.strip() and not sec_uid.strip():
        return envelope(INVALID_PARAMETER, "uniqueId or secUid is required")
    creator = app.corpus.creator(unique_id, sec_uid)
    if creator is None:
        return unknown_user()
    return envelope(userInfo=user_info(creator, urls), shareMeta=share_meta(creator))


def unknown_user() -> Payload:
    """TikTok's answer for a user it does not know, as two public reports quote it word for word
    (TikTok-Api issues #1124, 2024-03, and #1158, 2024-06): ``statusCode`` 10221 beside a
    ``status_code`` of **0**, no ``statusMsg``, an empty ``userInfo``. A client that reads only
    ``status_code`` (TikTokApi 7.3.3 does) sees success, then fails on the missing ``user``."""
    payload = envelope(USER_NOT_FOUND, userInfo={})
    payload["status_code"] = 0
    del payload["statusMsg"]
    return payload


def _post_order(params: dict[str, str]) -> int | None:
    order = int_param(params, "post_item_list_request_type", LATEST)
    return order if order in (LATEST, POPULAR, OLDEST) else None


def post_items(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/post/item_list/?secUid=S&count=N&cursor=C``: pinned posts first on the first page,
    then the rest. The cursor is a string: a ms timestamp (latest or oldest first; ``0`` starts),
    or an offset (popular)."""
    corpus = app.corpus
    count = int_param(params, "count", 30)
    cursor = int_param(params, "cursor", 0)
    order = _post_order(params)
    if count is None or cursor is None or order is None or not 1 <= count <= MAX_POSTS_COUNT or cursor < 0:
        return envelope(INVALID_PARAMETER, "invalid count, cursor or post_item_list_request_type")
    creator = corpus.creator(sec_uid=params.get("secUid", ""))
    if creator is None:
        return envelope(USER_NOT_FOUND, "user doesn't exist")
    if creator.private:
        return envelope(PRIVATE_ACCOUNT, "this account is private")
    pinned, rest = corpus.posts(creator.number, order)
    if order == POPULAR:
        start = cursor
    elif cursor == 0:
        start = 0
    else:
        # the first post past the cursor's time, in the feed's direction
        sign = 1 if order == LATEST else -1
        start = next(
            (n for n, i in enumerate(rest) if sign * (cursor - corpus.post_time_ms(i)) > 0), len(rest)
        )
    first_page = cursor == 0
    head = list(pinned) if first_page else []
    page = list(rest[start : start + max(count - len(head), 1)])  # always moves on
    end = start + len(page)
    if order == POPULAR:
        next_cursor = str(end)
    elif page:
        next_cursor = str(corpus.post_time_ms(page[-1]))
    else:
        next_cursor = str(cursor)
    items = [corpus.item(i, urls) | {"isPinnedItem": True} for i in head]
    items += [corpus.item(i, urls) | {"isPinnedItem": False} for i in page]
    payload = envelope(cursor=next_cursor, hasMore=end < len(rest))
    if items:
        payload["itemList"] = items
    return payload


def _item_index(app: App, raw: str) -> int | tuple[int, str]:
    """The item an id names, or the status and message TikTok answers instead (unknown 10202,
    private 10216), for the caller's envelope (camelCase or snake_case)."""
    index = app.corpus.index_of(raw)
    if index is None:
        return ITEM_NOT_FOUND, "item doesn't exist"
    if app.corpus.is_private(index):
        return PRIVATE_ITEM, "author secret"
    return index


def _comment_page(
    app: App, threads: list[comments.Thread], cursor: int, count: int, total: int, urls: Urls
) -> Payload:
    next_cursor = cursor + count  # grows by the count asked, even when fewer came back
    return snake_envelope(
        comments=comments.page(app.corpus, threads, urls) or None,
        cursor=next_cursor,
        has_more=int(next_cursor < total),
        total=total,
        alias_comment_deleted=False,
        has_filtered_comments=int(any(comments.is_hidden(t) for t in threads)),
        reply_style=2,
        top_gifts=None,
    )


def _comment_params(params: dict[str, str]) -> tuple[int, int] | None:
    count = int_param(params, "count", DEFAULT_COMMENT_COUNT)
    cursor = int_param(params, "cursor", 0)
    if count is None or cursor is None or count < 1 or cursor < 0:
        return None
    return min(count, MAX_COMMENT_COUNT), cursor


def comment_list(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/comment/list/?aweme_id=ID&count=20&cursor=0``: snake_case, ``cursor`` an offset."""
    parsed = _comment_params(params)
    if parsed is None:
        return snake_envelope(INVALID_PARAMETER, "invalid count or cursor")
    count, cursor = parsed
    index = _item_index(app, params.get("aweme_id", ""))
    if isinstance(index, tuple):
        return snake_envelope(*index, comments=None, cursor=cursor, has_more=0, total=0)
    total = comments.comment_total(app.corpus, index, urls)
    threads = [comments.Thread(index, rank) for rank in range(cursor, min(cursor + count, total))]
    return _comment_page(app, threads, cursor, count, total, urls)


def comment_replies(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/comment/list/reply/?item_id=ID&comment_id=CID&count=20&cursor=0``: the comment's
    replies in the comments envelope. Found by ``comment_id`` alone (see comments.py)."""
    parsed = _comment_params(params)
    if parsed is None:
        return snake_envelope(INVALID_PARAMETER, "invalid count or cursor")
    count, cursor = parsed
    parent = comments.parse_cid(params.get("comment_id", ""))
    corpus = app.corpus
    known = (
        parent is not None
        and parent.reply is None
        and 0 <= parent.index < corpus.feed_items
        and parent.rank < comments.comment_total(corpus, parent.index, urls)
    )
    if parent is None or not known:
        return snake_envelope(
            ITEM_NOT_FOUND, "comment doesn't exist", comments=None, cursor=cursor, has_more=0, total=0
        )
    total = comments.reply_total(corpus, parent)
    threads = [
        comments.Thread(parent.index, parent.rank, r) for r in range(cursor, min(cursor + count, total))
    ]
    return _comment_page(app, threads, cursor, count, total, urls)


def _sound_author(app: App, sound_id: str, first: int, urls: Urls) -> dict[str, Any]:
    parsed = sounds.parse_sound_id(sound_id)
    if parsed is not None and parsed[0] == "shared":
        creator = app.corpus.creators[sounds.SharedSound(parsed[1]).artist_account]
    else:
        creator = app.corpus.creator_of(first)
    return creator.author(urls.image)


def music_detail(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/music/detail/?musicId=ID``: ``musicInfo{music, author, stats{videoCount}}``."""
    sound_id = params.get("musicId", "").strip()
    if not sound_id:
        return envelope(INVALID_PARAMETER, "musicId is required")
    items = app.corpus.sound_items(sound_id)
    if items is None:
        return envelope(ITEM_NOT_FOUND, "music doesn't exist")
    first = app.corpus.item(items[0], urls)
    music = dict(first["music"])
    video = first.get("video") or {}
    music.update(
        playUrl=video.get("playAddr") or video.get("downloadAddr") or "",
        coverLarge=urls.image("music", sound_id, "1080x1080"),
        coverMedium=urls.image("music", sound_id, "720x720"),
        coverThumb=urls.image("music", sound_id, "100x100"),
        isCopyrighted=not music["original"],
        private=False,
    )
    stats = {"videoCount": len(items)}
    return envelope(
        musicInfo={
            "music": music,
            "author": _sound_author(app, sound_id, items[0], urls),
            "stats": stats,
            "statsV2": {"videoCount": str(len(items))},
        },
        shareMeta={"title": f"{music['title']} on TikTok", "desc": f"{len(items)} videos"},
    )


def music_items(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/music/item_list/?musicID=ID&count=30&cursor=0``: ``cursor`` an offset, sent back as a
    string (``"30"``)."""
    count = int_param(params, "count", 30)
    cursor = int_param(params, "cursor", 0)
    sound_id = params.get("musicID", "").strip()
    if not sound_id or count is None or cursor is None or count < 1 or cursor < 0:
        return envelope(INVALID_PARAMETER, "invalid musicID, count or cursor")
    items = app.corpus.sound_items(sound_id)
    if items is None:
        return envelope(ITEM_NOT_FOUND, "music doesn't exist")
    page = items[cursor : cursor + min(count, MAX_FEED_COUNT)]
    next_cursor = cursor + len(page)
    payload = envelope(cursor=str(next_cursor), hasMore=next_cursor < len(items))
    if page:
        payload["itemList"] = [app.corpus.item(i, urls) for i in page]
    return payload


def related_items(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/related/item_list/?itemID=ID&count=16``: ``itemList`` only, no cursor, no ``hasMore``."""
    count = int_param(params, "count", DEFAULT_RELATED_COUNT)
    if count is None or count < 1:
        return envelope(INVALID_PARAMETER, "invalid count")
    index = _item_index(app, params.get("itemID", ""))
    if isinstance(index, tuple):
        return envelope(*index)
    related = app.corpus.related(index, min(count, MAX_FEED_COUNT))
    return envelope(itemList=[app.corpus.item(i, urls) for i in related])


ENDPOINTS = {
    "/api/user/detail/": user_detail,
    "/api/post/item_list/": post_items,
    "/api/comment/list/": comment_list,
    "/api/comment/list/reply/": comment_replies,
    "/api/music/detail/": music_detail,
    "/api/music/item_list/": music_items,
    "/api/related/item_list/": related_items,
}
