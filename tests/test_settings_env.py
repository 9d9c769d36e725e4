"""Configuration from the environment: defaults, validation, secrets kept out of messages."""

from __future__ import annotations

import pytest

from settings.env import ConfigError, load_config


def test_defaults() -> None:
    config = load_config({})
    assert (config.host, config.port) == ("127.0.0.1", 5000)
    assert config.tiktok_base_url == "https://www.tiktok.com"
    assert config.cache_url == "memory://"
    assert config.rate_limit == "120/minute"
    assert config.tiktok_proxy == () and config.tiktok_ms_token is None


def test_values_are_read_and_normalised() -> None:
    config = load_config(
        {
            "PORT": "5055",
            "TIKTOK_BASE_URL": "http://127.0.0.1:8900/",
            "TIKTOK_PROXY": "http://u:p@10.0.0.1:3128, socks5://127.0.0.1:1080",
            "CACHE_TTL_TRENDING": "5",
            "UPSTREAM_TIMEOUT": "2.5",
            "RATE_LIMIT": "10/second",
            "PUBLIC_BASE_URL": "https://videos.example.org",
        }
    )
    assert config.port == 5055
    assert config.tiktok_base_url == "http://127.0.0.1:8900"
    assert len(config.tiktok_proxy) == 2
    assert (config.cache_ttl_trending, config.upstream_timeout) == (5, 2.5)
    assert config.public_base_url == "https://videos.example.org"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("TIKTOK_BASE_URL", "ftp://example.org"),
        ("TIKTOK_BASE_URL", "https://www.tiktok.com/foryou"),
        ("CHROMIUM_PATH", "/nonexistent/chromium"),
        ("CACHE_URL", "memcached://x"),
        ("CACHE_TTL_HASHTAG", "-1"),
        ("RATE_LIMIT", "lots"),
        ("RATE_LIMIT", "0/minute"),  # would refuse every request
        ("RATE_LIMIT", "0 per hour"),
        ("RATE_LIMIT", "5/0 minutes"),  # no period at all
        ("MAX_CONCURRENT_CRAWLS", "0"),
        ("UPSTREAM_TIMEOUT", "soon"),
        ("PUBLIC_BASE_URL", "videos.example.org"),
        ("TIKTOK_PROXY", "user:password@proxy:3128"),
        ("TIKTOK_STRATEGY", "fast"),
        ("TIKTOK_SESSIONS", "0"),
        ("BREAKER_THRESHOLD", "-1"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("CORS_ORIGINS", "app.example.org"),
    ],
)
def test_bad_values_stop_with_a_one_line_reason_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name}: ")
    assert "\n" not in message


@pytest.mark.parametrize("rate", ["1/second", "120/minute", "5 per 2 hours", "10 PER DAY", "off"])
def test_rate_limits_that_allow_requests_are_accepted(rate: str) -> None:
    assert load_config({"RATE_LIMIT": rate}).rate_limit == rate


def test_proxy_credentials_never_appear_in_errors_or_repr() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({"TIKTOK_PROXY": "http://u:hunter2@proxy:3128,hunter2-only"})
    assert "hunter2" not in str(raised.value)
    config = load_config({"TIKTOK_PROXY": "http://u:hunter2@proxy:3128", "TIKTOK_MS_TOKEN": "tok-secret"})
    assert "hunter2" not in repr(config) and "tok-secret" not in repr(config)
