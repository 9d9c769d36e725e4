"""The HTTP service (DESIGN.md section 1): a Twisted-free core - the answer policy (``policy``), its
caches, the video index, replies as values - under a thin shell of Twisted resources (``routes``,
``shell``, ``videos``, ``writer``) on Twisted's asyncio reactor (``__main__`` installs it; ScrapyRT's
crawl manager runs the spiders on it). The README's Layout names each module."""
