"""The service's configuration: one ``Config`` field per setting, read from the environment and validated
once at start.

Each setting has one name: the environment variable ``NAME``, the Scrapy setting ``NAME`` (see
``settings.crawl``) and the field ``name``. Each field declares its default and how a text value is
checked (``_setting``); ``load_config`` reads the fields marked ``env`` from the environment, and
``config_from_values`` reads every field back from Scrapy settings (where ``-s NAME=VALUE`` may have
changed one). The fields not read from the environment are tuning knobs for the crawler, documented in
``settings.crawl`` and the README. The fields marked ``scrapy=False`` are the service's alone and no
Scrapy setting: ``LOG_FORMAT`` is Scrapy's own name for its %-format string, which ``json`` must not
replace.

Every variable is documented in the README ("Configuration"). A bad value raises ``ConfigError`` whose
message is one line naming the variable; the entry points print it and exit with status 2.
Secrets (``TIKTOK_PROXY`` credentials, ``TIKTOK_MS_TOKEN``) are kept out of ``repr`` and messages.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

DEFAULT_CHROMIUM = "/usr/bin/chromium"
TIKTOK_WEB = "https://www.tiktok.com"
_RATE = re.compile(r"\s*(\d+)\s*(/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)

T = TypeVar("T")
#: checks one text value (stripped, never empty) of the setting it is given the name of
Parse = Callable[[str, str], T]


class ConfigError(ValueError):
    """A configuration value the service cannot start with."""


class Strategy(StrEnum):
    """How feeds are fetched (``TIKTOK_STRATEGY``; README "When TikTok pushes back")."""

    AUTO = "auto"  # the API, and rendered pages for a while once TikTok refuses the API
    API = "api"  # signed API calls in the session's page
    PAGE = "page"  # the feed's page, its own script's answers captured


def _setting(
    default: T, parse: Parse[T], *, env: bool = True, secret: bool = False, scrapy: bool = True
) -> T:
    """A ``Config`` field: its default, how a text value of it is checked, whether the environment
    sets it (the others are Scrapy settings only) and whether it is a Scrapy setting too."""
    return field(default=default, repr=not secret, metadata={"parse": parse, "env": env, "scrapy": scrapy})


# --- parsers: (name, text) -> value, or ConfigError naming the setting -------------------------------


def _text(_name: str, raw: str) -> str:
    return raw


def _integer(low: int, high: int) -> Parse[int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}: not an integer: {raw[:40]!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name}: {value} is outside {low}..{high}")
        return value

    return parse


def _number(low: float, high: float) -> Parse[float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}: not a number: {raw[:40]!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name}: {value} is outside {low}..{high}")
        return value

    return parse


def _choice(*choices: str) -> Parse[str]:
    def parse(name: str, raw: str) -> str:
        if raw not in choices:
            raise ConfigError(f"{name}: one of {', '.join(choices)}, not {raw[:40]!r}")
        return raw

    return parse


LogFormat = Literal["plain", "json"]


def _log_format(name: str, raw: str) -> LogFormat:
    return "json" if _choice("plain", "json")(name, raw.lower()) == "json" else "plain"


def _strategy(name: str, raw: str) -> Strategy:
    return Strategy(_choice(*Strategy)(name, raw))


def _boolean(name: str, raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: 1 or 0 (true or false), not {raw[:40]!r}")


def _base_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: not an http(s) URL: {raw[:80]!r}")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ConfigError(f"{name}: give only scheme, host and port: {raw[:80]!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _file(name: str, raw: str) -> str:
    if not Path(raw).is_file():
        raise ConfigError(f"{name}: no such file: {raw}")
    return raw


def _proxies(name: str, raw: str) -> tuple[str, ...]:
    proxies = tuple(part.strip() for part in raw.split(",") if part.strip())
    for index, proxy in enumerate(proxies, 1):
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
            # The value may carry credentials: name its position, never echo it.
            raise ConfigError(f"{name}: entry {index} is not an http(s):// or socks5:// URL")
    return proxies


def _networks(name: str, raw: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: not an address or network: {network[:60]!r}") from None
    return networks


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and _base_url(name, origin) != origin:
            raise ConfigError(f"{name}: not an origin like https://app.example.org: {origin[:60]!r}")
    return origins


def _cache_url(name: str, raw: str) -> str:
    if urlsplit(raw).scheme not in ("memory", "redis", "rediss"):
        raise ConfigError(f"{name}: use memory:// or redis://host:port/db")
    return raw


def _rate(name: str, raw: str) -> str:
    """``N/second|minute|hour|day`` (or ``N per 2 hours``) with N at least 1, or ``off``."""
    if raw.lower() == "off":
        return raw
    match = _RATE.fullmatch(raw)
    if not match:
        raise ConfigError(f"{name}: not a rate like 120/minute: {raw[:40]!r}")
    amount, multiple = int(match.group(1)), int(match.group(3) or 1)
    if amount == 0 or multiple == 0:  # 0/minute refuses every request; "1/0 minute" is no period
        raise ConfigError(f"{name}: needs at least 1 request per period of at least 1: {raw[:40]!r}")
    return raw


@dataclass(frozen=True, slots=True)
class Config:
    host: str = _setting("127.0.0.1", _text)
    port: int = _setting(5000, _integer(0, 65535))
    tiktok_base_url: str = _setting(TIKTOK_WEB, _base_url)
    #: None: Playwright's own browser build; ``load_config`` picks Debian's Chromium where it is installed
    chromium_path: str | None = _setting(None, _file)
    #: browser proxies, tried in turn (one per session)
    tiktok_proxy: tuple[str, ...] = _setting((), _proxies, secret=True)
    tiktok_ms_token: str | None = _setting(None, _text, secret=True)
    #: a PEM certificate that TIKTOK_BASE_URL's TLS must present (the emulator's, for tests): trusted for
    #: it alone, in Chromium and the play proxy; None: the system's roots, as for tiktok.com
    tiktok_ca_file: str | None = _setting(None, _file)
    cache_url: str = _setting("memory://", _cache_url)
    #: scheduled crawls write their answers into the shared cache (the cache-warming pipeline)
    cache_warm: bool = _setting(False, _boolean)
    cache_ttl_trending: int = _setting(60, _integer(0, 86400))
    cache_ttl_hashtag: int = _setting(300, _integer(0, 86400))
    #: creators' profiles and videos, and sounds: they change more slowly than a hashtag's feed
    cache_ttl_profile: int = _setting(600, _integer(0, 86400))
    #: comments and replies: a conversation moves fast
    cache_ttl_comments: int = _setting(120, _integer(0, 86400))
    cache_stale_max: int = _setting(3600, _integer(0, 7 * 86400))
    rate_limit: str = _setting("120/minute", _rate)
    max_concurrent_crawls: int = _setting(8, _integer(1, 1024))
    #: misses that may wait for a crawl slot (0: refuse at once, 503, when every slot is taken)
    max_queued_crawls: int = _setting(64, _integer(0, 10_000))
    #: seconds one upstream call (and one request's wait for TikTok) may take
    upstream_timeout: float = _setting(10.0, _number(0.1, 300.0))
    public_base_url: str | None = _setting(None, _base_url)
    http_idle_timeout: float = _setting(30.0, _number(1.0, 3600.0))
    #: sessions in the pool, each its own browser context (and proxy)
    tiktok_sessions: int = _setting(1, _integer(1, 16))
    #: auto | api | page (the README's "When TikTok pushes back")
    tiktok_strategy: Strategy = _setting(Strategy.AUTO, _strategy)  # noqa: RUF009 - an enum member is immutable
    #: seconds auto mode keeps to pages once TikTok refused the API
    tiktok_page_strategy_ttl: float = _setting(600.0, _number(0.0, 86400.0))
    #: tries of one API call, the first included
    tiktok_max_attempts: int = _setting(4, _integer(1, 10))
    #: seconds before the first retry; doubles each time, up to ``tiktok_retry_backoff_max``
    tiktok_retry_backoff: float = _setting(0.5, _number(0.0, 60.0))
    #: refused feeds in a row before upstream calls pause (0: never)
    breaker_threshold: int = _setting(5, _integer(0, 1000))
    #: seconds they pause before one probe
    breaker_cooldown: float = _setting(30.0, _number(0.1, 3600.0))
    #: networks whose X-Forwarded-For is believed (the reverse proxies in front of the service)
    trusted_proxies: tuple[str, ...] = _setting((), _networks)
    #: origins allowed by CORS; empty: no Access-Control-Allow-Origin at all
    cors_origins: tuple[str, ...] = _setting((), _origins)
    #: ``GET /metrics`` (Prometheus' text format); off: that route is 404 and nothing is counted for it
    metrics: bool = _setting(True, _boolean)
    #: the service's log lines: plain text, or one JSON object per line (``bridge.logs``)
    log_format: LogFormat = _setting("plain", _log_format, scrapy=False)  # noqa: RUF009 - a str

    # The crawler's tuning knobs: Scrapy settings only (``-s NAME=VALUE``), not read from the environment.
    tiktok_retry_backoff_max: float = _setting(8.0, _number(0.0, 300.0), env=False)
    #: upstream calls at once, across every crawl in the process
    tiktok_max_in_flight: int = _setting(4, _integer(1, 1024), env=False)
    #: upstream calls per period, across every crawl in the process (``off``: no bound)
    tiktok_rate: str = _setting("20/second", _rate, env=False)
    #: seconds before a session is renewed even if TikTok still trusts it
    tiktok_session_max_age: float = _setting(1800.0, _number(1.0, 7 * 86400.0), env=False)
    #: calls before a session is renewed (its page's memory grows with each)
    tiktok_session_max_calls: int = _setting(500, _integer(1, 1_000_000), env=False)
    #: pages of a feed asked for at once when a count needs several (1: one after another); the
    #: default matches ``tiktok_max_in_flight``, so a ``count=100`` answer is one round of calls
    tiktok_pages_ahead: int = _setting(4, _integer(1, 64), env=False)
    #: feed pages one crawl may fetch; 0: count // 10 + 5
    tiktok_max_pages: int = _setting(0, _integer(0, 10_000), env=False)
    #: seconds a hashtag's challenge id is remembered
    tiktok_challenge_ttl: float = _setting(86400.0, _number(0.0, 7 * 86400.0), env=False)


def setting_name(field_name: str) -> str:
    """The environment variable and Scrapy setting of a ``Config`` field."""
    return field_name.upper()


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration from ``environ`` (default: ``os.environ``); unset or blank variables keep
    their defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for each in fields(Config):
        if each.metadata["env"]:
            raw = env.get(setting_name(each.name), "").strip()
            if raw:
                values[each.name] = each.metadata["parse"](setting_name(each.name), raw)
    if "chromium_path" not in values and Path(DEFAULT_CHROMIUM).exists():
        values["chromium_path"] = DEFAULT_CHROMIUM
    return _checked(Config(**values))


def config_from_values(get: Callable[[str], object]) -> Config:
    """The configuration held under the settings' names by ``get`` (Scrapy's ``settings.get``): a text
    value (``-s NAME=VALUE``) is checked as the environment's would be, others are taken as they are,
    and a missing one keeps its default, as do the fields that are no Scrapy setting."""
    values: dict[str, Any] = {}
    for each in fields(Config):
        if not each.metadata["scrapy"]:
            continue
        name = setting_name(each.name)
        value = get(name)
        if isinstance(value, str):
            if value.strip():
                values[each.name] = each.metadata["parse"](name, value.strip())
        elif isinstance(value, list):  # Scrapy keeps lists where the configuration has tuples
            values[each.name] = tuple(value)
        elif value is not None:
            values[each.name] = value
    return _checked(Config(**values))


def _checked(config: Config) -> Config:
    """What no single variable can say wrong by itself."""
    if config.cache_warm and urlsplit(config.cache_url).scheme == "memory":
        raise ConfigError("CACHE_WARM: needs a shared cache (CACHE_URL=redis://host:port/db)")
    return config
