"""Runs one spider crawl per cache miss through ScrapyRT's ``CrawlManager``, within a deadline: its
items and stats become a ``CrawlOutcome`` (``bridge.outcomes``), an outlived deadline a 504 problem."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar, Self, cast

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from scrapyrt.conf.spider_settings import get_project_settings
from scrapyrt.core import CrawlManager

from bridge import problems
from bridge.outcomes import CrawlOutcome
from settings.crawl import crawl_settings
from settings.env import Config
from tiktok_spiders.answer_keys import answered_video, item_body
from tiktok_spiders.items import Video
from tiktok_spiders.params import Value

logger = logging.getLogger(__name__)


class QuickCopySettings(Settings):
    """Settings whose ``copy()`` pickles instead of deep-copying: the same values and priorities in
    about a third of the time. Every ``Crawler`` copies the settings it is given, once per request."""

    def copy(self) -> Self:
        return cast("Self", _pickled_copy(self))

    @classmethod
    def of(cls, settings: Settings) -> QuickCopySettings:
        quick = _pickled_copy(settings)
        quick.__class__ = cls
        return cast("QuickCopySettings", quick)


def _pickled_copy(value: Any) -> Any:
    # Bytes this process made a moment ago, never anyone else's.
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301


_UNUSED_DOWNLOADER_MIDDLEWARES = (
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware",
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware",
    "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware",
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware",
    "scrapy.downloadermiddlewares.retry.RetryMiddleware",
    "scrapy.downloadermiddlewares.stats.DownloaderStats",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
)
#: a development aid that wraps every item a callback yields
_UNUSED_SPIDER_MIDDLEWARES = ("scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware",)


class BridgeCrawlManager(CrawlManager):  # type: ignore[misc]
    """ScrapyRT's crawl manager, minus what does not fit a service: no log file per crawl, no
    DEBUG logging, no tracebacks kept for the answer. The spider runs its own ``start()``.

    ScrapyRT builds a ``CrawlerRunner`` (settings copy, spider loader) per request; here the settings
    and the spider classes are built once per process and each request gets only its ``Crawler``."""

    #: the configuration ``python -m bridge`` loaded and checked at start (``configure``)
    _config: ClassVar[Config | None] = None
    #: built once: every crawler copies the settings it is given, so one unfrozen base is safe to share
    _settings: ClassVar[QuickCopySettings | None] = None
    _spider_classes: ClassVar[dict[str, type[Spider]]] = {}

    @classmethod
    def configure(cls, config: Config) -> None:
        """Every crawl of this process takes its settings from ``config`` (read once, at start)."""
        cls._config = config
        cls._settings = None

    def __init__(self, spider_name: str) -> None:
        super().__init__(spider_name, {}, spider_start=True)
        self.debug = False

    def get_project_settings(self) -> Settings:
        if BridgeCrawlManager._settings is None:
            project = get_project_settings(
                custom_settings={
                    "LOG_FILE": None,
                    # The bridge reads the stats itself; formatting them for a log no one reads
                    # costs a ms or two.
                    "STATS_DUMP": False,
                    # Per crawl, these two start timers that a crawl of a few ms never needs.
                    "MEMUSAGE_ENABLED": False,
                    "LOGSTATS_INTERVAL": 0,
                    # Scrapy reads and parses the callback's source for this check on every
                    # crawl (its cache is keyed by the bound method); batch crawls still do it.
                    "WARN_ON_GENERATOR_RETURN_VALUE": False,
                }
            )
            # The configuration ``python -m bridge`` validated at start, below the overrides above.
            # Cache warming is for scheduled crawls: the bridge stores its own answers, so its crawls
            # never list the pipeline.
            if BridgeCrawlManager._config is None:
                raise RuntimeError("BridgeCrawlManager.configure(config) first")
            config = replace(BridgeCrawlManager._config, cache_warm=False)
            project.setdict(crawl_settings(config), priority="project")
            settings = QuickCopySettings.of(project)
            # Built for every crawl, used by none of the bridge's: API answers never pass Scrapy's HTTP
            # stack, and the bridge reads only the spiders' own stats.
            settings["DOWNLOADER_MIDDLEWARES"].update(
                dict.fromkeys(_UNUSED_DOWNLOADER_MIDDLEWARES), "cmdline"
            )
            settings["SPIDER_MIDDLEWARES"].update(dict.fromkeys(_UNUSED_SPIDER_MIDDLEWARES), "cmdline")
            BridgeCrawlManager._settings = settings
        return BridgeCrawlManager._settings

    def spider_classes(self) -> dict[str, type[Spider]]:
        """Every spider of the project by name, loaded once per process (the warm-up loads them)."""
        if not BridgeCrawlManager._spider_classes:
            loader = get_spider_loader(self.get_project_settings())
            BridgeCrawlManager._spider_classes = {name: loader.load(name) for name in loader.list()}
        return BridgeCrawlManager._spider_classes

    async def crawl_async(self, **arguments: Any) -> dict[str, Any]:
        """Run the spider once; ScrapyRT's result: ``items`` (the spider's items) and ``stats``."""
        self.crawler = Crawler(self.spider_classes()[self.spider_name], self.get_project_settings())
        self.crawler.signals.connect(self.get_item, signals.item_scraped)
        await self.crawler.crawl_async(**arguments)
        return cast("dict[str, Any]", self.return_items(None))


async def crawl(spider_name: str, arguments: Mapping[str, Value], deadline: float) -> CrawlOutcome:
    """Run ``spider_name`` once; stop it and raise a 504 problem if it outlives ``deadline`` seconds."""
    manager = BridgeCrawlManager(spider_name)
    finished = asyncio.ensure_future(manager.crawl_async(**arguments))
    done, _pending = await asyncio.wait({finished}, timeout=deadline)
    if not done:
        # The caller gets its answer now; the crawl winds down on its own (its retries are bounded).
        stopping = asyncio.ensure_future(_stop(manager, finished))
        _WINDING_DOWN.add(stopping)
        stopping.add_done_callback(_WINDING_DOWN.discard)
        raise problems.upstream_timeout(deadline)
    result = finished.result()
    # The items are the spiders' dataclasses; each answer puts the caller's base URL in the play links.
    items = result["items"]
    if all(isinstance(item, Video) for item in items):
        return CrawlOutcome([answered_video(item) for item in items], dict(result["stats"]))
    videos, bodies = [], []
    for item in items:
        if isinstance(item, Video):
            video = answered_video(item)
            videos.append(video)
            bodies.append(video.body)
        else:
            bodies.append(item_body(item))
    return CrawlOutcome(videos, dict(result["stats"]), bodies)


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
