"""The HTTP face: ScrapyRT resources for /trending, /category, /health and /openapi.json, with a cache,
a per-client rate limit and RFC 9457 problems in front of the crawls (DESIGN.md section 1)."""
