"""The service's configuration, read from environment variables and validated once at start.

Every variable is documented in the README ("Configuration"). A bad value raises ``ConfigError`` whose
message is one line naming the variable; the entry points print it and exit with status 2.
Secrets (``TIKTOK_PROXY`` credentials, ``TIKTOK_MS_TOKEN``) are kept out of ``repr`` and messages.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CHROMIUM = "/usr/bin/chromium"
TIKTOK_WEB = "https://www.tiktok.com"
_RATE = re.compile(r"\s*(\d+)\s*(/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)


class ConfigError(ValueError):
    """A configuration value the service cannot start with."""


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 5000
    tiktok_base_url: str = TIKTOK_WEB
    #: None: Playwright's own browser build (where ``playwright install`` could fetch one)
    chromium_path: str | None = None
    tiktok_proxies: tuple[str, ...] = field(default=(), repr=False)
    tiktok_ms_token: str | None = field(default=None, repr=False)
    cache_url: str = "memory://"
    #: scheduled crawls write their answers into the shared cache (the cache-warming pipeline)
    cache_warm: bool = False
    cache_ttl_trending: int = 60
    cache_ttl_hashtag: int = 300
    cache_stale_max: int = 3600
    rate_limit: str = "120/minute"
    max_concurrent_crawls: int = 8
    upstream_timeout: float = 10.0
    public_base_url: str | None = None
    http_idle_timeout: float = 30.0
    tiktok_sessions: int = 1
    tiktok_strategy: str = "auto"
    tiktok_page_strategy_ttl: float = 600.0
    tiktok_max_attempts: int = 4
    tiktok_retry_backoff: float = 0.5
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    #: networks whose X-Forwarded-For is believed (the reverse proxies in front of the service)
    trusted_proxies: tuple[str, ...] = ()
    #: origins allowed by CORS; empty: no Access-Control-Allow-Origin at all
    cors_origins: tuple[str, ...] = ()


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    chromium_path = get("CHROMIUM_PATH")
    if chromium_path is None and Path(DEFAULT_CHROMIUM).exists():
        chromium_path = DEFAULT_CHROMIUM
    elif chromium_path is not None and not Path(chromium_path).is_file():
        raise ConfigError(f"CHROMIUM_PATH: no such file: {chromium_path}")

    public_base_url = get("PUBLIC_BASE_URL")
    cache_url = _cache_url(get("CACHE_URL") or "memory://")
    cache_warm = _boolean(get("CACHE_WARM"), "CACHE_WARM")
    if cache_warm and urlsplit(cache_url).scheme == "memory":
        raise ConfigError("CACHE_WARM: needs a shared cache (CACHE_URL=redis://host:port/db)")
    return Config(
        host=get("HOST") or "127.0.0.1",
        port=_integer(env, "PORT", 5000, 0, 65535),
        tiktok_base_url=_base_url("TIKTOK_BASE_URL", get("TIKTOK_BASE_URL") or TIKTOK_WEB),
        chromium_path=chromium_path,
        tiktok_proxies=_proxies(get("TIKTOK_PROXY")),
        tiktok_ms_token=get("TIKTOK_MS_TOKEN"),
        cache_url=cache_url,
        cache_warm=cache_warm,
        cache_ttl_trending=_integer(env, "CACHE_TTL_TRENDING", 60, 0, 86400),
        cache_ttl_hashtag=_integer(env, "CACHE_TTL_HASHTAG", 300, 0, 86400),
        cache_stale_max=_integer(env, "CACHE_STALE_MAX", 3600, 0, 7 * 86400),
        rate_limit=_rate_limit(get("RATE_LIMIT") or "120/minute"),
        max_concurrent_crawls=_integer(env, "MAX_CONCURRENT_CRAWLS", 8, 1, 1024),
        upstream_timeout=_number(env, "UPSTREAM_TIMEOUT", 10.0, 0.1, 300.0),
        public_base_url=_base_url("PUBLIC_BASE_URL", public_base_url) if public_base_url else None,
        http_idle_timeout=_number(env, "HTTP_IDLE_TIMEOUT", 30.0, 1.0, 3600.0),
        tiktok_sessions=_integer(env, "TIKTOK_SESSIONS", 1, 1, 16),
        tiktok_strategy=_choice(get("TIKTOK_STRATEGY") or "auto", "TIKTOK_STRATEGY", ("auto", "api", "page")),
        tiktok_page_strategy_ttl=_number(env, "TIKTOK_PAGE_STRATEGY_TTL", 600.0, 0.0, 86400.0),
        tiktok_max_attempts=_integer(env, "TIKTOK_MAX_ATTEMPTS", 4, 1, 10),
        tiktok_retry_backoff=_number(env, "TIKTOK_RETRY_BACKOFF", 0.5, 0.0, 60.0),
        breaker_threshold=_integer(env, "BREAKER_THRESHOLD", 5, 0, 1000),
        breaker_cooldown=_number(env, "BREAKER_COOLDOWN", 30.0, 0.1, 3600.0),
        trusted_proxies=_networks(get("TRUSTED_PROXIES")),
        cors_origins=_origins(get("CORS_ORIGINS")),
    )


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: not an integer: {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is outside {low}..{high}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: not a number: {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is outside {low}..{high}")
    return value


def _base_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: not an http(s) URL: {raw[:80]!r}")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ConfigError(f"{name}: give only scheme, host and port: {raw[:80]!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _proxies(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    proxies = tuple(part.strip() for part in raw.split(",") if part.strip())
    for index, proxy in enumerate(proxies, 1):
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
            # The value may carry credentials: name its position, never echo it.
            raise ConfigError(f"TIKTOK_PROXY: entry {index} is not an http(s):// or socks5:// URL")
    return proxies


def _choice(raw: str, name: str, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise ConfigError(f"{name}: one of {', '.join(choices)}, not {raw[:40]!r}")
    return raw


def _networks(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(f"TRUSTED_PROXIES: not an address or network: {network[:60]!r}") from None
    return networks


def _origins(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and _base_url("CORS_ORIGINS", origin) != origin:
            raise ConfigError(f"CORS_ORIGINS: not an origin like https://app.example.org: {origin[:60]!r}")
    return origins


def _cache_url(raw: str) -> str:
    scheme = urlsplit(raw).scheme
    if scheme not in ("memory", "redis", "rediss"):
        raise ConfigError("CACHE_URL: use memory:// or redis://host:port/db")
    return raw


def _boolean(raw: str | None, name: str) -> bool:
    if raw is None:
        return False
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: 1 or 0 (true or false), not {raw[:40]!r}")


def _rate_limit(raw: str) -> str:
    if raw.lower() == "off":
        return raw
    match = _RATE.fullmatch(raw)
    if not match:
        raise ConfigError(f"RATE_LIMIT: not a rate like 120/minute: {raw[:40]!r}")
    amount, multiple = int(match.group(1)), int(match.group(3) or 1)
    if amount == 0 or multiple == 0:  # 0/minute refuses every request; "1/0 minute" is no period
        raise ConfigError(f"RATE_LIMIT: needs at least 1 request per period of at least 1: {raw[:40]!r}")
    return raw
