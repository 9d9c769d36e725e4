"""ScrapyRT settings for the HTTP bridge (``python -m bridge`` loads them into ScrapyRT's app settings).

Only what the bridge uses of ScrapyRT is set: its own resources replace ScrapyRT's ``/crawl.json``.
"""

from __future__ import annotations

#: the Scrapy settings every crawl starts from
PROJECT_SETTINGS = "settings.crawl"
CRAWL_MANAGER = "bridge.crawls.BridgeCrawlManager"
SERVICE_ROOT = "bridge.resources.Root"
#: no generic crawl endpoint: it would let any caller make the server fetch any URL
RESOURCES: dict[str, str] = {}
#: a real boolean: ScrapyRT keeps crawl tracebacks for the answer when this is true
DEBUG = False
#: the bridge enforces its own deadline (UPSTREAM_TIMEOUT); this is only ScrapyRT's backstop
TIMEOUT_LIMIT = 300
LOG_FILE = None
