"""The TikTok web client: one Chromium per process, a pool of sessions (``TIKTOK_SESSIONS``, each a
browser context on TikTok's home page, renewed when TikTok stops trusting it), API calls signed and
fetched inside a session's page behind one circuit breaker (DESIGN.md section 3)."""

from tiktok_spiders.client.client import ApiResult, ClientOptions, TikTokClient

__all__ = ["ApiResult", "ClientOptions", "TikTokClient"]
