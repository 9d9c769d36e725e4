"""Validation pipelines: only well-typed, distinct answer items (playable videos, creators, comments,
sounds) leave a crawl, at most ``count``.

Enabled in ``settings.crawl.ITEM_PIPELINES`` in this order:

1. ``RejectedItemsPipeline`` drops the ``Rejected`` entries the parser made (ads, photo posts, lives,
   items or comments without id or play address, non-video search results);
2. ``ItemTypesPipeline`` drops an item whose fields do not have the contract's types;
3. ``DuplicatesPipeline`` drops an item already scraped in this crawl, by kind and id (feeds repeat
   items across pages);
4. ``CountLimitPipeline`` drops what exceeds the spider's ``count`` attribute.

Each drop counts ``<kind>s/dropped/<reason>`` in the crawl stats (``videos/dropped/ad``,
``comments/dropped/missing_id``, ``creators/...``, ``sounds/...``; Scrapy's own
``item_dropped_reasons_count`` only counts the exception class); a ``Rejected`` counts under its own
``kind``. Items that pass count ``<kind>s/accepted`` (``videos/accepted``). Anything else a spider
yields passes untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from types import UnionType
from typing import TYPE_CHECKING, Any, Self, Union, get_args, get_origin, get_type_hints

from scrapy.exceptions import DropItem

from tiktok_spiders.items import (
    Author,
    Comment,
    CommentAuthor,
    Creator,
    CreatorStats,
    Hashtag,
    Music,
    Rejected,
    Sound,
    Stats,
    Video,
    VideoFile,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

#: the answer items and the kind their stats are counted under
KINDS: dict[type, str] = {Video: "video", Creator: "creator", Comment: "comment", Sound: "sound"}
ACCEPTED_STAT = "videos/accepted"
DROPPED_STAT_PREFIX = "videos/dropped/"


def accepted_stat(kind: str) -> str:
    """``videos/accepted``, ``comments/accepted``, ..."""
    return f"{kind}s/accepted"


def dropped_stat(kind: str, reason: str) -> str:
    """``videos/dropped/ad``, ``comments/dropped/missing_id``, ..."""
    return f"{kind}s/dropped/{reason}"


def kind_of(item: object) -> str | None:
    """The kind of an answer item or a ``Rejected``; None for anything else (left alone)."""
    if isinstance(item, Rejected):
        return item.kind
    return KINDS.get(type(item))


class _CountingPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats: StatsCollector = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def drop(self, kind: str, reason: str, detail: str = "") -> DropItem:
        self.stats.inc_value(dropped_stat(kind, reason))
        message = f"{kind} {reason}: {detail}" if detail else f"{kind} {reason}"
        return DropItem(message, log_level="DEBUG")


class RejectedItemsPipeline(_CountingPipeline):
    def process_item(self, item: Any) -> Any:
        if isinstance(item, Rejected):
            raise self.drop(item.kind, item.reason, item.id or item.detail)
        return item


class ItemTypesPipeline(_CountingPipeline):
    """A safety net behind the parser: an item whose field breaks its annotation never reaches an
    answer, where a client would trust the contract's types."""

    def process_item(self, item: Any) -> Any:
        kind = KINDS.get(type(item))
        if kind is not None:
            problem = type_problem(item)
            if problem:
                raise self.drop(kind, "invalid_types", problem)
        return item


#: the name ``settings.crawl.ITEM_PIPELINES`` (and scrapyd deployments) know it by


class DuplicatesPipeline(_CountingPipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        #: (kind, id): a comment and a video may share a number, and are not duplicates
        self.seen: set[tuple[str, str]] = set()

    def process_item(self, item: Any) -> Any:
        kind = KINDS.get(type(item))
        if kind is not None:
            key = (kind, item.id)
            if key in self.seen:
                raise self.drop(kind, "duplicate", item.id)
            self.seen.add(key)
        return item


class CountLimitPipeline(_CountingPipeline):
    """Every answer item counts towards ``count``: a crawl yields one kind of item (its route's)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.accepted = 0

    def process_item(self, item: Any) -> Any:
        kind = KINDS.get(type(item))
        if kind is not None:
            limit = getattr(self.crawler.spider, "count", None)
            if isinstance(limit, int) and self.accepted >= limit:
                raise self.drop(kind, "over_count", item.id)
            self.accepted += 1
            self.stats.inc_value(accepted_stat(kind))
        return item


_NESTED = (
    Video,
    Author,
    Stats,
    Hashtag,
    VideoFile,
    Music,
    Creator,
    CreatorStats,
    Comment,
    CommentAuthor,
    Sound,
)
#: says what is wrong with a value (a path suffix and the expected type), or None when it fits
Check = Callable[[object], "str | None"]


def type_problem(obj: object) -> str | None:
    """The first field whose value does not match its annotation, as ``path: expected``; else None."""
    return _CHECKS[type(obj)](obj)


def _compile(expected: Any) -> Check:
    """A checker for one annotation, built once per class so each item costs only isinstance calls."""
    origin = get_origin(expected)
    if origin in (Union, UnionType):
        label = f": {expected}"
        if all(_is_plain(option) for option in get_args(expected)):
            return _plain_check(get_args(expected), label)  # one isinstance call, not one per option
        options = [_compile(option) for option in get_args(expected)]
        return lambda value: None if any(option(value) is None for option in options) else label
    if origin is list:
        element = _compile(get_args(expected)[0])

        def check_list(value: object) -> str | None:
            if not isinstance(value, list):
                return ": list"
            for index, entry in enumerate(value):
                problem = element(entry)
                if problem:
                    return f"[{index}]{problem}"
            return None

        return check_list
    if expected is type(None):
        return lambda value: None if value is None else ": None"
    if expected in _NESTED:
        label = f": {expected.__name__}"

        def check_nested(value: object) -> str | None:
            if not isinstance(value, expected):
                return label
            problem = _CHECKS[expected](value)
            return f".{problem}" if problem else None

        return check_nested
    return _plain_check((expected,), f": {getattr(expected, '__name__', expected)}")


def _is_plain(expected: Any) -> bool:
    """A class checked by isinstance alone (None's type included), not a generic or a nested item."""
    return isinstance(expected, type) and expected not in _NESTED and get_origin(expected) is None


def _plain_check(types: tuple[Any, ...], label: str) -> Check:
    allowed = tuple(types)
    if int in allowed and bool not in allowed:  # bool is an int to isinstance, not to the contract
        return lambda value: None if isinstance(value, allowed) and type(value) is not bool else label
    return lambda value: None if isinstance(value, allowed) else label


def _class_check(cls: type) -> Check:
    hints = get_type_hints(cls)
    checks = [(field.name, _compile(hints[field.name])) for field in fields(cls)]

    def check(obj: object) -> str | None:
        for name, check_field in checks:
            problem = check_field(getattr(obj, name))
            if problem:
                return name + problem
        return None

    return check


_CHECKS: dict[type, Check] = {}
_CHECKS.update({cls: _class_check(cls) for cls in _NESTED})
