"""Validation pipelines: only playable, well-typed, distinct videos leave a crawl, at most ``count``.

Enabled in ``settings.crawl.ITEM_PIPELINES`` in this order:

1. ``RejectedItemsPipeline`` drops the ``Rejected`` entries the parser made (ads, photo posts, lives,
   items without id or play address, non-video search results);
2. ``VideoTypesPipeline`` drops a ``Video`` whose fields do not have the contract's types;
3. ``DuplicatesPipeline`` drops a video already scraped in this crawl (feeds repeat items across pages);
4. ``CountLimitPipeline`` drops what exceeds the spider's ``count`` attribute.

Each drop counts ``videos/dropped/<reason>`` in the crawl stats (Scrapy's own
``item_dropped_reasons_count`` only counts the exception class). Items that pass count
``videos/accepted``.
"""

from __future__ import annotations

from dataclasses import fields
from types import UnionType
from typing import TYPE_CHECKING, Any, Self, Union, get_args, get_origin, get_type_hints

from scrapy.exceptions import DropItem

from tiktok_spiders.items import Author, Hashtag, Music, Rejected, Stats, Video, VideoFile

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

ACCEPTED_STAT = "videos/accepted"
DROPPED_STAT_PREFIX = "videos/dropped/"


class _CountingPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats: StatsCollector = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def drop(self, reason: str, detail: str = "") -> DropItem:
        self.stats.inc_value(f"{DROPPED_STAT_PREFIX}{reason}")
        return DropItem(f"{reason}: {detail}" if detail else reason, log_level="DEBUG")


class RejectedItemsPipeline(_CountingPipeline):
    def process_item(self, item: Any) -> Any:
        if isinstance(item, Rejected):
            raise self.drop(item.reason, item.id or item.detail)
        return item


class VideoTypesPipeline(_CountingPipeline):
    def process_item(self, item: Any) -> Any:
        if isinstance(item, Video):
            problem = type_problem(item)
            if problem:
                raise self.drop("invalid_types", problem)
        return item


class DuplicatesPipeline(_CountingPipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen_ids: set[str] = set()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Video):
            if item.id in self.seen_ids:
                raise self.drop("duplicate", item.id)
            self.seen_ids.add(item.id)
        return item


class CountLimitPipeline(_CountingPipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.accepted = 0

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Video):
            limit = getattr(self.crawler.spider, "count", None)
            if isinstance(limit, int) and self.accepted >= limit:
                raise self.drop("over_count", item.id)
            self.accepted += 1
            self.stats.inc_value(ACCEPTED_STAT)
        return item


_NESTED = (Video, Author, Stats, Hashtag, VideoFile, Music)
_HINTS: dict[type, dict[str, Any]] = {cls: get_type_hints(cls) for cls in _NESTED}


def type_problem(obj: object, path: str = "") -> str | None:
    """The first field whose value does not match its annotation, as ``path: expected``; else None."""
    hints = _HINTS[type(obj)]
    for field in fields(obj):  # type: ignore[arg-type]
        value, expected = getattr(obj, field.name), hints[field.name]
        where = f"{path}{field.name}"
        problem = _value_problem(value, expected, where)
        if problem:
            return problem
    return None


def _value_problem(value: object, expected: Any, where: str) -> str | None:
    origin = get_origin(expected)
    if origin in (Union, UnionType):
        options = get_args(expected)
        if any(_value_problem(value, option, where) is None for option in options):
            return None
        return f"{where}: {expected}"
    if origin is list:
        if not isinstance(value, list):
            return f"{where}: list"
        (element,) = get_args(expected)
        for index, entry in enumerate(value):
            problem = _value_problem(entry, element, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if expected is type(None):
        return None if value is None else f"{where}: None"
    if expected in _NESTED:
        if not isinstance(value, expected):
            return f"{where}: {expected.__name__}"
        return type_problem(value, f"{where}.")
    if expected is int and isinstance(value, bool):
        return f"{where}: int"
    return None if isinstance(value, expected) else f"{where}: {getattr(expected, '__name__', expected)}"
