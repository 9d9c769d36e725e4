"""The TikTok web client: one Chromium per process, a session opened once and reused, API calls
signed and fetched inside the session's page (DESIGN.md section 3)."""

from tiktok_spiders.client.client import ApiResult, ClientOptions, TikTokClient

__all__ = ["ApiResult", "ClientOptions", "TikTokClient"]
