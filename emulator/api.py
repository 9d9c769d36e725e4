"""The JSON API under ``/api/``: TikTok's envelopes and status codes over the corpus.

Each endpoint is a pure function from (app, session, params, urls) to a payload; ``ApiRoute`` puts
the defences and faults in front of it. The order per call: count it, check the defences (refusal:
200 empty body), then maybe answer with a fault, else the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from emulator import around, defences, webutil
from emulator.app import PLAY_URL_TTL
from emulator.corpus import Urls, normalise_text
from emulator.envelopes import (
    HASHTAG_NOT_FOUND,
    INVALID_PARAMETER,
    ITEM_NOT_FOUND,
    PRIVATE_ITEM,
    Payload,
    envelope,
    int_param,
    snake_envelope,
)
from emulator.faults import EmptyBody, JsonBody, fault_resource

if TYPE_CHECKING:
    from twisted.web.server import Request

    from emulator.app import App
    from emulator.sessions import Session

Endpoint = Callable[["App", "Session", dict[str, str], Urls], Payload]

MAX_COUNT = 35
DEFAULT_COUNT = 30
#: general search answers a dozen entries a page, as in the capture, unless ``count`` says otherwise
GENERAL_SEARCH_COUNT = 12
#: user search answers ten users a page unless ``count`` says otherwise
USER_SEARCH_COUNT = 10
#: general search mixes a users card (type 4) in at these positions of its result list: 2, 22, 42, ...
USERS_CARD_EVERY, USERS_CARD_AT = 20, 2
SEARCH_VIDEO, SEARCH_USERS = 1, 4


def recommend(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    count = int_param(params, "count", DEFAULT_COUNT)
    if count is None or count < 1:
        return envelope(INVALID_PARAMETER, "invalid count")
    count = min(count, MAX_COUNT)
    page = app.corpus.trending_page(session.ttwid, session.trending_calls, session.last_trending, count)
    session.trending_calls += 1
    session.last_trending = page
    # No cursor: each call is a fresh page, as on TikTok.
    return envelope(hasMore=True, itemList=[app.corpus.item(i, urls) for i in page])


def challenge_detail(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    name = params.get("challengeName", "").strip()
    if not name:
        return envelope(INVALID_PARAMETER, "challengeName is required")
    tag = app.corpus.hashtag(name)
    unknown = {n.casefold() for n in app.faults.config.unknown_hashtags}
    if tag is None or tag.title.casefold() in unknown or name.casefold() in unknown:
        return envelope(HASHTAG_NOT_FOUND, "")
    stats = {"videoCount": len(tag.feed), "viewCount": tag.view_count}
    challenge = {
        "id": tag.id,
        "title": tag.title,
        "desc": f"#{tag.title} ✨ all about {tag.title}",
        "profileThumb": urls.image("challenge", tag.id, "100x100"),
        "profileMedium": urls.image("challenge", tag.id, "720x720"),
        "profileLarger": urls.image("challenge", tag.id, "1080x1080"),
        "coverThumb": urls.image("challenge", tag.id + "c", "100x100"),
        "isCommerce": False,
        "stats": stats,
    }
    return envelope(
        challengeInfo={
            "challenge": challenge,
            "stats": stats,
            "statsV2": {k: str(v) for k, v in stats.items()},
        },
        shareMeta={"desc": challenge["desc"], "title": f"#{tag.title} on TikTok"},
    )


def challenge_items(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    challenge_id = params.get("challengeID", "")
    count = int_param(params, "count", DEFAULT_COUNT)
    cursor = int_param(params, "cursor", 0)
    if not challenge_id.isdigit() or count is None or cursor is None or count < 1 or cursor < 0:
        return envelope(INVALID_PARAMETER, "invalid challengeID, count or cursor")
    tag = app.corpus.hashtag_by_id(challenge_id)
    if tag is None or tag.title.casefold() in {n.casefold() for n in app.faults.config.unknown_hashtags}:
        return envelope(cursor=cursor, hasMore=False)
    count = min(count, MAX_COUNT)
    page = tag.feed[cursor : cursor + count]
    next_cursor = cursor + len(page)
    payload = envelope(cursor=next_cursor, hasMore=next_cursor < len(tag.feed))
    if page:
        # TikTok leaves the key out, rather than sending [], once a feed is exhausted.
        payload["itemList"] = [app.corpus.item(i, urls) for i in page]
    return payload


def item_detail(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    item_id = params.get("itemId", "")
    if not item_id:
        return envelope(INVALID_PARAMETER, "itemId is required")
    index = app.corpus.index_of(item_id)
    if index is None:
        return envelope(ITEM_NOT_FOUND, "item doesn't exist")
    if app.corpus.is_private(index):
        return envelope(PRIVATE_ITEM, "author secret")
    item = app.corpus.item(index, urls)
    return envelope(
        itemInfo={"itemStruct": item},
        shareMeta={"desc": item.get("desc", ""), "title": "TikTok video"},
    )


def _search_params(params: dict[str, str], default_count: int) -> tuple[str, int, int] | None:
    keyword = " ".join(params.get("keyword", "").split())
    count = int_param(params, "count", default_count)
    offset = int_param(params, "offset", 0)
    if not keyword or count is None or offset is None or count < 1 or offset < 0:
        return None
    return keyword, min(count, MAX_COUNT), offset


def search_items(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/search/item/full/``: videos only, ``item_list``; ``offset`` indexes the results and the
    answer's ``cursor`` is the next one."""
    parsed = _search_params(params, DEFAULT_COUNT)
    if parsed is None:
        return snake_envelope(INVALID_PARAMETER, "invalid keyword, count or offset")
    keyword, count, offset = parsed
    results = app.corpus.search(keyword)
    page = results[offset : offset + count]
    next_offset = offset + len(page)
    payload = snake_envelope(cursor=next_offset, has_more=int(next_offset < len(results)))
    if page:  # as the feeds do, TikTok leaves the list out rather than sending []
        payload["item_list"] = [app.corpus.item(i, urls) for i in page]
    return payload


