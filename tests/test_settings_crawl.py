"""The configuration in Scrapy's settings: one name per setting from the environment to the client, a
settings module that reads no environment, and ``-s`` values checked like the environment's."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields, replace
from typing import Any

import pytest
from scrapy.settings import Settings

from harness import ROOT
from settings.crawl import config_from_settings, crawl_settings
from settings.env import Config, ConfigError, load_config
from tiktok_spiders.client import ClientOptions

#: a value for every field that differs from its default
CHANGED: dict[str, Any] = {
    "host": "127.0.0.2",
    "port": 5055,
    "tiktok_base_url": "http://127.0.0.1:8900",
    "chromium_path": "/bin/true",
    "tiktok_proxy": ("http://u:p@10.0.0.1:3128", "socks5://127.0.0.1:1080"),
    "tiktok_ms_token": "token",
    "tiktok_ca_file": str(ROOT / "README.md"),  # any file that exists: read only when a browser starts
    "cache_url": "redis://127.0.0.1:6379/0",
    "cache_warm": True,
    "cache_ttl_trending": 5,
    "cache_ttl_hashtag": 6,
    "cache_ttl_profile": 7,
    "cache_ttl_comments": 8,
    "cache_stale_max": 7,
    "rate_limit": "10/second",
    "max_concurrent_crawls": 3,
    "max_queued_crawls": 5,
    "upstream_timeout": 2.5,
    "public_base_url": "https://videos.example.org",
    "http_idle_timeout": 3.0,
    "tiktok_sessions": 2,
    "tiktok_strategy": "page",
    "tiktok_page_strategy_ttl": 1.0,
    "tiktok_max_attempts": 2,
    "tiktok_retry_backoff": 0.1,
    "breaker_threshold": 9,
    "breaker_cooldown": 1.5,
    "trusted_proxies": ("10.0.0.0/8",),
    "cors_origins": ("https://app.example.org",),
    "metrics": False,
    "log_format": "json",
    "tiktok_retry_backoff_max": 1.0,
    "tiktok_max_in_flight": 2,
    "tiktok_rate": "off",
    "tiktok_session_max_age": 60.0,
    "tiktok_session_max_calls": 10,
    "tiktok_pages_ahead": 2,
    "tiktok_max_pages": 7,
    "tiktok_challenge_ttl": 5.0,
}


def project_settings(config: Config | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("settings.crawl", priority="project")
    if config is not None:
        settings.setdict(crawl_settings(config), priority="project")
    return settings


def test_every_field_is_changed_here() -> None:
    assert set(CHANGED) == {each.name for each in fields(Config)}
    assert all(getattr(Config(), name) != value for name, value in CHANGED.items())


#: the service's own settings, which are no Scrapy settings (Scrapy's LOG_FORMAT is a %-format)
SERVICE_ONLY = {each.name for each in fields(Config) if not each.metadata["scrapy"]}


def test_every_field_has_one_scrapy_name_and_round_trips() -> None:
    config = Config(**CHANGED)
    settings = project_settings(config)
    for name, value in CHANGED.items():
        if name not in SERVICE_ONLY:
            assert settings[name.upper()] == value, name
    crawled = replace(config, **{name: getattr(Config(), name) for name in SERVICE_ONLY})
    assert config_from_settings(settings) == crawled
    assert config_from_settings(settings.copy()) == crawled  # as every crawler copies them


def test_log_format_leaves_scrapys_own_alone() -> None:
    assert "log_format" in SERVICE_ONLY
    default = Settings()["LOG_FORMAT"]
    assert project_settings(Config(log_format="json"))["LOG_FORMAT"] == default
    assert project_settings()["LOG_FORMAT"] == default


def test_the_settings_module_alone_holds_every_default() -> None:
    assert config_from_settings(project_settings()) == Config()


def test_the_environment_names_are_the_field_names() -> None:
    environ = {
        name.upper(): ",".join(value) if isinstance(value, tuple) else str(value)
        for name, value in CHANGED.items()
    }
    config = load_config(environ)
    read = {each.name for each in fields(Config) if each.metadata["env"]}
    for name in read:
        assert getattr(config, name) == CHANGED[name], name
    # The crawler's tuning knobs are Scrapy settings only: the environment leaves them alone.
    for name in {each.name for each in fields(Config)} - read:
        assert getattr(config, name) == getattr(Config(), name), name


def test_the_readme_documents_every_environment_variable() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.MULTILINE))
    assert documented == {each.name.upper() for each in fields(Config) if each.metadata["env"]}


def test_cache_warming_lists_its_pipeline_only_when_on() -> None:
    assert "tiktok_spiders.warming.CacheWarmingPipeline" not in project_settings().getdict("ITEM_PIPELINES")
    warm = project_settings(Config(cache_url="redis://127.0.0.1:6379/0", cache_warm=True))
    assert warm.getdict("ITEM_PIPELINES")["tiktok_spiders.warming.CacheWarmingPipeline"] == 900


def test_cmdline_text_values_are_checked_as_the_environments_are() -> None:
    settings = project_settings(Config())
    settings.setdict({"TIKTOK_MAX_ATTEMPTS": "2", "TIKTOK_PROXY": "http://10.0.0.1:3128"}, priority="cmdline")
    config = config_from_settings(settings)
    assert (config.tiktok_max_attempts, config.tiktok_proxy) == (2, ("http://10.0.0.1:3128",))
    settings.set("TIKTOK_STRATEGY", "fast", priority="cmdline")
    with pytest.raises(ConfigError) as raised:
        config_from_settings(settings)
    assert str(raised.value) == "TIKTOK_STRATEGY: one of auto, api, page, not 'fast'"


def test_the_client_options_from_settings_and_from_the_config_are_one_key() -> None:
    """The bridge builds its client from the configuration, each crawl's middleware from its settings:
    both must find the same shared client."""
    config = Config(**{**CHANGED, "cache_warm": False})
    from_settings = ClientOptions.from_settings(project_settings(config).copy())
    assert from_settings == ClientOptions.from_config(config)
    assert hash(from_settings) == hash(ClientOptions.from_config(config))


def test_importing_the_settings_module_reads_no_environment() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import settings.crawl as s; print(s.TIKTOK_SESSIONS, s.TIKTOK_BASE_URL)"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "TIKTOK_SESSIONS": "0", "TIKTOK_BASE_URL": "ftp://nowhere"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "https://www.tiktok.com"]
