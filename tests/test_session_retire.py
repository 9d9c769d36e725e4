"""Two calls in flight on one session, and TikTok distrusts it: the call that sees the refusal retires
the session, closing its page under the other call. That other call must fail (or be retried) for
TikTok's reason, never as the service's own browser failure: pages fetched at once
(``TIKTOK_PAGES_AHEAD``) share a session, and a 503 ``browser_unavailable`` there would be a lie."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError

from settings.env import Config
from tests.aio import run_async
from tiktok_spiders import errors
from tiktok_spiders.client import sessions
from tiktok_spiders.client.client import ClientOptions, TikTokClient
from tiktok_spiders.client.session import TikTokSession
from tiktok_spiders.client.web_params import SessionFields

REFUSED = {"status": 200, "body": "", "retryAfter": None, "error": None}
ANSWERED = {"status": 200, "body": '{"statusCode": 0, "itemList": []}', "retryAfter": None, "error": None}
FIELDS = SessionFields(device_id="7497448105643329031", ms_token="token", user_agent="Mozilla/5.0 Chrome/156")


class FakeBrowser:
    def is_connected(self) -> bool:
        return True


class FakeContext:
    def __init__(self) -> None:
        self.browser = FakeBrowser()
        self.closed = asyncio.Event()

    async def close(self) -> None:
        self.closed.set()


class FakePage:
    """A page whose calls answer in the order they arrived, 20 ms apart, with ``answer``; a call still
    waiting when its context is closed fails as Playwright's would ("Target ... has been closed")."""

    def __init__(self, context: FakeContext, answer: dict[str, Any]) -> None:
        self.context = context
        self.answer = answer
        self.arrived = 0

    def on(self, _event: str, _handler: object) -> None:
        pass

    def is_closed(self) -> bool:
        return self.context.closed.is_set()

    async def evaluate(self, _script: str, _argument: object = None) -> dict[str, Any]:
        if self.context.closed.is_set():
            raise PlaywrightError("Target page, context or browser has been closed")
        self.arrived += 1
        closed = asyncio.ensure_future(self.context.closed.wait())
        done, _ = await asyncio.wait({closed}, timeout=0.02 * self.arrived)
        closed.cancel()
        if done:
            raise PlaywrightError("Target page, context or browser has been closed")
        return self.answer


class FakeHost:
    """The browser host, probed only when a call failed as the browser's failure."""

    launch_blocked_for = 0.0

    def __init__(self) -> None:
        self.checks = 0
        self.on_lost: object = None

    async def browser(self) -> FakeBrowser:
        return FakeBrowser()

    async def check(self) -> bool:
        self.checks += 1
        return True

    async def close(self) -> None:
        pass


def client_whose_sessions_answer(
    monkeypatch: pytest.MonkeyPatch, answers: list[dict[str, Any]]
) -> TikTokClient:
    """A client on one session slot; the n-th session opened answers ``answers[n]`` (the last one after)."""

    async def open_session(_browser: object, _base_url: str, number: int, **_options: Any) -> TikTokSession:
        context = FakeContext()
        page = FakePage(context, answers[min(number, len(answers)) - 1])
        return TikTokSession(context, page, FIELDS, number)  # type: ignore[arg-type]

    monkeypatch.setattr(sessions, "open_session", open_session)
    options = ClientOptions.from_config(
        Config(
            tiktok_base_url="http://127.0.0.1:9",
            tiktok_sessions=1,
            tiktok_max_attempts=3,
            tiktok_retry_backoff=0.01,
        )
    )
    client = TikTokClient(options)
    client.browser = client.sessions.host = FakeHost()  # type: ignore[assignment]
    return client


async def two_calls_at_once(client: TikTokClient) -> list[Counter[str] | BaseException]:
    async def one() -> Counter[str]:
        return (await client.fetch("/api/recommend/item_list/", {"count": 35})).counts

    outcomes = await asyncio.gather(one(), one(), return_exceptions=True)
    await client.close()
    return list(outcomes)


def test_a_call_whose_session_was_retired_under_it_is_retried_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_whose_sessions_answer(monkeypatch, [REFUSED, ANSWERED])
    first, second = run_async(two_calls_at_once(client))
    assert isinstance(first, Counter) and isinstance(second, Counter)
    both = first + second
    assert both["errors/blocked"] == 1  # TikTok refused once, on the first session
    assert both["retries/session_retired"] == 1  # the call in flight beside it went on with the new one
    assert "errors/browser_failed" not in both
    assert client.browser.checks == 0  # type: ignore[attr-defined]  # nobody took the browser for dead


def test_when_tiktok_refuses_every_session_both_calls_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_whose_sessions_answer(monkeypatch, [REFUSED])
    outcomes = run_async(two_calls_at_once(client))
    assert all(isinstance(outcome, errors.UpstreamBlocked) for outcome in outcomes), outcomes
    assert all("errors/browser_failed" not in outcome.counts for outcome in outcomes)  # type: ignore[union-attr]
    assert client.browser.checks == 0  # type: ignore[attr-defined]
