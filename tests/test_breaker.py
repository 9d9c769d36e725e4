"""The circuit breaker's states, on a clock the test moves, and the client paths that must end every
probe they start (in process, with a fake session pool: no browser)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from settings.env import Config
from tests.aio import run_async
from tiktok_spiders.client import ClientOptions, TikTokClient
from tiktok_spiders.client.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from tiktok_spiders.client.pages import PageFeed
from tiktok_spiders.client.session import ApiAnswer
from tiktok_spiders.client.web_params import SessionFields
from tiktok_spiders.errors import BrowserFailure, CircuitOpen, NotFound, UpstreamUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        breaker.failed(breaker.before_call())


def test_opens_after_threshold_refusals_in_a_row() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=30, clock=Clock())
    fail(breaker, 2)
    breaker.succeeded(breaker.before_call())  # a success resets the count
    fail(breaker, 3)
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after == 30


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    fail(breaker)
    clock.now += 10
    probe = breaker.before_call()
    assert probe.probe
    assert breaker.state == HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.succeeded(probe)
    assert breaker.state == CLOSED
    breaker.before_call()


def test_a_failed_probe_opens_again_for_a_full_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=5, cooldown=10, clock=clock)
    fail(breaker, 5)
    clock.now += 11
    fail(breaker)  # the probe
    assert breaker.state == OPEN
    assert breaker.trips == 2
    clock.now += 9
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    assert breaker.describe()["retry_in_s"] == 1.0


def test_a_released_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=1, clock=clock)
    fail(breaker)
    clock.now += 1
    breaker.released(breaker.before_call())
    assert breaker.state == HALF_OPEN
    assert breaker.before_call().probe  # the next call may probe


def test_threshold_zero_never_opens() -> None:
    breaker = CircuitBreaker(threshold=0, cooldown=1, clock=Clock())
    fail(breaker, 100)
    assert breaker.state == CLOSED


def test_stragglers_started_before_the_circuit_opened_neither_re_trip_nor_restart_it() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooldown=30, clock=clock)
    stragglers = [breaker.before_call() for _ in range(6)]  # six calls in flight at once
    for ticket in stragglers[:2]:
        breaker.failed(ticket)
    assert breaker.state == OPEN
    assert breaker.trips == 1
    opened_at = breaker.opened_at
    clock.now += 5
    for ticket in stragglers[2:]:
        breaker.failed(ticket)  # the same outage, reported late
    assert breaker.trips == 1
    assert breaker.opened_at == opened_at  # the cool-down was not restarted
    clock.now += 25
    assert breaker.before_call().probe  # 30 s after it opened, not after the last straggler


def test_a_late_success_of_an_old_call_does_not_close_an_open_circuit() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=30, clock=clock)
    old, failing = breaker.before_call(), breaker.before_call()
    breaker.failed(failing)
    breaker.succeeded(old)
    assert breaker.state == OPEN


def test_a_straggler_does_not_end_the_probe_of_a_later_generation() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    old, failing = breaker.before_call(), breaker.before_call()
    breaker.failed(failing)
    clock.now += 10
    probe = breaker.before_call()
    breaker.released(old)
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # the probe is still the only call let through
    breaker.failed(probe)
    assert breaker.state == OPEN
    assert breaker.trips == 2


# --- the client's paths, with a fake pool: every probe they start ends --------------------------


class FakeSession:
    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.fields = SessionFields(device_id="1", ms_token="t", user_agent="Mozilla/5.0")

    async def fetch(self, url: str, timeout: float) -> ApiAnswer:
        outcome = self.outcomes.pop(0) if self.outcomes else ApiAnswer(200, '{"statusCode": 0}')
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, ApiAnswer)
        return outcome


class FakePool:
    def __init__(self, session: FakeSession) -> None:
        self.session = session
        self.discarded = 0

    async def get(self) -> FakeSession:
        return self.session

    async def discard(self, session: object, because: object = None) -> None:
        self.discarded += 1


class FakeHost:
    async def check(self) -> bool:
        return True


def client_with(outcomes: list[Any], threshold: int = 1) -> tuple[TikTokClient, Clock]:
    client = TikTokClient(
        ClientOptions.from_config(
            Config(
                tiktok_base_url="http://127.0.0.1:9",
                tiktok_max_attempts=2,
                tiktok_retry_backoff=0.0,
                tiktok_retry_backoff_max=0.0,
                tiktok_rate="off",
                breaker_threshold=threshold,
                breaker_cooldown=10,
            )
        )
    )
    clock = Clock()
    client.breaker.clock = clock
    client.sessions = FakePool(FakeSession(outcomes))  # type: ignore[assignment]
    client.browser = FakeHost()  # type: ignore[assignment]
    client._closing = True  # no background healing in these tests
    return client, clock


def open_then_probe(client: TikTokClient, clock: Clock) -> None:
    ticket = client.breaker.before_call()
    client.breaker.failed(ticket)
    assert client.breaker.state == OPEN
    clock.now += 10


@pytest.mark.parametrize(
    "raised",
    [
        BrowserFailure("the service's browser went away"),
        asyncio.CancelledError(),
        RuntimeError("a bug"),
    ],
    ids=["browser_failure", "cancelled", "bug"],
)
def test_a_probe_that_raises_from_the_session_is_always_ended(raised: BaseException) -> None:
    """The hashtag lookup's probe used to stay open for ever when the session raised."""
    client, clock = client_with([raised, raised])
    open_then_probe(client, clock)
    with pytest.raises((BrowserFailure, asyncio.CancelledError, RuntimeError)):
        run_async(client.fetch("/api/challenge/detail/", {"challengeName": "food"}))
    assert client.breaker.state == HALF_OPEN  # neither closed nor re-opened by our own failure
    client.sessions.session.outcomes = []  # type: ignore[attr-defined]  # TikTok answers now
    run_async(client.fetch("/api/challenge/detail/", {"challengeName": "food"}))  # the next call probes
    assert client.breaker.state == CLOSED


