"""Settings: the environment (``settings.env``) and the Scrapy settings built from it (``settings.crawl``)."""
