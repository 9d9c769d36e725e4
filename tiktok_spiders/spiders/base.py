"""What every TikTok spider shares: validated arguments, API requests, paging until ``count``.

Outcome stats a caller (the HTTP bridge, a batch user) can read after the crawl:

- ``tiktok/error``: the ``reason`` of the upstream error that ended the crawl (``not_found``,
  ``blocked``, ``captcha``, ``rate_limited``, ``unavailable``, ``malformed``, ...), absent on success;
  ``tiktok/error_detail``: its one-line description.
- ``tiktok/pages``: feed pages fetched; ``tiktok/has_more``: whether upstream has more;
  ``tiktok/next_cursor``: where the next page starts (the paged feeds: an offset, or for a creator's
  videos a string, ``tiktok_spiders.spiders.user``).

A crawl yields ``AnswerItem``s (videos, creators, comments, sounds) and the ``Rejected`` entries the
pipelines count; ``count`` counts distinct ids among the items.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlencode

import scrapy

from tiktok_spiders.errors import UpstreamError
from tiktok_spiders.items import Rejected
from tiktok_spiders.params import COUNT, InvalidParameter, Param, Value, parse_arguments

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from scrapy.http import TextResponse
    from twisted.python.failure import Failure

    from tiktok_spiders.items import AnswerItem
    from tiktok_spiders.parsing import FeedPage

#: TikTok's web app asks for at most this many items per page
MAX_PAGE_SIZE = 35
#: new playable videos in a page of N entries, about: ads, photo posts, lives and repeats are the rest
VIDEOS_PER_ENTRY = 0.88
_Parsed = TypeVar("_Parsed")


class TikTokSpider(scrapy.Spider):
    #: the arguments a user may give (``-a name=value``): a feed spider's are its feed's parameters
    #: (``tiktok_spiders.feeds``), with the batch limits; scrapyd adds its own, which start with _
    params: ClassVar[tuple[Param, ...]] = (COUNT,)
    #: the most entries one page asks for
    max_page_size: ClassVar[int] = MAX_PAGE_SIZE
    #: whether a page asks for more entries than are missing: in a video feed ads, photo posts and
    #: repeats do not count towards ``count``; a feed whose entries are all items (comments, creators)
    #: asks for exactly what is missing, so its crawl never stops inside a page
    headroom: ClassVar[bool] = True

    def __init__(self, **kwargs: Any) -> None:
        given = {param.name: kwargs.pop(param.name) for param in self.params if param.name in kwargs}
        super().__init__(**kwargs)
        #: the arguments parsed, every parameter present: ``{"hashtag": "food", "count": 30, "cursor": 0}``.
        #: Parsed with the batch limits (``count`` up to 10,000): for a crawl the HTTP bridge starts
        #: this is a second pass over values its route already checked against the tighter HTTP limits
        #: of the same ``Param``s, so it cannot refuse them; for ``scrapy crawl`` it is the only check.
        self.arguments: dict[str, Value] = parse_arguments(self.params, given, batch=True)
        self.count = int(self.arguments.get("count", 1))
        self.seen_ids: set[str] = set()
        self.pages = 0

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, str]) -> None:
        """Raise ``InvalidParameter`` for bad spider arguments, before any crawl starts."""
        names = [param.name for param in cls.params]
        for name in arguments:
            if name not in names and not name.startswith("_"):
                raise InvalidParameter(name, f"unknown argument (this spider takes {', '.join(names)})")
        cls(**arguments)

    @property
    def base_url(self) -> str:
        return str(self.settings.get("TIKTOK_BASE_URL"))

    @property
    def page_size(self) -> int:
        # Ask for some headroom: ads, photo posts and duplicates do not count towards ``count``.
        missing = self.count - len(self.seen_ids)
        extra = missing // 4 + 2 if self.headroom else 0
        return max(1, min(self.max_page_size, missing + extra))

    @property
    def max_pages(self) -> int:
        """Pages one crawl may use: bounded even when upstream keeps saying "more" but serves only
        duplicates or ads."""
        return self.settings.getint("TIKTOK_MAX_PAGES") or self.count // 10 + 5

    def pages_ahead(self) -> int:
        """How many pages to ask for at once: what the missing videos should take, within
        ``TIKTOK_PAGES_AHEAD`` and the pages the crawl may still fetch."""
        missing = self.count - len(self.seen_ids)
        per_entry = VIDEOS_PER_ENTRY if self.headroom else 1.0
        wanted = math.ceil(missing / (self.page_size * per_entry))
        limit = self.settings.getint("TIKTOK_PAGES_AHEAD") or 1
        return max(1, min(wanted, limit, self.max_pages - self.pages))

    @property
    def wants_more(self) -> bool:
        return len(self.seen_ids) < self.count and self.pages < self.max_pages

    def api_request(
        self,
        path: str,
        params: Mapping[str, str | int],
        page: dict[str, Any] | None = None,
        require: str | None = None,
        **kwargs: Any,
    ) -> scrapy.Request:
        """A request the TikTok middleware answers; ``page`` names the page that shows the same feed,
        ``require`` what a true answer always holds (``tiktok_spiders.middlewares``)."""
        call: dict[str, Any] = {"path": path, "params": dict(params)}
        if page is not None:
            call["page"] = {"api_path": path, **page}
        if require is not None:
            call["require"] = require
        return scrapy.Request(
            f"{self.base_url}{path}?{urlencode(params)}",
            meta={"tiktok_api": call},
            dont_filter=True,
            **{"errback": self.upstream_failed, **kwargs},
        )

    def read(self, parse: Callable[[Any], _Parsed], response: TextResponse) -> _Parsed | None:
        """``parse`` of the answer's payload; None, the error recorded, when the parser finds it is
        not an answer (an ``UpstreamError``: a soft failure the client's check let pass, a malformed
        answer), which ends the crawl as a refused call does."""
        try:
            return parse(response.meta["tiktok_payload"])
        except UpstreamError as error:
            self.record_error(error)
            return None

    def take(self, page: FeedPage) -> list[AnswerItem | Rejected]:
        """The page's entries until ``count`` distinct items; how many it used is the list's length."""
        self.pages += 1
        self.record("pages", self.pages)
        self.record("has_more", page.has_more)
        taken: list[AnswerItem | Rejected] = []
        for entry in page.entries:
            if len(self.seen_ids) >= self.count:
                break
            if not isinstance(entry, Rejected):
                self.seen_ids.add(entry.id)
            taken.append(entry)
        return taken

    def cursor_after(self, page: FeedPage, cursor: int, consumed: int) -> int | None:
        """After ``take`` used ``consumed`` entries of ``page``: where the next answer starts in an
        offset-cursor feed (hashtag, search), or None at the end; recorded as ``tiktok/next_cursor``
        and ``tiktok/has_more``."""
        if consumed < len(page.entries):
            # Stopped inside the page: the next answer starts right after the last entry used
            # (the cursor is an offset into the feed).
            next_cursor: int | None = cursor + consumed
        else:
            next_cursor = page.next_cursor if page.has_more else None
        self.record("next_cursor", next_cursor)
        self.record("has_more", next_cursor is not None)
        return next_cursor

    def follows(self, next_cursor: int, cursor: int) -> bool:
        """Whether to fetch the page at ``next_cursor``: upstream moved forward and more is wanted."""
        return next_cursor > cursor and self.wants_more

    def record(self, key: str, value: object) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(f"tiktok/{key}", value)

    def record_error(self, error: UpstreamError) -> None:
        self.record("error", error.reason)
        self.record("error_detail", error.detail)
        if error.status_code is not None:
            self.record("error_status", error.status_code)
        if error.retry_after is not None:
            self.record("retry_after", round(error.retry_after, 1))
        self.logger.warning("upstream %s: %s", error.reason, error.detail)

    def upstream_failed(self, failure: Failure) -> None:
        error = failure.value
        if isinstance(error, UpstreamError):
            self.record_error(error)
        else:
            self.record("error", "internal")
            self.record("error_detail", type(error).__name__)
            self.logger.error("the TikTok client failed: %r", error)
