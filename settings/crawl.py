"""Scrapy settings for every spider (``scrapy.cfg`` points here): Scrapy's static settings, plus every
``settings.env.Config`` field at its default, under the field's one name (``TIKTOK_BASE_URL``,
``CHROMIUM_PATH``, ``TIKTOK_PROXY``, ``UPSTREAM_TIMEOUT``, ``BREAKER_THRESHOLD``, ...).

Importing this module reads no environment. The entry points (``python -m bridge``, the ``scrapy crawl``
command, ``harness/crawl_runner.py``, ``bench/``) load the configuration once (``load_config``) and apply
``crawl_settings(config)`` at "project" priority, so ``-s NAME=VALUE`` (cmdline) still wins; the TikTok
client reads it back with ``config_from_settings``. Commands that never fetch (``scrapy list``,
``scrapy check``) run on the defaults alone.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from settings.env import Config, config_from_values, setting_name

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

BOT_NAME = "tiktok_spiders"
SPIDER_MODULES = ["tiktok_spiders.spiders"]
NEWSPIDER_MODULE = "tiktok_spiders.spiders"

# TikTok's robots.txt forbids its API to crawlers; the service fetches what its users ask for, as
# the web app does, at a bounded rate (TIKTOK_MAX_IN_FLIGHT, TIKTOK_RATE).
ROBOTSTXT_OBEY = False
ADDONS: dict[str, int] = {}

ITEM_PIPELINES = {
    "tiktok_spiders.pipelines.RejectedItemsPipeline": 100,
    "tiktok_spiders.pipelines.ItemTypesPipeline": 200,
    "tiktok_spiders.pipelines.DuplicatesPipeline": 300,
    "tiktok_spiders.pipelines.CountLimitPipeline": 400,
}
# Cache warming (CACHE_WARM=1, for scheduled crawls on scrapyd): each crawl's answer is written into the
# shared cache (CACHE_URL) under the key the HTTP bridge reads (tiktok_spiders/warming.py). Listed only
# when enabled (``crawl_settings``), so other crawls never load it; the bridge's own crawls switch it
# off (CACHE_WARM=False).

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# No listening ports per crawl: neither Scrapy's telnet console nor its remote-control HTTP server.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

COMMANDS_MODULE = "tiktok_spiders.commands"
DOWNLOADER_MIDDLEWARES = {
    "tiktok_spiders.middlewares.TikTokApiMiddleware": 950,
    # Our requests never leave through Scrapy's HTTP stack (the page fetches them), so the
    # middlewares for its cookies, redirects, proxies, compression and auth only cost time.
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
}
# Each spider middleware wraps every item a callback yields; these three mean nothing for API
# answers (no Referer is sent by Scrapy, URLs are ours, there is no link depth).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}


def crawl_settings(config: Config) -> dict[str, Any]:
    """Scrapy's settings for ``config``: each field under its one name (but the service's own, such as
    ``LOG_FORMAT``), and the Scrapy settings that follow from them."""
    values: dict[str, Any] = {
        setting_name(each.name): getattr(config, each.name)
        for each in fields(config)
        if each.metadata["scrapy"]
    }
    values["DOWNLOAD_TIMEOUT"] = config.upstream_timeout
    if config.cache_warm:
        values["ITEM_PIPELINES"] = {**ITEM_PIPELINES, "tiktok_spiders.warming.CacheWarmingPipeline": 900}
    return values


def config_from_settings(settings: BaseSettings) -> Config:
    """The configuration Scrapy's ``settings`` hold (``crawl_settings`` read back, ``-s`` included)."""
    return config_from_values(settings.get)


# Every setting's default, so that this module alone is a complete project (``scrapy list``, stock
# ScrapyRT); the entry points apply ``crawl_settings(load_config())`` over them.
globals().update(crawl_settings(Config()))
