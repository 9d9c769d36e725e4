"""Scrapy settings for stock ScrapyRT (``scrapyrt -s PROJECT_SETTINGS=bench.scrapyrt_settings``), the
baseline: the project's settings with the configuration read from the environment applied (stock
ScrapyRT builds its crawlers from a settings module alone), plus ``bench.baseline_spider`` among the
spider modules, so ``/crawl.json?spider_name=baseline_trending`` works too.
"""

from __future__ import annotations

from settings.crawl import *  # noqa: F403
from settings.crawl import SPIDER_MODULES as PROJECT_SPIDER_MODULES
from settings.crawl import crawl_settings
from settings.env import load_config

globals().update(crawl_settings(load_config()))
SPIDER_MODULES = [*PROJECT_SPIDER_MODULES, "bench.baseline_spider"]
