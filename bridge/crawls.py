"""Runs one spider crawl per cache miss through ScrapyRT's ``CrawlManager``, within a deadline, and
turns its real outcome (items, ``tiktok/error`` stats, finish reason) into an answer or a problem."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from scrapy.settings import Settings
from scrapyrt.conf.spider_settings import get_project_settings
from scrapyrt.core import CrawlManager

from bridge import problems
from tiktok_spiders.answer_keys import video_dict

logger = logging.getLogger(__name__)

#: what the spiders' ``tiktok/error`` stat says, and the problem the caller gets
_UPSTREAM_PROBLEMS = {
    "blocked": problems.upstream_blocked,
    "captcha": problems.upstream_blocked,
    "region_blocked": problems.upstream_blocked,
}


class BridgeCrawlManager(CrawlManager):  # type: ignore[misc]
    """ScrapyRT's crawl manager, minus what does not fit a service: no log file per crawl, no
    DEBUG logging, no tracebacks kept for the answer. The spider runs its own ``start()``."""

    #: built once: every crawler copies the settings it is given, so one unfrozen base is safe to share
    _settings: ClassVar[Settings | None] = None

    def __init__(self, spider_name: str) -> None:
        super().__init__(spider_name, {}, spider_start=True)
        self.debug = False

    def get_project_settings(self) -> Settings:
        if BridgeCrawlManager._settings is None:
            # The bridge reads the stats itself; formatting them for a log no one reads costs a ms or two.
            BridgeCrawlManager._settings = get_project_settings(
                # Cache warming is for scheduled crawls: the bridge stores its own answers.
                custom_settings={"LOG_FILE": None, "STATS_DUMP": False, "TIKTOK_CACHE_WARM": False}
            )
        return BridgeCrawlManager._settings

    def read_spider(self, spider: Any) -> None:
        """ScrapyRT adds a log handler per crawl here; ours log through the process's root logger."""


@dataclass
class CrawlOutcome:
    videos: list[dict[str, Any]]
    stats: dict[str, Any]

    @property
    def error(self) -> str | None:
        error = self.stats.get("tiktok/error")
        return str(error) if error is not None else None

    @property
    def next_cursor(self) -> int | None:
        cursor = self.stats.get("tiktok/next_cursor")
        return cursor if isinstance(cursor, int) else None

    def problem(self, subject: str = "hashtag") -> problems.Problem | None:
        """The problem this outcome means for the caller; None when it is an answer."""
        if self.error is None:
            if self.stats.get("finish_reason") != "finished":
                return problems.upstream_error(f"crawl ended early ({self.stats.get('finish_reason')})")
            if self.stats.get("log_count/ERROR") and not self.videos:
                return problems.internal_error()
            return None
        detail = str(self.stats.get("tiktok/error_detail") or self.error)
        if self.error == "not_found":
            return problems.not_found(f"TikTok knows no such {subject}")
        if self.error == "internal":
            return problems.internal_error()
        if self.error == "circuit_open":
            return problems.circuit_open(float(self.stats.get("tiktok/retry_after") or 1.0))
        return _UPSTREAM_PROBLEMS.get(self.error, problems.upstream_error)(f"TikTok: {detail}")


async def crawl(spider_name: str, arguments: dict[str, Any], deadline: float) -> CrawlOutcome:
    """Run ``spider_name`` once; stop it and raise a 504 problem if it outlives ``deadline`` seconds."""
    manager = BridgeCrawlManager(spider_name)
    finished = asyncio.ensure_future(manager.crawl(**arguments).asFuture(asyncio.get_running_loop()))
    done, _pending = await asyncio.wait({finished}, timeout=deadline)
    if not done:
        # The caller gets its answer now; the crawl winds down on its own (its retries are bounded).
        stopping = asyncio.ensure_future(_stop(manager, finished))
        _WINDING_DOWN.add(stopping)
        stopping.add_done_callback(_WINDING_DOWN.discard)
        raise problems.upstream_timeout(deadline)
    result = finished.result()
    # The items are the spiders' dataclasses; each answer puts the caller's base URL in the play links.
    videos = [video_dict(item) for item in result["items"]]
    return CrawlOutcome(videos, dict(result["stats"]))


#: crawls stopped at their deadline and still winding down (asyncio keeps only weak references)
_WINDING_DOWN: set[asyncio.Future[None]] = set()


def winding_down() -> int:
    return len(_WINDING_DOWN)


async def _stop(manager: BridgeCrawlManager, finished: asyncio.Future[Any]) -> None:
    engine = getattr(manager.crawler, "engine", None)
    if engine is not None and engine.running:
        with contextlib.suppress(RuntimeError):  # it closed by itself meanwhile
            await engine.close_spider_async(reason="deadline")
    # Closing cancels the crawl's requests; give it a bounded moment to wind down.
    await asyncio.wait({finished}, timeout=30)
    if finished.done() and not finished.cancelled() and finished.exception() is not None:
        logger.warning("crawl stopped at its deadline failed: %r", finished.exception())
