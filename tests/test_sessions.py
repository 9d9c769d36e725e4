"""The session pool: one opening per slot, and an opening that outlives the caller who gave up on it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.aio import run_async
from tiktok_spiders.client import sessions
from tiktok_spiders.client.sessions import SessionPool
from tiktok_spiders.errors import BrowserFailure


class SlowHost:
    """A browser host whose launch takes ``seconds`` (a relaunch on a loaded machine)."""

    def __init__(self, seconds: float, fail: bool = False) -> None:
        self.seconds = seconds
        self.fail = fail
        self.launches = 0

    async def browser(self) -> object:
        self.launches += 1
        await asyncio.sleep(self.seconds)  # the launch itself, not a synchronisation
        if self.fail:
            raise BrowserFailure("the service's browser could not be launched")
        return object()


class FakeSession:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.age = 0.0
        self.calls = 0
        self.usable = True

    async def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def fake_open_session(monkeypatch: pytest.MonkeyPatch) -> None:
    async def open_session(_browser: object, _base_url: str, number: int, **_options: Any) -> FakeSession:
        return FakeSession(number)

    monkeypatch.setattr(sessions, "open_session", open_session)


def pool(host: SlowHost) -> SessionPool:
    return SessionPool(host, "http://127.0.0.1:9", open_timeout=5, max_age=600)  # type: ignore[arg-type]


def test_a_caller_that_gives_up_does_not_waste_the_opening() -> None:
    async def scenario() -> tuple[int, int, object, object]:
        host = SlowHost(0.3)
        sessions_pool = pool(host)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sessions_pool.get(), 0.05)  # its deadline passed mid-launch
        session = await asyncio.wait_for(sessions_pool.get(), 5)  # joins the opening still under way
        again = await sessions_pool.get()
        await sessions_pool.close()
        return host.launches, sessions_pool.opened, session, again

    launches, opened, session, again = run_async(scenario())
    assert (launches, opened) == (1, 1)  # cancelling the first caller cancelled neither
    assert session is again


def test_an_opening_nobody_waits_for_still_fills_its_slot() -> None:
    async def scenario() -> tuple[int, list[object]]:
        host = SlowHost(0.05)
        sessions_pool = pool(host)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sessions_pool.get(), 0.01)
        for _ in range(100):  # bounded: the opening needs about 0.05 s
            if sessions_pool.sessions:
                break
            await asyncio.sleep(0.01)  # poll interval of a bounded wait
        found: list[object] = list(sessions_pool.sessions)
        await sessions_pool.close()
        return host.launches, found

    launches, found = run_async(scenario())
    assert launches == 1
    assert len(found) == 1


def test_a_failed_opening_reaches_its_caller_and_the_next_one_tries_again() -> None:
    async def scenario() -> tuple[int, str | None]:
        host = SlowHost(0.01, fail=True)
        sessions_pool = pool(host)
        for _ in range(2):
            with pytest.raises(BrowserFailure):
                await sessions_pool.get()
        return host.launches, sessions_pool.last_open_error

    launches, error = run_async(scenario())
    assert launches == 2
    assert error is not None and "could not be launched" in error


def test_an_opening_that_never_ends_fails_at_the_open_timeout_and_frees_its_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call into a browser killed under it that never returns must not hold the slot for good."""
    attempts: list[int] = []

    async def open_session(_browser: object, _base_url: str, number: int, **_options: Any) -> FakeSession:
        attempts.append(number)
        if len(attempts) == 1:
            await asyncio.Event().wait()  # the first opening never ends on its own
        return FakeSession(number)

    monkeypatch.setattr(sessions, "open_session", open_session)

    async def scenario() -> tuple[str | None, object]:
        sessions_pool = SessionPool(SlowHost(0), "http://127.0.0.1:9", open_timeout=0.2, max_age=600)  # type: ignore[arg-type]
        with pytest.raises(BrowserFailure):
            await asyncio.wait_for(sessions_pool.get(), 5)
        error = sessions_pool.last_open_error
        session = await asyncio.wait_for(sessions_pool.get(), 5)
        await sessions_pool.close()
        return error, session

    error, session = run_async(scenario())
    assert error is not None and "in time" in error
    assert isinstance(session, FakeSession)
    assert attempts == [1, 2]