def _general_results(app: App, keyword: str) -> list[tuple[int, int]]:
    """The general results as (type, item index): the videos, with a users card mixed in every
    ``USERS_CARD_EVERY`` entries (its index names the video whose author it shows)."""
    entries: list[tuple[int, int]] = []
    for index in app.corpus.search(keyword):
        if len(entries) % USERS_CARD_EVERY == USERS_CARD_AT:
            entries.append((SEARCH_USERS, index))
        entries.append((SEARCH_VIDEO, index))
    return entries


def _user_info(item: Payload) -> Payload:
    """The snake_case ``user_info`` of an item's author, shaped like the capture's."""
    author = item["author"]
    return {
        "uid": author["id"],
        "nickname": author.get("nickname", author["uniqueId"]),
        "signature": author.get("signature", ""),
        "avatar_thumb": {"uri": "avatar", "url_list": [author["avatarThumb"]]},
        "follow_status": 0,
        "follower_count": item.get("authorStats", {}).get("followerCount", 0),
        "total_favorited": item.get("authorStats", {}).get("heartCount", 0),
        "custom_verify": "",
        "enterprise_verify_reason": "verified account" if author.get("verified") else "",
        "unique_id": author["uniqueId"],
        "sec_uid": author["secUid"],
        "room_id": 0,
        "room_id_str": "0",
    }


def _user_entry(item: Payload) -> Payload:
    return {"user_info": _user_info(item), "position": None, "uniqid_position": None, "items": None}


def _users_card(item: Payload) -> Payload:
    """A type 4 entry (``user_list``), shaped like the capture's; not a video."""
    return {
        "type": SEARCH_USERS,
        "user_list": [_user_entry(item)],
        "has_top_user": 0,
        "view_more": True,
        "card_title": "Users",
        "common": {"doc_id_str": item["author"]["id"]},
    }


