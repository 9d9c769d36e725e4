"""ScrapyRT's app settings for the HTTP bridge (``python -m bridge`` loads them into ``app_settings``).

Only what the bridge uses of ScrapyRT is set: its ``CrawlManager`` (``bridge.crawls``) reads these when
each crawl is built; ``python -m bridge`` builds its own site, so ScrapyRT's resources, root and command
line settings are never read.
"""

from __future__ import annotations

#: the Scrapy settings module every crawl starts from (the bridge applies its configuration over it)
PROJECT_SETTINGS = "settings.crawl"
#: a real boolean: ScrapyRT keeps crawl tracebacks for the answer when this is true
DEBUG = False
#: the bridge enforces its own deadline (UPSTREAM_TIMEOUT); this is only ScrapyRT's backstop
TIMEOUT_LIMIT = 300
