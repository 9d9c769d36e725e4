"""Offset feeds fetched several pages at once (tiktok_spiders.spiders.offset), in process: the pages
answered in any order, a cursor that does not advance by the page size, a feed that ends early, and a
failure of a page that is not needed; each answer must be what sequential paging gives."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import scrapy
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from tiktok_spiders.errors import UpstreamUnavailable
from tiktok_spiders.items import Author, Stats, Video, VideoFile
from tiktok_spiders.params import COUNT, CURSOR
from tiktok_spiders.parsing import FeedPage
from tiktok_spiders.spiders.offset import OffsetFeedSpider

Feed = Callable[[int, int], FeedPage]


def video(n: int) -> Video:
    return Video(str(n), "", None, "", Author(), Stats(), [], VideoFile(f"u{n}", f"s{n}"))


def offset_feed(length: int, step: Callable[[int, int], int] | None = None) -> Feed:
    """A feed of ``length`` videos; the cursor after a page at ``c`` of ``n`` entries is ``step(c, n)``
    (TikTok's usual ``c + n`` by default)."""

    def page(cursor: int, size: int) -> FeedPage:
        entries: list[Any] = [video(n) for n in range(cursor, min(cursor + size, length))]
        after = (step or (lambda c, n: c + n))(cursor, len(entries))
        return FeedPage(entries, has_more=after < length, next_cursor=after)

    return page


class FakeFeedSpider(OffsetFeedSpider):
    name = "fake_feed"
    params = (COUNT, CURSOR)

    def page_request(self, cursor: int, size: int) -> scrapy.Request:
        return scrapy.Request(
            f"http://feed.invalid/?cursor={cursor}&size={size}",
            callback=cast("Any", self.parse_page),
            errback=self.page_failed,
            cb_kwargs={"cursor": cursor},
            meta={"size": size},
        )

    def read_page(self, payload: Any) -> FeedPage:
        assert isinstance(payload, FeedPage)
        return payload


@dataclass
class Answer:
    meta: dict[str, Any]


def crawl(
    feed: Feed, count: int, *, ahead: int, shuffle: int | None = None, failing: set[int] | None = None
) -> tuple[list[str], Any, list[int]]:
    """The ids a crawl yields, its ``tiktok/next_cursor`` and the cursors it asked for; the pending
    requests are answered in a shuffled order when ``shuffle`` seeds one."""
    crawler = get_crawler(FakeFeedSpider, {"TIKTOK_PAGES_AHEAD": ahead})
    spider = cast("FakeFeedSpider", crawler._create_spider(count=str(count), cursor="0"))
    crawler.spider = spider
    assert crawler.stats is not None
    crawler.stats.open_spider()
    pending = list(spider.pages_from(0))
    asked: list[int] = []
    ids: list[str] = []
    order = random.Random(shuffle) if shuffle is not None else None
    for _ in range(200):  # bounded: every pass answers one request
        if not pending:
            break
        request = pending.pop(order.randrange(len(pending)) if order else 0)
        cursor = request.cb_kwargs["cursor"]
        asked.append(cursor)
        if failing and cursor in failing:
            failure = Failure(UpstreamUnavailable("HTTP 503 from TikTok", 503))  # type: ignore[no-untyped-call]
            failure.request = request  # type: ignore[attr-defined]
            out = list(spider.page_failed(failure))
        else:
            answer = cast("Any", Answer({"tiktok_payload": feed(cursor, request.meta["size"])}))
            out = list(spider.parse_page(answer, cursor))
        pending += [entry for entry in out if isinstance(entry, scrapy.Request)]
        ids += [entry.id for entry in out if isinstance(entry, Video)]
    return ids, crawler.stats.get_value("tiktok/next_cursor"), asked


def test_pages_answered_in_any_order_give_the_sequential_answer() -> None:
    feed = offset_feed(1000)
    sequential = crawl(feed, 100, ahead=1)
    assert len(sequential[0]) == 100
    for seed in range(5):
        ids, next_cursor, _asked = crawl(feed, 100, ahead=8, shuffle=seed)
        assert (ids, next_cursor) == sequential[:2]
    assert sorted(crawl(feed, 100, ahead=8)[2]) == [0, 35, 70, 105]  # ceil(100 / (35 * 0.88)) at once


def test_a_cursor_that_does_not_advance_by_the_page_size_is_followed_where_it_goes() -> None:
    feed = offset_feed(1000, step=lambda cursor, n: cursor + n + 3)  # TikTok skips three entries
    sequential = crawl(feed, 100, ahead=1)
    ids, next_cursor, asked = crawl(feed, 100, ahead=8, shuffle=1)
    assert (ids, next_cursor) == sequential[:2]
    assert len(ids) == len(set(ids)) == 100
    assert "35" not in ids  # the page predicted at 35 was not used: TikTok's cursor said 38
    assert {0, 35, 38} <= set(asked)


def test_a_feed_that_ends_early_gives_what_it_has() -> None:
    feed = offset_feed(40)
    sequential = crawl(feed, 100, ahead=1)
    ids, next_cursor, _asked = crawl(feed, 100, ahead=8, shuffle=2)
    assert (ids, next_cursor) == sequential[:2]
    assert ids == [str(n) for n in range(40)]
    assert next_cursor is None


def test_a_failed_page_past_the_end_is_ignored_and_a_needed_one_ends_the_crawl() -> None:
    feed = offset_feed(40)
    ids, _next, asked = crawl(feed, 100, ahead=8, failing={105})
    assert 105 in asked and len(ids) == 40  # never needed: the feed ended before it
    cut_ids, _next, _asked = crawl(offset_feed(1000), 100, ahead=8, failing={35})
    assert cut_ids == [str(n) for n in range(35)]  # the second page failed: what came before it