def search_general(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/search/general/full/``: ``data[{type, item}]``, videos (type 1) and users cards (type 4)."""
    parsed = _search_params(params, GENERAL_SEARCH_COUNT)
    if parsed is None:
        return snake_envelope(INVALID_PARAMETER, "invalid keyword, count or offset")
    keyword, count, offset = parsed
    results = _general_results(app, keyword)
    page = results[offset : offset + count]
    next_offset = offset + len(page)
    data = []
    for kind, index in page:
        item = app.corpus.item(index, urls)
        if kind == SEARCH_VIDEO:
            data.append({"type": SEARCH_VIDEO, "item": item, "common": {"doc_id_str": item["id"]}})
        else:
            data.append(_users_card(item))
    payload = snake_envelope(
        cursor=next_offset, has_more=int(next_offset < len(results)), qc="", ad_info={}, backtrace=""
    )
    if data:
        payload["data"] = data
    return payload


def search_users(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/search/user/full/``: ``user_list[{user_info}]``, one entry per distinct author of the
    matching items; ``cursor`` indexes the users and the answer's ``cursor`` is the next one."""
    keyword = " ".join(params.get("keyword", "").split())
    count = int_param(params, "count", USER_SEARCH_COUNT)
    cursor = int_param(params, "cursor", 0)
    if not keyword or count is None or cursor is None or count < 1 or cursor < 0:
        return snake_envelope(INVALID_PARAMETER, "invalid keyword, count or cursor")
    count = min(count, MAX_COUNT)
    users = app.corpus.search_authors(normalise_text(keyword))
    page = users[cursor : cursor + count]
    next_cursor = cursor + len(page)
    payload = snake_envelope(cursor=next_cursor, has_more=int(next_cursor < len(users)))
    if page:  # as the other searches do, the list is left out rather than sent empty
        payload["user_list"] = [_user_entry(app.corpus.item(i, urls)) for i in page]
    return payload


def policy_notice(app: App, session: Session, params: dict[str, str], urls: Urls) -> Payload:
    """``/api/policy/notice/``: a call the pages make on their own after load (pages.py). Its real
    answer is not in any capture at hand; the emulator answers the bare envelope, no notices."""
    return envelope()


ENDPOINTS: dict[str, Endpoint] = {
    **around.ENDPOINTS,
    "/api/recommend/item_list/": recommend,
    "/api/challenge/detail/": challenge_detail,
    "/api/challenge/item_list/": challenge_items,
    "/api/item/detail/": item_detail,
    "/api/search/item/full/": search_items,
    "/api/search/general/full/": search_general,
    "/api/search/user/full/": search_users,
    "/api/policy/notice/": policy_notice,
}


def urls_for(app: App, request: Request) -> Urls:
    return Urls(webutil.base_url(request), int(app.clock.now()) + PLAY_URL_TTL)


class ApiRoute(webutil.Leaf):
    def __init__(self, app: App, route: str) -> None:
        super().__init__()
        self.app = app
        self.route = route
        self.endpoint = ENDPOINTS[route]

    def render_GET(self, request: Request) -> bytes | int:
        app = self.app
        params = webutil.query(request)
        session, reason = defences.check(
            app.sessions,
            webutil.cookie(request, "ttwid"),
            webutil.raw_url(request),
            params,
            require_gnarly=app.faults.config.block_api,
        )
        if session is None:
            app.stats.api_refused[reason] += 1
            return EmptyBody().render(request)
        live_session = session
        urls = urls_for(app, request)

        def body() -> bytes:
            return webutil.json_bytes(self.endpoint(app, live_session, params, urls))

        picked = app.faults.pick(self.route)
        if picked is not None:
            name, rule = picked
            app.stats.faults_injected[name] += 1
            return webutil.render(fault_resource(name, rule, body, app.reactor, self.route), request)
        app.stats.api_ok[self.route] += 1
        return JsonBody(body()).render(request)
