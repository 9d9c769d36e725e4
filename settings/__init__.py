"""Settings: the configuration, read from the environment once (``settings.env``); the Scrapy settings
derived from it (``settings.crawl``); ScrapyRT's settings for the HTTP bridge (``settings.service``)."""
