"""Start-up work that shortens the first answer: the browser and session open while the routes are
imported, instead of after them or inside the first caller's request, and the rest of the crawl
machinery is imported once the session is open. Nothing here imports Scrapy until it is asked to:
``python -m bridge`` imports this module before it starts the browser."""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktok_spiders.client import TikTokClient

logger = logging.getLogger("bridge")

#: the modules ``python -m bridge`` builds its routes from, once the browser has been started
SERVICE_MODULES = ("scrapyrt.conf", "bridge.routes", "bridge.state")
#: the settings that name the components every crawl loads
_COMPONENT_SETTINGS = (
    "DOWNLOADER_MIDDLEWARES_BASE",
    "DOWNLOADER_MIDDLEWARES",
    "SPIDER_MIDDLEWARES_BASE",
    "SPIDER_MIDDLEWARES",
    "EXTENSIONS_BASE",
    "EXTENSIONS",
    "ITEM_PIPELINES",
    "DOWNLOAD_HANDLERS_BASE",
)


def import_service() -> None:
    """Import what the routes are made of (Scrapy and ScrapyRT among it): run in a thread while the
    event loop starts the browser."""
    for module in SERVICE_MODULES:
        importlib.import_module(module)


def preload_crawl_machinery() -> int:
    """Import every spider and every component a crawl will load; how many were loaded."""
    from scrapy.utils.misc import load_object  # noqa: PLC0415 - not before the browser has started

    from bridge.crawls import BridgeCrawlManager  # noqa: PLC0415

    manager = BridgeCrawlManager("trending")
    settings = manager.get_project_settings()
    loaded = 0
    for name in _COMPONENT_SETTINGS:
        for path, order in (settings.getdict(name) or {}).items():
            if order is None or not isinstance(path, str):
                continue
            try:
                load_object(path)
                loaded += 1
            except (ImportError, AttributeError, ValueError):
                pass  # an optional component; the crawl reports it if it matters
    return loaded + len(manager.spider_classes())


async def open_session(client: TikTokClient) -> None:
    try:
        await client.sessions.get()
        logger.info("browser and TikTok session ready")
    except Exception as error:
        logger.warning("could not open a TikTok session yet (%s); will retry on demand", error)


async def warm_up(client: TikTokClient) -> None:
    """The browser and the session first; then, in a thread, every component a crawl loads. Not
    both at once: those imports are some 0.3 s of CPU, and on two cores they compete with the
    Playwright driver's and Chromium's start (on a busy machine the driver took 0.6 s to start
    beside them, 0.3 s without). A first request that comes sooner imports what its crawl needs."""
    await open_session(client)
    await asyncio.to_thread(preload_crawl_machinery)
