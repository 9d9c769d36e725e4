"""Scrapy settings for every spider (``scrapy.cfg`` points here), built from ``settings.env``.

TikTok-specific settings (read by ``tiktok_spiders``):

- ``TIKTOK_BASE_URL``: where the TikTok web app lives (the emulator in tests and the demo).
- ``TIKTOK_CHROMIUM_PATH``: the Chromium executable Playwright launches (None: Playwright's own).
- ``TIKTOK_PROXIES``: browser proxies, tried in turn (credentials never logged).
- ``TIKTOK_MS_TOKEN``: a user's own ``msToken``, optional.
- ``TIKTOK_UPSTREAM_TIMEOUT``: seconds one upstream call may take.
"""

from __future__ import annotations

from settings.env import load_config

_config = load_config()

BOT_NAME = "tiktok_spiders"
SPIDER_MODULES = ["tiktok_spiders.spiders"]
NEWSPIDER_MODULE = "tiktok_spiders.spiders"

# TikTok's robots.txt forbids its API to crawlers; the service fetches what its users ask for, as
# the web app does, at a bounded rate (see the politeness settings below).
ROBOTSTXT_OBEY = False
ADDONS: dict[str, int] = {}

ITEM_PIPELINES = {
    "tiktok_spiders.pipelines.RejectedItemsPipeline": 100,
    "tiktok_spiders.pipelines.VideoTypesPipeline": 200,
    "tiktok_spiders.pipelines.DuplicatesPipeline": 300,
    "tiktok_spiders.pipelines.CountLimitPipeline": 400,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

TIKTOK_BASE_URL = _config.tiktok_base_url
TIKTOK_CHROMIUM_PATH = _config.chromium_path
TIKTOK_PROXIES = list(_config.tiktok_proxies)
TIKTOK_MS_TOKEN = _config.tiktok_ms_token
TIKTOK_UPSTREAM_TIMEOUT = _config.upstream_timeout
DOWNLOAD_TIMEOUT = _config.upstream_timeout
