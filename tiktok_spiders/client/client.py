"""``TikTokClient``: API calls with recovery, shared by every crawl in the process.

Recovery, bounded by ``max_attempts``: an empty body or a captcha retires the session and retries with
a fresh one after a backoff; 429, 5xx, cut connections and timeouts retry after a backoff (honouring
``Retry-After``); not found, private and region answers are final.

Strategies (``strategy``): ``api`` signs and fetches API calls in the session's page; ``page`` opens
the feed's page and captures the answers the page's own script fetches; ``auto`` (the default) uses
the API, switches to pages when TikTok refuses the API path, and remembers that for
``page_strategy_ttl`` seconds. A circuit breaker stops upstream calls for a cool-down after
``breaker_threshold`` refused feeds in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from cachetools import TTLCache
from playwright.async_api import Error as PlaywrightError

from tiktok_spiders.client.breaker import CircuitBreaker
from tiktok_spiders.client.browser import BrowserHost, browser_failure_detail
from tiktok_spiders.client.pages import PageFeed, capture_feed
from tiktok_spiders.client.politeness import UpstreamGate
from tiktok_spiders.client.sessions import SessionPool
from tiktok_spiders.client.web_params import build_api_url
from tiktok_spiders.errors import (
    BrowserFailure,
    NotFound,
    PrivateContent,
    RateLimited,
    UpstreamBlocked,
    UpstreamError,
    UpstreamUnavailable,
)
from tiktok_spiders.parsing import Challenge, load_json, parse_challenge_detail

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from scrapy.settings import BaseSettings

    from tiktok_spiders.client.session import ApiAnswer, TikTokSession

CHALLENGE_DETAIL = "/api/challenge/detail/"
#: tries of one background healing (each waits out the launch backoff, at most 8 s): about 15 minutes
HEAL_ATTEMPTS = 120


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
    sessions: int = 1
    session_max_calls: int = 500
    strategy: str = "auto"
    page_strategy_ttl: float = 600.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0

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
            sessions=settings.getint("TIKTOK_SESSIONS", 1),
            session_max_calls=settings.getint("TIKTOK_SESSION_MAX_CALLS", 500),
            strategy=settings.get("TIKTOK_STRATEGY", "auto"),
            page_strategy_ttl=settings.getfloat("TIKTOK_PAGE_STRATEGY_TTL", 600.0),
            breaker_threshold=settings.getint("TIKTOK_BREAKER_THRESHOLD", 5),
            breaker_cooldown=settings.getfloat("TIKTOK_BREAKER_COOLDOWN", 30.0),
        )

    def __repr__(self) -> str:
        return f"ClientOptions(base_url={self.base_url!r}, proxies={len(self.proxies)})"


class TikTokClient:
    _shared: ClassVar[dict[ClientOptions, TikTokClient]] = {}

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.browser = BrowserHost(options.chromium_path)
        self.sessions = SessionPool(
            self.browser,
            options.base_url,
            open_timeout=options.timeout,
            max_age=options.session_max_age,
            size=options.sessions,
            proxies=options.proxies,
            ms_token=options.ms_token,
            max_calls=options.session_max_calls,
        )
        self.breaker = CircuitBreaker(options.breaker_threshold, options.breaker_cooldown)
        self.page_strategy_until = 0.0
        self.last_error: str | None = None
        self.latency_ms: float | None = None
        self.gate = UpstreamGate(options.max_in_flight, options.rate)
        self.challenges: TTLCache[str, Challenge] = TTLCache(maxsize=10_000, ttl=options.challenge_ttl)
        self.counters: Counter[str] = Counter()
        self._closing = False
        self._healing: asyncio.Future[None] | None = None
        # A browser lost between calls (killed, crashed) is relaunched at once, not by the next caller.
        self.browser.on_lost = self.heal

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

    @property
    def strategy(self) -> str:
        """The strategy in use now: ``api`` or ``page``."""
        if self.options.strategy != "auto":
            return self.options.strategy
        return "page" if time.monotonic() < self.page_strategy_until else "api"

    def fall_back_to_pages(self) -> bool:
        """After TikTok refused the API path: use pages for a while, if the strategy allows it."""
        if self.options.strategy != "auto":
            return self.options.strategy == "page"
        self.page_strategy_until = time.monotonic() + self.options.page_strategy_ttl
        self.counters["strategy_switches/page"] += 1
        return True

    async def feed(
        self,
        path: str,
        params: Mapping[str, str | int],
        page: PageFeed | None = None,
        observe: Callable[[str], None] | None = None,
    ) -> ApiResult:
        """A feed page by the strategy in use, behind the circuit breaker."""

        async def fetch() -> ApiResult:
            if page is not None and self.strategy == "page":
                return await self._page_feed(page, observe)
            try:
                return await self._call(path, params, observe)
            except UpstreamBlocked:
                # TikTok refuses our API calls; its own pages may still load their feeds.
                if page is None or not self.fall_back_to_pages():
                    raise
                return await self._page_feed(page, observe)

        return await self._guarded(fetch)

    async def _guarded(self, work: Callable[[], Awaitable[ApiResult]]) -> ApiResult:
        """``work()`` behind the circuit breaker: whatever happens, the call's ticket is ended, so a
        half-open probe can never stay open. Only TikTok's own failures count against it."""
        ticket = self.breaker.before_call()
        try:
            result = await work()
        except (NotFound, PrivateContent, BrowserFailure):
            # TikTok answered (not found), or our own browser failed: nothing said about TikTok.
            self.breaker.released(ticket)
            raise
        except UpstreamError as error:
            self.breaker.failed(ticket)
            self.last_error = f"{error.reason}: {error.detail}"[:200]
            raise
        except BaseException:
            self.breaker.released(ticket)
            raise
        self.breaker.succeeded(ticket)
        return result

    async def _page_feed(self, page: PageFeed, observe: Callable[[str], None] | None) -> ApiResult:
        last_error: UpstreamError | None = None
        for _attempt in range(2):
            session: TikTokSession | None = None
            try:
                session = await self.sessions.get()
                self._count("page_loads", observe)
                payload = await capture_feed(session, self.options.base_url, page, self.options.timeout)
            except UpstreamError as error:
                last_error = error
                await self._after_failure(error, session, observe)
                continue
            return ApiResult(payload, "")
        assert last_error is not None
        raise last_error

    def _count(self, key: str, observe: Callable[[str], None] | None) -> None:
        self.counters[key] += 1
        if observe is not None:
            observe(key)

    async def call(
        self,
        path: str,
        params: Mapping[str, str | int],
        observe: Callable[[str], None] | None = None,
    ) -> ApiResult:
        """The JSON answer of one API call behind the circuit breaker, after recovery; raises the
        last ``UpstreamError``."""
        return await self._guarded(lambda: self._call(path, params, observe))

    async def _call(
        self,
        path: str,
        params: Mapping[str, str | int],
        observe: Callable[[str], None] | None = None,
    ) -> ApiResult:
        def count(key: str) -> None:
            self._count(key, observe)

        last_error: UpstreamError | None = None
        for attempt in range(self.options.max_attempts):
            if attempt:
                assert last_error is not None
                count(f"retries/{last_error.reason}")
                await asyncio.sleep(self._backoff(attempt, last_error))
            session: TikTokSession | None = None
            try:
                session = await self.sessions.get()
                url = build_api_url(self.options.base_url, path, params, session.fields)
                async with self.gate:
                    count("api_calls")
                    started = time.monotonic()
                    answer = await session.fetch(url, self.options.timeout)
                result = ApiResult(interpret(answer), answer.body)
            except UpstreamError as exc:
                last_error = exc
                await self._after_failure(exc, session, observe)
                continue
            self._observe_latency(time.monotonic() - started)
            return result
        assert last_error is not None
        if not isinstance(last_error, BrowserFailure):
            self.last_error = f"{last_error.reason}: {last_error.detail}"[:200]
        raise last_error

    async def _after_failure(
        self, error: UpstreamError, session: TikTokSession | None, observe: Callable[[str], None] | None
    ) -> None:
        """After one failed attempt (an API call or a page load): count it, drop what it left dead,
        and raise ``error`` again when no retry can help."""
        self._count(f"errors/{error.reason}", observe)
        if isinstance(error, BrowserFailure):
            await self._browser_failed(session)  # the session is dropped there
            if error.retry_after is not None:
                raise error  # the browser cannot be relaunched yet: say so now, not after retries
        elif not error.retryable:
            raise error
        elif session is not None and error.retry_with_new_session:
            await self.sessions.discard(session)

    async def _browser_failed(self, session: TikTokSession | None) -> None:
        """After a browser failure: drop what died (the session, the browser and its driver, found
        out by a probe) so the next attempt relaunches it, and heal in the background."""
        if session is not None:
            await self.sessions.discard(session)
        await self.browser.check()
        self.heal()

    def heal(self) -> None:
        """Reopen a session (relaunching the browser if need be) in the background, so the service
        is ready again before the next caller asks; one healing at a time, with the host's backoff."""
        if self._closing or (self._healing is not None and not self._healing.done()):
            return
        self._healing = asyncio.ensure_future(self._heal())

    async def _heal(self) -> None:
        for _attempt in range(HEAL_ATTEMPTS):
            if self._closing:
                return
            try:
                await self.sessions.get()
            except BrowserFailure as failure:
                await asyncio.sleep(max(0.05, failure.retry_after or self.browser.launch_blocked_for or 0.5))
                continue
            except UpstreamError:
                return  # TikTok's to answer; the next call retries with its own recovery
            return

    def _observe_latency(self, seconds: float) -> None:
        milliseconds = seconds * 1000
        self.latency_ms = (
            milliseconds if self.latency_ms is None else 0.8 * self.latency_ms + 0.2 * milliseconds
        )

    def describe(self) -> dict[str, Any]:
        """The client's state, for /health."""
        return {
            "strategy": self.strategy,
            "strategy_setting": self.options.strategy,
            "browser": self.browser.describe(),
            "sessions": self.sessions.describe(),
            "breaker": self.breaker.describe(),
            "api_calls": self.counters["api_calls"],
            "page_loads": self.counters["page_loads"],
            "last_error": self.last_error,
            "latency_ms": round(self.latency_ms, 1) if self.latency_ms is not None else None,
        }

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
        for attempt in range(2):  # a session found dead is replaced once
            session = await self.sessions.get()
            try:
                cookies = await session.context.cookies([url, f"{self.options.base_url}/"])
                break
            except PlaywrightError as exc:
                await self._browser_failed(session)
                if attempt:
                    raise BrowserFailure(browser_failure_detail(exc)) from None
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

    async def check(self) -> bool:
        """Whether a session answers in its page now (a round trip through the driver, the browser
        and the page's renderer). With none answering, what is dead is dropped and healing starts."""
        if await self.sessions.check() > 0:
            return True
        # A dead browser or driver is dropped, so healing relaunches it. A slot that is only empty
        # (its session retired after TikTok distrusted it) is refilled by the next call, as always.
        if not await self.browser.check() or self.sessions.last_open_error is not None:
            self.heal()
        return False

    async def close(self) -> None:
        self._closing = True
        if self._healing is not None and not self._healing.done():
            self._healing.cancel()
            with contextlib.suppress(BaseException):
                await self._healing
        await self.sessions.close()
        await self.browser.close()


def interpret(answer: ApiAnswer) -> dict[str, Any]:
    """The payload of a 200, or the typed error for everything else."""
    if answer.error is not None:
        # The page's fetch failed: Chromium's own words would name internal addresses.
        raise UpstreamUnavailable(
            "did not answer in time" if answer.error == "timeout" else "could not be reached"
        )
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
