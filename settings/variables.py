"""What each environment variable means, for ``python -m bridge --help`` and the README's table.

The variables themselves, their order and their defaults are ``settings.env.Config``'s fields marked
``env``; this module adds only what a reader needs beyond them: one line of meaning each, and the
words for a default that is no value (``PUBLIC_BASE_URL``: the request's Host). A field without a
meaning here fails ``tests/test_docs_one_source.py``, and so does a README table that is not
``python -m settings.variables`` 's.

``python -m settings.variables`` prints the README's table; ``--write README.md`` replaces the table
between the file's ``<!-- variables -->`` and ``<!-- /variables -->`` lines with it.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, fields
from enum import Enum
from pathlib import Path

from settings.env import DEFAULT_CHROMIUM, Config, setting_name

#: one line each, in Markdown (the README's table shows it as it is, ``--help`` without backticks)
MEANINGS: dict[str, str] = {
    "HOST": "address the service binds",
    "PORT": "its port",
    "TIKTOK_BASE_URL": "TikTok's web app (the emulator's URL in tests and the demo)",
    "CHROMIUM_PATH": "the browser Playwright launches; unset and absent: Playwright's own build",
    "TIKTOK_PROXY": "browser proxy URL(s), comma-separated (`http://`, `https://`, `socks5://`)",
    "TIKTOK_MS_TOKEN": "a user's own `msToken`, optional",
    "TIKTOK_CA_FILE": "for tests: the PEM certificate an `https://` `TIKTOK_BASE_URL` presents (the "
    "emulator's `--tls` one); the browser trusts that key alone and the play proxy that certificate alone",
    "CACHE_URL": "answer cache; `redis://host:port/db` to share answers, single-flight locks and "
    'rate-limit counters between instances (see "Deploying")',
    "CACHE_WARM": "`1`: crawls write their answers into the shared cache (`CACHE_URL` must be "
    '`redis://`); for scrapyd, see "Deploying"',
    "CACHE_TTL_TRENDING": "seconds a `/trending` answer is fresh",
    "CACHE_TTL_HASHTAG": "seconds a `/category`, `/search`, `/search/users`, `/music/{id}/videos`, "
    "`/videos/{video}/related` or `/videos/{id}` answer is fresh, and a video id TikTok has no video "
    "for is remembered",
    "CACHE_TTL_PROFILE": "seconds a `/users/{uniqueId}`, `/users/{uniqueId}/videos` or `/music/{id}` "
    "answer is fresh",
    "CACHE_TTL_COMMENTS": "seconds a comments or replies answer is fresh",
    "CACHE_STALE_MAX": "seconds past its TTL a cached answer may still be served when TikTok fails",
    "RATE_LIMIT": "per-client rate limit (`N/second|minute|hour|day` with N at least 1, or `off`)",
    "MAX_CONCURRENT_CRAWLS": "crawls in flight at once; further misses wait in the queue",
    "MAX_QUEUED_CRAWLS": "misses that may wait for a crawl slot (0: refuse at once with 503)",
    "UPSTREAM_TIMEOUT": "seconds one request may wait for TikTok",
    "PUBLIC_BASE_URL": "absolute base of the `video.url` links",
    "HTTP_IDLE_TIMEOUT": "seconds a connection may stay silent before the service closes it",
    "TIKTOK_SESSIONS": "TikTok sessions in the pool (1..16), each its own browser context",
    "TIKTOK_STRATEGY": '`auto`, `api` or `page` (see "When TikTok pushes back")',
    "TIKTOK_PAGE_STRATEGY_TTL": "seconds `auto` keeps to pages after TikTok refused the API",
    "TIKTOK_MAX_ATTEMPTS": "tries of one upstream call, the first included",
    "TIKTOK_RETRY_BACKOFF": "seconds before the first retry; doubles each time (at most "
    "`TIKTOK_RETRY_BACKOFF_MAX`, 8 s)",
    "BREAKER_THRESHOLD": "refused feeds in a row before calls to TikTok pause (`0`: never)",
    "BREAKER_COOLDOWN": "seconds they pause before one probe",
    "TRUSTED_PROXIES": "addresses or networks (comma-separated) whose `X-Forwarded-For` names the client",
    "CORS_ORIGINS": "origins allowed by CORS (comma-separated, or `*`)",
    "LOG_FORMAT": '`plain` lines or `json` (one object per line) on stderr (see "Request ids and logs")',
    "METRICS": '`GET /metrics` for Prometheus (see "Metrics"); `0` (or `off`): that route is 404',
}
#: what a default of None means, where it is more than "none"
UNSET: dict[str, str] = {
    "CHROMIUM_PATH": f"`{DEFAULT_CHROMIUM}` if present",
    "PUBLIC_BASE_URL": "the request's Host",
}
START, END = "<!-- variables -->", "<!-- /variables -->"


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    #: Markdown, as the README shows it: `5000`, none, the request's Host
    default: str
    meaning: str


def default_text(name: str, value: object) -> str:
    """A default as the README shows it: `10` for 10.0, `0` for False, none for None or ()."""
    if value is None or value == ():
        return UNSET.get(name, "none")
    if isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    return f"`{text}`"


def variables() -> tuple[Variable, ...]:
    """Every environment variable, in ``Config``'s order; a KeyError names one without a meaning."""
    found = []
    for each in fields(Config):
        if not each.metadata["env"]:
            continue
        name = setting_name(each.name)
        if name not in MEANINGS:
            raise KeyError(f"settings/variables.py has no meaning for {name}")
        default = each.default if each.default is not MISSING else None
        found.append(Variable(name, default_text(name, default), MEANINGS[name]))
    return tuple(found)


def markdown_table() -> str:
    rows = [f"| `{each.name}` | {each.default} | {each.meaning} |" for each in variables()]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows])


def plain(markdown: str) -> str:
    """Markdown's backticks left out, for a terminal."""
    return markdown.replace("`", "")


def readme_with_table(readme: str) -> str:
    """``readme`` with the table between its markers replaced by ``markdown_table()``."""
    before, found, rest = readme.partition(START + "\n")
    _old, ended, after = rest.partition(END)
    if not found or not ended:
        raise ValueError(f"no {START} ... {END} lines")
    return f"{before}{START}\n{markdown_table()}\n{END}{after}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m settings.variables", description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="README", type=Path, help="replace the table in this file")
    args = parser.parse_args()
    if args.write is None:
        print(markdown_table())
        return
    text = args.write.read_text(encoding="utf-8")
    args.write.write_text(readme_with_table(text), encoding="utf-8")


if __name__ == "__main__":
    main()
