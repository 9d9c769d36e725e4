"""Start-up work that shortens the first answer: the browser and session open while the crawl
machinery is imported, instead of both happening inside the first caller's request."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.misc import load_object

from bridge.crawls import BridgeCrawlManager

if TYPE_CHECKING:
    from tiktok_spiders.client import TikTokClient

logger = logging.getLogger("bridge")

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


def preload_crawl_machinery() -> int:
    """Import every spider and every component a crawl will load; how many were loaded."""
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
