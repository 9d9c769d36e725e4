"""Scrapy settings for every spider (``scrapy.cfg`` points here), built from ``settings.env``.

TikTok-specific settings (read by ``tiktok_spiders``):

- ``TIKTOK_BASE_URL``: where the TikTok web app lives (the emulator in tests and the demo).
- ``TIKTOK_CHROMIUM_PATH``: the Chromium executable Playwright launches (None: Playwright's own).
- ``TIKTOK_PROXIES``: browser proxies, tried in turn (credentials never logged).
- ``TIKTOK_MS_TOKEN``: a user's own ``msToken``, optional.
- ``TIKTOK_UPSTREAM_TIMEOUT``: seconds one upstream call may take.
"""

from __future__ import annotations

import sys

from settings.env import ConfigError, load_config

try:
    _config = load_config()
except ConfigError as error:
    # One line, no traceback: the configuration is the user's to fix.
    sys.exit(f"configuration error: {error}")

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

# Cache warming (CACHE_WARM=1, for scheduled crawls on scrapyd): each crawl's answer is written into the
# shared cache (CACHE_URL) under the key the HTTP bridge reads (tiktok_spiders/warming.py). Listed only
# when enabled, so other crawls never load it; the bridge's own crawls switch it off (TIKTOK_CACHE_WARM).
TIKTOK_CACHE_WARM = _config.cache_warm
TIKTOK_CACHE_URL = _config.cache_url
TIKTOK_CACHE_TTL_TRENDING = _config.cache_ttl_trending
TIKTOK_CACHE_TTL_HASHTAG = _config.cache_ttl_hashtag
TIKTOK_CACHE_STALE_MAX = _config.cache_stale_max
if _config.cache_warm:
    ITEM_PIPELINES["tiktok_spiders.warming.CacheWarmingPipeline"] = 900

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# No listening ports per crawl: neither Scrapy's telnet console nor its remote-control HTTP server.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

TIKTOK_BASE_URL = _config.tiktok_base_url
TIKTOK_CHROMIUM_PATH = _config.chromium_path
TIKTOK_PROXIES = list(_config.tiktok_proxies)
TIKTOK_MS_TOKEN = _config.tiktok_ms_token
TIKTOK_UPSTREAM_TIMEOUT = _config.upstream_timeout
DOWNLOAD_TIMEOUT = _config.upstream_timeout

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

# The TikTok client (tiktok_spiders/client): recovery and upstream politeness, per process.
TIKTOK_MAX_ATTEMPTS = _config.tiktok_max_attempts  # tries of one API call, the first included
TIKTOK_RETRY_BACKOFF = _config.tiktok_retry_backoff  # seconds before the first retry; doubles each time
TIKTOK_RETRY_BACKOFF_MAX = 8.0
TIKTOK_MAX_IN_FLIGHT = 4  # upstream calls at once, across every crawl in the process
TIKTOK_RATE = "20/second"  # upstream calls per second, across every crawl ("" for no bound)
TIKTOK_SESSION_MAX_AGE = 1800.0  # seconds before a session is renewed even if TikTok still trusts it
TIKTOK_SESSION_MAX_CALLS = 500  # calls before a session is renewed (its page's memory grows with each)
TIKTOK_MAX_PAGES = 0  # feed pages one crawl may fetch; 0: count // 10 + 5
TIKTOK_SESSIONS = _config.tiktok_sessions  # sessions in the pool, each its own browser context (and proxy)
TIKTOK_STRATEGY = _config.tiktok_strategy  # auto | api | page (see the README, "When TikTok pushes back")
TIKTOK_PAGE_STRATEGY_TTL = _config.tiktok_page_strategy_ttl  # seconds auto mode keeps to pages once refused
TIKTOK_BREAKER_THRESHOLD = _config.breaker_threshold  # refused feeds in a row before calls pause (0: never)
TIKTOK_BREAKER_COOLDOWN = _config.breaker_cooldown  # seconds they pause before one probe
