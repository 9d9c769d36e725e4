"""The TikTok client's pure parts: the query it builds, how it reads answers, proxies, politeness."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest

from settings.env import Config
from tiktok_spiders import errors
from tiktok_spiders.client.client import ClientOptions, TikTokClient, interpret
from tiktok_spiders.client.politeness import UpstreamGate
from tiktok_spiders.client.session import ApiAnswer, Proxy
from tiktok_spiders.client.web_params import SessionFields, build_api_url

if TYPE_CHECKING:
    from collections.abc import Coroutine

T = TypeVar("T")


def run_async(coroutine: Coroutine[object, object, T]) -> T:
    """Run on a thread of its own: Playwright's sync API keeps an event loop on the test thread."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result(timeout=30)


SESSION = SessionFields(
    device_id="7497448105643329031",
    ms_token="token-abc",
    user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
)


def options(**changes: Any) -> ClientOptions:
    """The client's options for a loopback port nothing listens on, with ``changes`` to the defaults."""
    return ClientOptions.from_config(Config(tiktok_base_url="http://127.0.0.1:9", **changes))


def test_api_url_carries_common_params_then_call_params_then_ms_token_last() -> None:
    url = build_api_url(
        "http://127.0.0.1:8900", "/api/challenge/item_list/", {"challengeID": "42", "count": 30}, SESSION
    )
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("127.0.0.1:8900", "/api/challenge/item_list/")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    assert query["aid"] == "1988"
    assert query["app_name"] == "tiktok_web"
    assert query["device_platform"] == "web_pc"
    assert query["device_id"] == SESSION.device_id
    assert query["browser_version"] == SESSION.user_agent.removeprefix("Mozilla/")
    assert (query["challengeID"], query["count"]) == ("42", "30")
    assert pairs[-1] == ("msToken", "token-abc")
    assert "X-Bogus" not in query  # signed in the page, not here


def test_unicode_call_params_are_percent_encoded() -> None:
    url = build_api_url("http://127.0.0.1:8900", "/api/challenge/detail/", {"challengeName": "美食"}, SESSION)
    assert "challengeName=%E7%BE%8E%E9%A3%9F" in url


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (ApiAnswer(200, ""), errors.UpstreamBlocked),
        (ApiAnswer(200, '{"statusCode": 10000}'), errors.CaptchaRequired),
        (ApiAnswer(429, ""), errors.RateLimited),
        (ApiAnswer(502, "<html>"), errors.UpstreamUnavailable),
        (ApiAnswer(403, ""), errors.UpstreamBlocked),
        (ApiAnswer(404, ""), errors.UpstreamError),
        (ApiAnswer(0, "", error="timeout"), errors.UpstreamUnavailable),
        (ApiAnswer(200, "{oops"), errors.MalformedPayload),
    ],
)
def test_answers_are_read_as_typed_errors(answer: ApiAnswer, error: type[errors.UpstreamError]) -> None:
    with pytest.raises(error) as raised:
        interpret(answer)
    assert type(raised.value) is error


def test_retry_after_is_read_and_honoured_up_to_the_cap() -> None:
    with pytest.raises(errors.RateLimited) as raised:
        interpret(ApiAnswer(429, "", retry_after="3"))
    assert raised.value.retry_after == 3.0
    client = TikTokClient(options(tiktok_retry_backoff_max=2.0))
    assert client._backoff(1, raised.value) == 2.0


def test_backoff_grows_and_is_capped() -> None:
    client = TikTokClient(options(tiktok_retry_backoff=0.5, tiktok_retry_backoff_max=3.0))
    error = errors.UpstreamBlocked()
    delays = [client._backoff(attempt, error) for attempt in (1, 2, 3, 4, 5)]
    assert 0.375 <= delays[0] <= 0.625
    assert 0.75 <= delays[1] <= 1.25
    assert all(delay <= 3.0 * 1.25 for delay in delays)


def test_proxy_credentials_are_parsed_but_never_shown() -> None:
    proxy = Proxy.from_url("http://user%40x:s3cr%3At@10.0.0.1:3128")
    assert proxy.for_playwright() == {
        "server": "http://10.0.0.1:3128",
        "username": "user@x",
        "password": "s3cr:t",
    }
    assert "s3cr" not in repr(proxy)
    client_options = options(tiktok_proxy=("http://u:s3cret@10.0.0.1:3128",), tiktok_ms_token="tok-secret")
    assert "s3cret" not in repr(client_options) and "tok-secret" not in repr(client_options)


def test_gate_bounds_calls_in_flight() -> None:
    async def scenario() -> int:
        gate = UpstreamGate(max_in_flight=2, rate=None)
        in_flight = peak = 0
        release = asyncio.Event()

        async def call() -> None:
            nonlocal in_flight, peak
            async with gate:
                in_flight += 1
                peak = max(peak, in_flight)
                await release.wait()
                in_flight -= 1

        tasks = [asyncio.create_task(call()) for _ in range(6)]
        for _ in range(10):  # let every task reach the gate
            await asyncio.sleep(0)
        assert in_flight == 2
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
        return peak

    assert run_async(scenario()) == 2


def test_gate_bounds_calls_per_second() -> None:
    async def scenario() -> tuple[int, float]:
        gate = UpstreamGate(max_in_flight=10, rate="5/second")
        started = time.monotonic()
        for _ in range(7):
            async with gate:
                pass
        return gate.waits, time.monotonic() - started

    waits, elapsed = run_async(scenario())
    assert waits > 0  # the 6th call had to wait for the window
    assert elapsed >= 0.5  # a lower bound: the window is one second wide
