"""Offset-cursor feeds (hashtag, search) fetched several pages at a time.

TikTok's hashtag and search feeds page by an offset: the page after one asked at ``c`` for ``n``
entries normally starts at ``c + n``. So the pages a ``count`` needs are asked for together, at the
offsets that rule predicts, instead of one round trip after another. The answers are then used in
feed order only: a page is used when the page before it (its real ``cursor``, as TikTok answered it)
confirms its offset; a page at an offset TikTok's cursor skipped is never used, and the true cursor is
asked for instead. So the videos, their order and the next cursor are what sequential paging gives.
Pages that turn out not to be needed (the feed ended, or ``count`` was reached) are ignored, failures
among them too; a failure of a needed page ends the crawl as it would have sequentially.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from tiktok_spiders.spiders.base import TikTokSpider

if TYPE_CHECKING:
    from collections.abc import Iterator

    import scrapy
    from scrapy.http import TextResponse

    from tiktok_spiders.items import Rejected, Video
    from tiktok_spiders.parsing import FeedPage


class OffsetFeedSpider(TikTokSpider):
    """A feed whose cursor is an offset; subclasses say how to ask for a page and how to read it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: set[int] = set()
        self.answered: dict[int, FeedPage | Failure] = {}
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

    def pages_from(self, cursor: int) -> Iterator[scrapy.Request]:
        """The page at ``cursor`` and those predicted to follow it, each asked for once."""
        self.expected = cursor
        size = self.page_size
        for offset in range(cursor, cursor + self.pages_ahead() * size, size):
            if offset not in self.asked:
                self.asked.add(offset)
                yield self.page_request(offset, size)

    def parse_page(self, response: TextResponse, cursor: int) -> Iterator[Video | Rejected | scrapy.Request]:
        self.answered[cursor] = self.read_page(response.meta["tiktok_payload"])
        yield from self.use_pages()

    def page_failed(self, failure: Failure) -> Iterator[Video | Rejected | scrapy.Request]:
        # Scrapy hands an errback the failure alone; the request it failed for rides on it.
        cursor = failure.request.cb_kwargs["cursor"]  # type: ignore[attr-defined]
        self.answered[cursor] = failure
        yield from self.use_pages()

    def use_pages(self) -> Iterator[Video | Rejected | scrapy.Request]:
        """Use the answered pages in feed order, as far as they reach; ask for the true cursor where
        TikTok's cursor left the predicted offsets."""
        for _ in range(len(self.answered)):  # bounded: each pass uses one page
            cursor = self.expected
            if cursor is None or cursor not in self.answered:
                return
            page = self.answered.pop(cursor)
            if isinstance(page, Failure):  # a needed page failed: the crawl ends, as sequentially
                self.expected = None
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