def test_browser_failures_never_trip_the_breaker() -> None:
    failures = [BrowserFailure() for _ in range(20)]
    client, _clock = client_with(failures, threshold=2)
    for _ in range(10):
        with pytest.raises(BrowserFailure):
            run_async(client.fetch("/api/recommend/item_list/", {"count": 1}))
    assert client.breaker.state == CLOSED
    assert client.breaker.trips == 0
    assert client.last_error is None  # nothing TikTok did


def test_tiktok_failures_trip_it_and_not_found_releases_the_probe() -> None:
    unavailable = ApiAnswer(503, "")
    client, clock = client_with([unavailable, unavailable])
    with pytest.raises(UpstreamUnavailable):
        run_async(client.fetch("/api/recommend/item_list/", {"count": 1}))
    assert client.breaker.state == OPEN
    clock.now += 10
    client.sessions.session.outcomes = [ApiAnswer(200, '{"statusCode": 10205}')]  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        run_async(client.fetch("/api/challenge/detail/", {"challengeName": "nosuchtag"}))
    assert client.breaker.before_call().probe  # released: the next call probes


class RaisingPool:
    """A pool whose every session fails to open with ``raised``."""

    def __init__(self, raised: BaseException) -> None:
        self.raised = raised

    async def get(self) -> FakeSession:
        raise self.raised

    async def discard(self, session: object, because: object = None) -> None:
        pass


RECOMMEND = "/api/recommend/item_list/"
#: every public upstream call of the client; the page feed goes through the page strategy
PUBLIC_CALLS: dict[str, Callable[[TikTokClient], Coroutine[Any, Any, object]]] = {
    "fetch": lambda client: client.fetch(RECOMMEND, {"count": 1}),
    "fetch_by_page": lambda client: client.fetch(
        RECOMMEND, {"count": 1}, PageFeed(page_path="/foryou", api_path=RECOMMEND, want=1)
    ),
    "challenge": lambda client: client.challenge("food"),
}


@pytest.mark.parametrize("path", sorted(PUBLIC_CALLS))
@pytest.mark.parametrize(
    "raised",
    [
        BrowserFailure("the service's browser went away"),
        UpstreamUnavailable("HTTP 503 from TikTok"),
        NotFound(),
        asyncio.CancelledError(),
        RuntimeError("a bug"),
    ],
    ids=["browser_failure", "unavailable", "not_found", "cancelled", "bug"],
)
def test_every_public_call_ends_the_probe_it_started(path: str, raised: BaseException) -> None:
    client, clock = client_with([])
    client.sessions = RaisingPool(raised)  # type: ignore[assignment]
    if path == "fetch_by_page":
        client.page_strategy_until = float("inf")  # auto mode keeps to pages
    open_then_probe(client, clock)
    with pytest.raises(type(raised)):
        run_async(PUBLIC_CALLS[path](client))
    clock.now += 10  # past a re-opened circuit's cool-down
    assert client.breaker.before_call().probe  # the probe ended: another one may go


def test_a_refused_challenge_lookup_counts_against_the_breaker_and_falls_back_to_the_page() -> None:
    client, _clock = client_with([ApiAnswer(403, ""), ApiAnswer(403, "")])
    found = run_async(client.challenge("food"))
    assert found.value is None  # the tag's page looks it up
    assert found.counts == {"api_calls": 2, "errors/blocked": 2, "retries/blocked": 1}
    assert client.breaker.state == OPEN  # threshold 1: the refusal was counted
    assert client.strategy == "page"


def test_each_call_returns_what_it_counted_and_the_error_carries_it() -> None:
    unavailable = ApiAnswer(503, "")
    client, _clock = client_with([unavailable, ApiAnswer(200, '{"statusCode": 0}')], threshold=5)
    done = run_async(client.fetch(RECOMMEND, {"count": 1}))
    assert done.counts == {"api_calls": 2, "errors/unavailable": 1, "retries/unavailable": 1}
    client.sessions.session.outcomes = [unavailable, unavailable]  # type: ignore[attr-defined]
    with pytest.raises(UpstreamUnavailable) as raised:
        run_async(client.fetch(RECOMMEND, {"count": 1}))
    assert raised.value.counts == {"api_calls": 2, "errors/unavailable": 2, "retries/unavailable": 1}
    assert client.counters["api_calls"] == 4  # the process's totals, for /health
