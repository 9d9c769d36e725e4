"""Scrapy settings for stock ScrapyRT serving the textbook baseline spider as well
(``scrapyrt -s PROJECT_SETTINGS=bench.scrapyrt_settings``): the project's settings, plus
``bench.baseline_spider`` among the spider modules, so ``/crawl.json?spider_name=baseline_trending`` works.
"""

from __future__ import annotations

from settings.crawl import *  # noqa: F403
from settings.crawl import SPIDER_MODULES as PROJECT_SPIDER_MODULES

SPIDER_MODULES = [*PROJECT_SPIDER_MODULES, "bench.baseline_spider"]
