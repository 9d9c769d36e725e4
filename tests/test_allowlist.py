"""The play proxy's SSRF guard and play-address expiry, as pure functions."""

from __future__ import annotations

import time

import pytest

from bridge.allowlist import allowed, expired, expires_at

UPSTREAM = "http://127.0.0.1:8900"


@pytest.mark.parametrize(
    "url",
    [
        "https://v16-webapp-prime.tiktok.com/video/tos/x/?expire=1",
        "https://v19-webapp-prime.us.tiktok.com/video/tos/x/",
        "https://v16m-webapp.tiktokcdn-us.com/x.mp4",
        "https://p16-sign-va.tiktokcdn.com/obj/x.jpeg",
        "https://vas-alisg16.tiktokv.com/x",
        "https://sf16-ies-music.muscdn.com/obj/x.mp3",
        "https://www.tiktok.com:443/aweme/v1/play/?video_id=1",
        "http://127.0.0.1:8900/video/tos/1.mp4?expire=1",
    ],
)
def test_tiktok_media_hosts_and_the_configured_upstream_are_allowed(url: str) -> None:
    assert allowed(url, UPSTREAM)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8901/video/tos/1.mp4",  # the upstream's host, another port
        "http://127.0.0.1:22/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8900/x",
        "https://tiktok.com.evil.example/x.mp4",
        "https://eviltiktok.com/x.mp4",
        "https://v16.tiktok.com:8443/x.mp4",
        "https://user:pass@v16.tiktok.com/x.mp4",
        "file:///etc/passwd",
        "gopher://v16.tiktok.com/x",
        "https://[::1]/x",
        "not a url",
        "https://v16.tiktok.com:99999/x",
    ],
)
def test_every_other_host_is_refused(url: str) -> None:
    assert not allowed(url, UPSTREAM)


def test_expiry_is_read_from_expire_or_x_expires() -> None:
    assert expires_at("https://v16.tiktok.com/x?a=1&expire=1761112959&tk=tt_chain_token") == 1761112959
    assert expires_at("https://p16.tiktokcdn.com/x?x-expires=1668218400&x-signature=s") == 1668218400
    assert expires_at("https://v16.tiktok.com/x") is None
    soon = int(time.time()) + 30
    later = int(time.time()) + 3600
    assert expired(f"https://v16.tiktok.com/x?expire={soon}")  # within the safety margin
    assert not expired(f"https://v16.tiktok.com/x?expire={later}")
    assert not expired("https://v16.tiktok.com/x")  # no expiry named: try it
