"""Offset-cursor feeds (hashtag, search, a sound's videos, comments, replies, user search) fetched
several pages at a time.

These TikTok feeds page by an offset: the page after one asked at ``c`` for ``n``
entries normally starts at ``c + n``. So the pages a ``count`` needs are asked for together, at the
offsets that rule predicts, instead of one round trip after another. The answers are then used in
feed order only: a page is used when the page before it (its real ``cursor``, as TikTok answered it)
confirms its offset; a page at an offset TikTok's cursor skipped is never used, and the true cursor is
asked for instead. So the videos, their order and the next cursor are what sequential paging gives.
Pages that turn out not to be needed (the feed ended, or ``count`` was reached) are ignored, failures
among them too; a failure of a needed page ends the crawl as it would have sequentially.

A crawl that stops inside a page (``count`` reached) records the offset right after the last entry
used. That is exact where every position holds an entry; a comment feed skips the comments TikTok
filters (its cursor still grows by the count asked), so a feed without ``headroom`` asks for exactly
what is missing and never stops inside a page: its next cursor is always TikTok's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from tiktok_spiders.errors import UpstreamError
from tiktok_spiders.parsing import FeedPage
from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import Iterator

    import scrapy
    from scrapy.http import TextResponse

    from tiktok_spiders.items import AnswerItem, Rejected


class OffsetFeedSpider(TikTokSpider):
    """A feed whose cursor is an offset; subclasses say how to ask for a page and how to read it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: set[int] = set()
        #: the pages answered, a failed one by its failure (or the error its parser raised)
        self.answered: dict[int, FeedPage | Failure | UpstreamError] = {}
        #: the offset the next page used must start at; None once the crawl has what it needs
        self.expected: int | None = None

    # what subclasses provide

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        raise NotImplementedError

    def read_page(self, payload: Any) -> FeedPage:
        raise NotImplementedError

    def speculates(self) -> bool:
        """Whether pages may be asked for ahead of need (not for a feed read from a rendered page)."""
        return True

    # paging

    def pages_ahead(self) -> int:
        return super().pages_ahead() if self.speculates() else 1

    def page_sizes(self) -> list[int]:
        """The sizes of the pages to ask for at once: equal ones; without ``headroom`` the last asks
        for just what the others leave missing, so no page holds more than the crawl needs."""
        size, pages = self.page_size, self.pages_ahead()
        if self.headroom:
            return [size] * pages
        missing = self.count - len(self.seen_ids)
        return [max(1, min(size, missing - number * size)) for number in range(pages)]

    def pages_from(self, cursor: int) -> Iterator[scrapy.Request]:
        """The page at ``cursor`` and those predicted to follow it, each asked for once."""
        self.expected = cursor
        offset = cursor
        for size in self.page_sizes():
            if offset not in self.asked:
                self.asked.add(offset)
                yield self.page_request(offset, size)
            offset += size

    def parse_page(
        self, response: TextResponse, cursor: int
    ) -> Iterator[AnswerItem | Rejected | scrapy.Request]:
        try:
            self.answered[cursor] = self.read_page(response.meta["tiktok_payload"])
        except UpstreamError as error:  # not an answer after all (a malformed page): a failed page
            self.answered[cursor] = error
        yield from self.use_pages()

    def page_failed(self, failure: Failure) -> Iterator[AnswerItem | Rejected | scrapy.Request]:
        # Scrapy hands an errback the failure alone; the request it failed for rides on it.
        cursor = failure.request.cb_kwargs["cursor"]  # type: ignore[attr-defined]
        self.answered[cursor] = failure
        yield from self.use_pages()

    def use_pages(self) -> Iterator[AnswerItem | Rejected | scrapy.Request]:
        """Use the answered pages in feed order, as far as they reach; ask for the true cursor where
        TikTok's cursor left the predicted offsets."""
        for _ in range(len(self.answered)):  # bounded: each pass uses one page
            cursor = self.expected
            if cursor is None or cursor not in self.answered:
                return
            page = self.answered.pop(cursor)
            if not isinstance(page, FeedPage):  # a needed page failed: the crawl ends, as sequentially
                self.expected = None
                if isinstance(page, UpstreamError):
                    self.record_error(page)
                else:
                    self.upstream_failed(page)
                return
            taken = self.take(page)
            yield from taken
            next_cursor = self.cursor_after(page, cursor, len(taken))
            if next_cursor is None or not self.follows(next_cursor, cursor):
                self.expected = None
                return
            self.expected = next_cursor
            if next_cursor not in self.asked:
                yield from self.pages_from(next_cursor)
