"""``TikTokClient``: API calls with recovery, shared by every crawl in the process.

Its public upstream calls, ``fetch`` (one API answer, or the same feed from a rendered page) and
``challenge`` (a hashtag's id, cached), each pass once through ``_guarded``: the circuit breaker's
ticket is taken and ended there, whatever happens. Each returns what it counted on the way
(``Counted``; a raised ``UpstreamError`` carries ``counts``), for the caller to add to its crawl's stats.
What does not pass the breaker, on purpose: opening a session (``sessions.get``: a page load whose
failures are the browser's, or TikTok's distrust, which retires the session instead), the play
proxy's ``cdn_headers`` (reads the session's cookies, sends nothing to TikTok), ``check`` and
``_heal`` (probes of our own browser). The breaker counts TikTok refusing data calls, nothing else.

Recovery, bounded by ``tiktok_max_attempts``: an empty body or a captcha retires the session and
retries with a fresh one after a backoff; 429, 5xx, cut connections and timeouts retry after a backoff
(honouring ``Retry-After``); not found, private and region answers are final.

Strategies (``tiktok_strategy``): ``api`` signs and fetches API calls in the session's page; ``page``
opens the feed's page and captures the answers the page's own script fetches; ``auto`` (the default)
uses the API, switches to pages when TikTok refuses the API path, and remembers that for
``tiktok_page_strategy_ttl`` seconds. A circuit breaker stops upstream calls for a cool-down after
``breaker_threshold`` refused feeds in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from cachetools import TTLCache
from playwright.async_api import Error as PlaywrightError

from settings.crawl import config_from_settings
from settings.env import Strategy
from tiktok_spiders.client.breaker import CircuitBreaker
from tiktok_spiders.client.browser import PROBE_TIMEOUT, BrowserHost, browser_failure_detail
from tiktok_spiders.client.pages import PageFeed, capture_feed
from tiktok_spiders.client.politeness import UpstreamGate
from tiktok_spiders.client.sessions import SessionPool
from tiktok_spiders.client.web_params import build_api_url
from tiktok_spiders.errors import (
    BrowserFailure,
    NotFound,
    PrivateContent,
    RateLimited,
    SessionRetired,
    SoftFailure,
    UpstreamBlocked,
    UpstreamError,
    UpstreamUnavailable,
)
from tiktok_spiders.parsing import Challenge, load_json, parse_challenge_detail

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from scrapy.settings import BaseSettings

    from settings.env import Config
    from tiktok_spiders.client.session import ApiAnswer, TikTokSession

CHALLENGE_DETAIL = "/api/challenge/detail/"
T = TypeVar("T")
#: tries of one background healing (each waits out the launch backoff, at most 8 s): about 15 minutes
HEAL_ATTEMPTS = 120


@dataclass(frozen=True, slots=True)
class ApiResult:
    """An API answer TikTok marked as successful: the parsed payload and the body it came in."""

    payload: dict[str, Any]
    body: str


@dataclass(frozen=True, slots=True)
class Counted(Generic[T]):
    """What a public upstream call returns: its value, and what it counted on the way (``api_calls``,
    ``page_loads``, ``retries/<reason>``, ``errors/<reason>``) for the crawl's ``tiktok/...`` stats.
    A raised ``UpstreamError`` carries its counts the same way (``counts``)."""

    value: T
    counts: Counter[str]


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """The part of the configuration the client uses: the ``Config`` fields of the same names, with no
    defaults of their own (``settings.env.Config`` holds them)."""

    tiktok_base_url: str
    chromium_path: str | None
    tiktok_proxy: tuple[str, ...]
    tiktok_ms_token: str | None
    tiktok_ca_file: str | None
    upstream_timeout: float
    tiktok_max_attempts: int
    tiktok_retry_backoff: float
    tiktok_retry_backoff_max: float
    tiktok_max_in_flight: int
    tiktok_rate: str
    tiktok_session_max_age: float
    tiktok_session_max_calls: int
    tiktok_sessions: int
    tiktok_strategy: Strategy
    tiktok_page_strategy_ttl: float
    tiktok_challenge_ttl: float
    breaker_threshold: int
    breaker_cooldown: float

    @classmethod
    def from_config(cls, config: Config) -> ClientOptions:
        return cls(**{each.name: getattr(config, each.name) for each in fields(cls)})

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ClientOptions:
        """From a crawl's Scrapy settings (``settings.crawl.crawl_settings``, ``-s`` included)."""
        return cls.from_config(config_from_settings(settings))

    def __repr__(self) -> str:
        # Secrets stay out: the proxies are counted, the msToken never shown.
        return (
            f"ClientOptions(tiktok_base_url={self.tiktok_base_url!r}, tiktok_proxy={len(self.tiktok_proxy)})"
        )


