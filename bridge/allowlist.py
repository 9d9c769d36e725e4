"""The play proxy's SSRF guard: it fetches only TikTok's CDN hosts (and the configured upstream).

The URL always comes from TikTok's own answer for the video asked for, never from the caller; this
check is the second line: even a play address TikTok (or something posing as it) named must be on
one of TikTok's media domains.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

#: TikTok's media domains and their subdomains (shared/TIKTOK_PROTOCOL.md, "Video files")
TIKTOK_MEDIA_DOMAINS = (
    "tiktok.com",
    "tiktokcdn.com",
    "tiktokcdn-us.com",
    "tiktokcdn-eu.com",
    "tiktokv.com",
    "tiktokv.us",
    "muscdn.com",
)


def allowed(url: str, upstream_base: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return False
    if parts.netloc.lower() == urlsplit(upstream_base).netloc.lower():
        return True
    host = parts.hostname.lower()
    on_media_domain = any(host == domain or host.endswith("." + domain) for domain in TIKTOK_MEDIA_DOMAINS)
    return on_media_domain and port in (None, 80, 443)


def expires_at(url: str) -> float | None:
    """The Unix time TikTok wrote into a play address (``expire=`` or ``x-expires=``), if any."""
    query = parse_qs(urlsplit(url).query)
    for name in ("expire", "x-expires"):
        values = query.get(name)
        if values and values[0].isdigit():
            return float(values[0])
    return None


def expired(url: str, margin: float = 60.0) -> bool:
    deadline = expires_at(url)
    return deadline is not None and time.time() + margin >= deadline
