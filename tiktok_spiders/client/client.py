"""``TikTokClient``: API calls with recovery, shared by every crawl in the process.

Recovery, bounded by ``max_attempts``: an empty body or a captcha drops the session and retries with a
fresh one after a backoff; 429, 5xx, cut connections and timeouts retry after a backoff (honouring
``Retry-After``); not found, private and region answers are final.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from cachetools import TTLCache

from tiktok_spiders.client.browser import BrowserHost
from tiktok_spiders.client.politeness import UpstreamGate
from tiktok_spiders.client.sessions import SessionManager
from tiktok_spiders.client.web_params import build_api_url
from tiktok_spiders.errors import RateLimited, UpstreamBlocked, UpstreamError, UpstreamUnavailable
from tiktok_spiders.parsing import Challenge, load_json, parse_challenge_detail

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from scrapy.settings import BaseSettings

    from tiktok_spiders.client.session import ApiAnswer

CHALLENGE_DETAIL = "/api/challenge/detail/"


@dataclass(frozen=True, slots=True)
class ApiResult:
    """An API answer TikTok marked as successful: the parsed payload and the body it came in."""

    payload: dict[str, Any]
    body: str


@dataclass(frozen=True, slots=True)
class ClientOptions:
    base_url: str
    chromium_path: str | None = None
    proxies: tuple[str, ...] = ()
    ms_token: str | None = None
    timeout: float = 10.0
    max_attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 8.0
    max_in_flight: int = 4
    rate: str | None = "20/second"
    session_max_age: float = 1800.0
    challenge_ttl: float = 86400.0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ClientOptions:
        return cls(
            base_url=settings.get("TIKTOK_BASE_URL"),
            chromium_path=settings.get("TIKTOK_CHROMIUM_PATH"),
            proxies=tuple(settings.getlist("TIKTOK_PROXIES")),
            ms_token=settings.get("TIKTOK_MS_TOKEN"),
            timeout=settings.getfloat("TIKTOK_UPSTREAM_TIMEOUT"),
            max_attempts=settings.getint("TIKTOK_MAX_ATTEMPTS"),
            backoff=settings.getfloat("TIKTOK_RETRY_BACKOFF"),
            backoff_max=settings.getfloat("TIKTOK_RETRY_BACKOFF_MAX"),
            max_in_flight=settings.getint("TIKTOK_MAX_IN_FLIGHT"),
            rate=settings.get("TIKTOK_RATE") or None,
            session_max_age=settings.getfloat("TIKTOK_SESSION_MAX_AGE"),
        )

    def __repr__(self) -> str:
        return f"ClientOptions(base_url={self.base_url!r}, proxies={len(self.proxies)})"


class TikTokClient:
    _shared: ClassVar[dict[ClientOptions, TikTokClient]] = {}

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.browser = BrowserHost(options.chromium_path)
        self.sessions = SessionManager(
            self.browser,
            options.base_url,
            open_timeout=options.timeout,
            max_age=options.session_max_age,
            proxies=options.proxies,
            ms_token=options.ms_token,
        )
        self.gate = UpstreamGate(options.max_in_flight, options.rate)
        self.challenges: TTLCache[str, Challenge] = TTLCache(maxsize=10_000, ttl=options.challenge_ttl)
        self.counters: Counter[str] = Counter()

    @classmethod
    def shared(cls, options: ClientOptions) -> TikTokClient:
        """The process's client for these options: one browser and one session for every crawl."""
        client = cls._shared.get(options)
        if client is None:
            client = cls._shared[options] = cls(options)
        return client

    @classmethod
    async def close_all(cls) -> None:
        clients, cls._shared = list(cls._shared.values()), {}
        for client in clients:
            await client.close()

    async def call(
        self, path: str, params: Mapping[str, str | int], observe: Callable[[str], None] | None = None
    ) -> ApiResult:
        """The JSON answer of one API call, after recovery; raises the last ``UpstreamError``."""

        def count(key: str) -> None:
            self.counters[key] += 1
            if observe is not None:
                observe(key)

        last_error: UpstreamError | None = None
        for attempt in range(self.options.max_attempts):
            if attempt:
                assert last_error is not None
                count(f"retries/{last_error.reason}")
                await asyncio.sleep(self._backoff(attempt, last_error))
            try:
                session = await self.sessions.get()
            except UpstreamError as exc:
                last_error = exc
                if not exc.retryable:
                    raise
                continue
            url = build_api_url(self.options.base_url, path, params, session.fields)
            async with self.gate:
                count("api_calls")
                answer = await session.fetch(url, self.options.timeout)
            try:
                return ApiResult(interpret(answer), answer.body)
            except UpstreamError as exc:
                last_error = exc
                count(f"errors/{exc.reason}")
                if not exc.retryable:
                    raise
                if exc.retry_with_new_session:
                    await self.sessions.discard(session)
        assert last_error is not None
        raise last_error

    async def challenge(self, name: str, observe: Callable[[str], None] | None = None) -> Challenge:
        """The hashtag's challenge (its id), looked up once per name and process."""
        key = name.casefold()
        cached = self.challenges.get(key)
        if cached is not None:
            return cached
        result = await self.call(CHALLENGE_DETAIL, {"challengeName": name}, observe)
        challenge = self.challenges[key] = parse_challenge_detail(result.payload)
        return challenge

    async def cdn_headers(self, url: str) -> dict[str, str]:
        """What TikTok's CDN wants with a play address: the session's cookies for that URL (among them
        ``tt_chain_token``), ``Referer: {BASE}/`` and the session's User-Agent."""
        session = await self.sessions.get()
        cookies = await session.context.cookies([url, f"{self.options.base_url}/"])
        jar = {cookie["name"]: cookie["value"] for cookie in cookies}
        return {
            "Cookie": "; ".join(f"{name}={value}" for name, value in jar.items()),
            "Referer": f"{self.options.base_url}/",
            "User-Agent": session.fields.user_agent,
        }

    def _backoff(self, attempt: int, error: UpstreamError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.options.backoff_max)
        delay = min(self.options.backoff * 2.0 ** (attempt - 1), self.options.backoff_max)
        return delay * random.uniform(0.75, 1.25)

    async def close(self) -> None:
        await self.sessions.close()
        await self.browser.close()


def interpret(answer: ApiAnswer) -> dict[str, Any]:
    """The payload of a 200, or the typed error for everything else."""
    if answer.error is not None:
        raise UpstreamUnavailable(f"upstream {answer.error}")
    if answer.status == 429:
        error = RateLimited("HTTP 429 from TikTok", status_code=429)
        error.retry_after = _seconds(answer.retry_after)
        raise error
    if answer.status >= 500:
        raise UpstreamUnavailable(f"HTTP {answer.status} from TikTok", status_code=answer.status)
    if answer.status in (401, 403):
        raise UpstreamBlocked(f"HTTP {answer.status} from TikTok", status_code=answer.status)
    if answer.status != 200:
        raise UpstreamError(f"HTTP {answer.status} from TikTok", status_code=answer.status)
    return load_json(answer.body)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
