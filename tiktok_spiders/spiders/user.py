"""``user``: a creator's videos, pinned ones first as TikTok sends them, from ``cursor``, paged until
``count`` or the end.

``scrapy crawl user -a uniqueId=chef_tony -a count=100 -a cursor=0 -O posts.jsonl``

The profile is asked first (``/api/user/detail/``, as ``creator`` does) for the ``secUid`` the posts
feed (``/api/post/item_list/``) is asked by; then the pages one after another, each at the cursor
TikTok's last answer gave (a string: a ms timestamp, or a small number; never read here).

The next cursor, ``tiktok/next_cursor`` (a string; None at the end), is where a crawl that asks for
it goes on with no video twice and none left out:

- TikTok's own cursor when the crawl used its last page whole;
- ``"<cursor>.<skip>"`` when the crawl stopped inside a page: the TikTok cursor that page was asked
  at, and how many of its entries were used (TikTok's cursor says nothing of where inside its page
  to resume). Given back, the page at ``<cursor>`` is asked for again and its first ``<skip>``
  entries are left out (ads and other rejected entries count: they are TikTok's entries). A cursor
  without a ``.<digits>`` end is passed to TikTok whole; a TikTok cursor ending so would be misread
  (none does today: a timestamp or a small number).

A private account ends the crawl with ``tiktok/error`` = ``private`` and no item: when the profile
says so (``privateAccount``), without asking for its posts (a session that is not logged in never
sees them; TikTok may answer that call with an empty list rather than an error), and when the posts
call answers 10222. An unknown user ends it with ``not_found``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from tiktok_spiders.errors import MalformedPayload, PrivateContent
from tiktok_spiders.feeds import CREATOR_VIDEOS
from tiktok_spiders.parsing import parse_posts, parse_user_detail
from tiktok_spiders.spiders.base import TikTokSpider
from tiktok_spiders.spiders.creator import PROFILE_REQUIRES, USER_DETAIL, profile_params

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.http import TextResponse

    from tiktok_spiders.items import AnswerItem, Rejected
    from tiktok_spiders.parsing import FeedPage

POSTS = "/api/post/item_list/"
#: "a count much above 35 gets 10201"
MAX_POSTS_PAGE = 35


def split_cursor(cursor: str) -> tuple[str, int]:
    """``(TikTok's cursor, entries to skip from it)`` from a cursor this spider recorded; a cursor
    without a ``.<digits>`` end is TikTok's own, whole."""
    token, dot, skip = cursor.rpartition(".")
    if not dot or not token or not skip.isdigit():
        return cursor, 0
    return token, int(skip)


def resume_cursor(token: str, skip: int) -> str:
    """The cursor that continues ``skip`` entries past TikTok's ``token``."""
    return f"{token}.{skip}" if skip else token


class UserSpider(TikTokSpider):
    name = "user"
    params = CREATOR_VIDEOS.params

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unique_id = str(self.arguments["uniqueId"])
        self.token, self.skip = split_cursor(str(self.arguments["cursor"]))
        self.sec_uid = ""

    async def start(self) -> AsyncIterator[Any]:
        yield self.api_request(
            USER_DETAIL, profile_params(self.unique_id), require=PROFILE_REQUIRES, callback=self.parse_profile
        )

    def parse_profile(self, response: TextResponse) -> Iterator[scrapy.Request]:
        creator = self.read(parse_user_detail, response)
        if creator is None:
            return
        if creator.privateAccount:
            self.record_error(PrivateContent("the account is private (its profile says privateAccount)"))
            return
        if not creator.secUid:
            self.record_error(MalformedPayload("the profile has no secUid to ask its posts by"))
            return
        self.sec_uid = creator.secUid
        yield self.posts_request(self.token, self.skip)

    def posts_request(self, token: str, skip: int) -> scrapy.Request:
        # The skipped entries come in the page too: ask for them on top of what is missing.
        size = min(MAX_POSTS_PAGE, skip + self.page_size)
        params: dict[str, str | int] = {"secUid": self.sec_uid, "count": size, "cursor": token}
        return self.api_request(
            POSTS, params, callback=self.parse_posts, cb_kwargs={"token": token, "skip": skip}
        )

    def parse_posts(
        self, response: TextResponse, token: str, skip: int
    ) -> Iterator[AnswerItem | Rejected | scrapy.Request]:
        page = self.read(parse_posts, response)
        if page is None:
            return
        skipped = min(skip, len(page.entries))
        taken = self.take(dataclasses.replace(page, entries=page.entries[skipped:]))
        yield from taken
        # What a resumed cursor skips may run past this page (TikTok sent fewer than before).
        next_cursor = self.resume_after(page, token, skipped + len(taken), skip - skipped)
        following = page.next_token
        if next_cursor is None or following is None or following == token or not self.wants_more:
            return  # the end, ``count`` reached, or a TikTok cursor that did not move on
        yield self.posts_request(following, skip - skipped)

    def resume_after(self, page: FeedPage, token: str, used: int, still_to_skip: int) -> str | None:
        """Where the next answer starts once ``used`` of the page's entries are used (skipped ones
        included); recorded as ``tiktok/next_cursor`` and ``tiktok/has_more``."""
        if used < len(page.entries):
            next_cursor: str | None = resume_cursor(token, used)
        elif page.has_more and page.next_token is not None:
            next_cursor = resume_cursor(page.next_token, still_to_skip)
        else:
            next_cursor = None
        self.record("next_cursor", next_cursor)
        self.record("has_more", next_cursor is not None)
        return next_cursor