class TikTokClient:
    _shared: ClassVar[dict[ClientOptions, TikTokClient]] = {}

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.browser = BrowserHost(options.chromium_path, trusted_certificate=options.tiktok_ca_file)
        self.sessions = SessionPool(
            self.browser,
            options.tiktok_base_url,
            open_timeout=options.upstream_timeout,
            max_age=options.tiktok_session_max_age,
            size=options.tiktok_sessions,
            proxies=options.tiktok_proxy,
            ms_token=options.tiktok_ms_token,
            max_calls=options.tiktok_session_max_calls,
        )
        self.breaker = CircuitBreaker(options.breaker_threshold, options.breaker_cooldown)
        self.page_strategy_until = 0.0
        self.last_error: str | None = None
        self.latency_ms: float | None = None
        rate = None if options.tiktok_rate.lower() == "off" else options.tiktok_rate
        self.gate = UpstreamGate(options.tiktok_max_in_flight, rate)
        self.challenges: TTLCache[str, Challenge] = TTLCache(maxsize=10_000, ttl=options.tiktok_challenge_ttl)
        #: the process's totals, for /health (each call's own counts go back with its result)
        self.counters: Counter[str] = Counter()
        #: the process's upstream calls by (endpoint, via, outcome): the API path called, ``api`` or
        #: ``page`` (a rendered page's capture of that path), ``ok`` or the error's ``reason``
        self.calls: Counter[tuple[str, str, str]] = Counter()
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
    def strategy(self) -> Strategy:
        """The strategy in use now: ``api`` or ``page``."""
        if self.options.tiktok_strategy is not Strategy.AUTO:
            return self.options.tiktok_strategy
        return Strategy.PAGE if time.monotonic() < self.page_strategy_until else Strategy.API

    def fall_back_to_pages(self) -> bool:
        """After TikTok refused the API path: use pages for a while, if the strategy allows it."""
        if self.options.tiktok_strategy is not Strategy.AUTO:
            return self.options.tiktok_strategy is Strategy.PAGE
        self.page_strategy_until = time.monotonic() + self.options.tiktok_page_strategy_ttl
        self.counters["strategy_switches/page"] += 1
        return True

    # --- the public upstream calls: each goes through ``_guarded`` once ---------------------------

    async def fetch(
        self,
        path: str,
        params: Mapping[str, str | int],
        page: PageFeed | None = None,
        require: str | None = None,
    ) -> Counted[ApiResult]:
        """One API answer, after recovery, by the strategy in use: ``page`` names the rendered page
        that shows the same feed (None: the API only). ``require`` is a dotted path
        (``userInfo.user.id``) a true answer always fills: an answer without it is TikTok's soft
        failure, retried with a fresh session. Raises the last ``UpstreamError``."""
        return await self._guarded(lambda counts: self._fetch(path, params, page, counts, require))

    async def challenge(self, name: str) -> Counted[Challenge | None]:
        """The hashtag's challenge (its id), looked up once per name and process; None when the tag's
        rendered page is to look it up itself (the page strategy, or TikTok refused the API now)."""
        cached = self.challenges.get(name.casefold())
        if cached is not None:
            return Counted(cached, Counter())
        if self.strategy is Strategy.PAGE:
            return Counted(None, Counter())
        try:
            return await self._guarded(lambda counts: self._challenge(name, counts))
        except UpstreamBlocked as error:
            # A refusal counts against the breaker like any other; the tag's page may still load.
            if not self.fall_back_to_pages():
                raise
            return Counted(None, Counter(error.counts))

    async def _guarded(self, work: Callable[[Counter[str]], Awaitable[T]]) -> Counted[T]:
        """``work(counts)`` behind the circuit breaker: whatever happens, the call's ticket is ended, so
        a half-open probe can never stay open. Only TikTok's own failures count against it. The counts
        go back with the value, or on the raised ``UpstreamError``."""
        counts: Counter[str] = Counter()
        ticket = self.breaker.before_call()
        try:
            value = await work(counts)
        except (NotFound, PrivateContent, BrowserFailure) as error:
            # TikTok answered (not found), or our own browser failed: nothing said about TikTok.
            self.breaker.released(ticket)
            error.counts = counts
            raise
        except UpstreamError as error:
            self.breaker.failed(ticket)
            self.last_error = f"{error.reason}: {error.detail}"[:200]
            error.counts = counts
            raise
        except BaseException:
            self.breaker.released(ticket)
            raise
        self.breaker.succeeded(ticket)
        return Counted(value, counts)

    async def _fetch(
        self,
        path: str,
        params: Mapping[str, str | int],
        page: PageFeed | None,
        counts: Counter[str],
        require: str | None = None,
    ) -> ApiResult:
        if page is not None and self.strategy is Strategy.PAGE:
            return await self._page_feed(page, counts)
        try:
            return await self._call(path, params, counts, require)
        except UpstreamBlocked:
            # TikTok refuses our API calls; its own pages may still load their feeds.
            if page is None or not self.fall_back_to_pages():
                raise
            return await self._page_feed(page, counts)

    async def _challenge(self, name: str, counts: Counter[str]) -> Challenge:
        result = await self._call(CHALLENGE_DETAIL, {"challengeName": name}, counts)
        challenge = self.challenges[name.casefold()] = parse_challenge_detail(result.payload)
        return challenge

    # --- one attempt loop per path -----------------------------------------------------------------

    async def _page_feed(self, page: PageFeed, counts: Counter[str]) -> ApiResult:
        last_error: UpstreamError | None = None
        for _attempt in range(2):
            session: TikTokSession | None = None
            loaded = False
            try:
                session = await self.sessions.get()
                self._count(counts, "page_loads")
                loaded = True
                payload = await capture_feed(
                    session, self.options.tiktok_base_url, page, self.options.upstream_timeout
                )
            except UpstreamError as error:
                if loaded:
                    self.calls[page.api_path, "page", error.reason] += 1
                last_error = error
                await self._after_failure(error, session, counts)
                continue
            self.calls[page.api_path, "page", "ok"] += 1
            return ApiResult(payload, "")
        assert last_error is not None
        raise final(last_error)

    def _count(self, counts: Counter[str], key: str) -> None:
        counts[key] += 1
        self.counters[key] += 1

    async def _call(
        self, path: str, params: Mapping[str, str | int], counts: Counter[str], require: str | None = None
    ) -> ApiResult:
        """The JSON answer of one API call, after recovery; raises the last ``UpstreamError``."""
        last_error: UpstreamError | None = None
        for attempt in range(self.options.tiktok_max_attempts):
            if attempt:
                assert last_error is not None
                self._count(counts, f"retries/{last_error.reason}")
                if not isinstance(last_error, SessionRetired):  # the fresh session is ready now
                    await asyncio.sleep(self._backoff(attempt, last_error))
            session: TikTokSession | None = None
            called = False  # a failure to open a session is no call to ``path``
            try:
                session = await self.sessions.get()
                url = build_api_url(self.options.tiktok_base_url, path, params, session.fields)
                async with self.gate:
                    self._count(counts, "api_calls")
                    called = True
                    started = time.monotonic()
                    answer = await session.fetch(url, self.options.upstream_timeout)
                result = ApiResult(interpret(answer), answer.body)
                if require is not None:
                    check_required(result.payload, require)
            except UpstreamError as exc:
                if called:
                    self.calls[path, "api", exc.reason] += 1
                last_error = exc
                await self._after_failure(exc, session, counts)
                continue
            self.calls[path, "api", "ok"] += 1
            self._observe_latency(time.monotonic() - started)
            return result
        assert last_error is not None
        raise final(last_error)

    async def _after_failure(
        self, error: UpstreamError, session: TikTokSession | None, counts: Counter[str]
    ) -> None:
        """After one failed attempt (an API call or a page load): count it, drop what it left dead,
        and raise ``error`` again when no retry can help."""
        self._count(counts, f"errors/{error.reason}")
        if isinstance(error, BrowserFailure):
            await self._browser_failed(session)  # the session is dropped there
            if error.retry_after is not None:
                raise error  # the browser cannot be relaunched yet: say so now, not after retries
        elif not error.retryable:
            raise error
        elif session is not None and error.retry_with_new_session:
            await self.sessions.discard(session, because=error)

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
            "strategy_setting": self.options.tiktok_strategy,
            "browser": self.browser.describe(),
            "sessions": self.sessions.describe(),
            "breaker": self.breaker.describe(),
            "api_calls": self.counters["api_calls"],
            "page_loads": self.counters["page_loads"],
            "last_error": self.last_error,
            "latency_ms": round(self.latency_ms, 1) if self.latency_ms is not None else None,
        }

    async def cdn_headers(self, url: str) -> dict[str, str]:
        """What TikTok's CDN wants with a play address: the session's cookies for that URL (among them
        ``tt_chain_token``), ``Referer: {BASE}/`` and the session's User-Agent."""
        for attempt in range(2):  # a session found dead is replaced once
            session = await self.sessions.get()
            try:
                cookies = await asyncio.wait_for(
                    session.context.cookies([url, f"{self.options.tiktok_base_url}/"]), PROBE_TIMEOUT
                )
                break
            except (PlaywrightError, TimeoutError) as exc:  # a wedged browser answers nothing
                await self._browser_failed(session)
                if attempt:
                    raise BrowserFailure(browser_failure_detail(exc)) from None
        jar = {cookie["name"]: cookie["value"] for cookie in cookies}
        return {
            "Cookie": "; ".join(f"{name}={value}" for name, value in jar.items()),
            "Referer": f"{self.options.tiktok_base_url}/",
            "User-Agent": session.fields.user_agent,
        }

    def _backoff(self, attempt: int, error: UpstreamError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.options.tiktok_retry_backoff_max)
        delay = min(
            self.options.tiktok_retry_backoff * 2.0 ** (attempt - 1), self.options.tiktok_retry_backoff_max
        )
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
        # A session the healing opened while the browser was being probed answers too: /health reads
        # the pool's state after this, and must not say "none open" beside a pool that has one.
        return self.sessions.usable > 0

    async def close(self) -> None:
        self._closing = True
        if self._healing is not None and not self._healing.done():
            self._healing.cancel()
            with contextlib.suppress(BaseException):
                await self._healing
        await self.sessions.close()
        await self.browser.close()


def final(error: UpstreamError) -> UpstreamError:
    """The error to raise when no attempt is left: for a session retired under the call, what TikTok
    answered to make it retired, not that another call acted on it."""
    return error.cause if isinstance(error, SessionRetired) else error


def check_required(payload: Mapping[str, Any], require: str) -> None:
    """Raise ``SoftFailure`` when the dotted path ``require`` is absent or empty in ``payload``."""
    value: Any = payload
    for key in require.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or value in ("", {}):
        raise SoftFailure(f"TikTok answered without {require} (a soft failure)")


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
