"""A pool of TikTok sessions (``TIKTOK_SESSIONS``), each its own browser context and, where
``TIKTOK_PROXY`` lists several, its own proxy. Calls are spread round-robin over the slots; a session
TikTok distrusts (empty bodies, captcha), that is too old or that has made ``max_calls`` calls is retired, and its slot opens a fresh
one, with the next proxy, when it is next needed."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tiktok_spiders.client.session import Proxy, TikTokSession, open_session
from tiktok_spiders.errors import BrowserFailure, UpstreamError

if TYPE_CHECKING:
    from tiktok_spiders.client.browser import BrowserHost


@dataclass
class _Slot:
    number: int
    session: TikTokSession | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the session being opened. It goes on when the caller that started it gives up (its deadline
    #: passed): cancelled half-way, a launch would leave a browser or driver nobody owns, and the
    #: next caller would pay for a second opening.
    opening: asyncio.Task[TikTokSession] | None = None


class SessionPool:
    def __init__(
        self,
        host: BrowserHost,
        base_url: str,
        open_timeout: float,
        max_age: float,
        size: int = 1,
        proxies: tuple[str, ...] = (),
        ms_token: str | None = None,
        max_calls: int = 500,
    ) -> None:
        self.host = host
        self.max_calls = max_calls
        self.base_url = base_url
        self.open_timeout = open_timeout
        self.max_age = max_age
        self.ms_token = ms_token
        self._proxies = itertools.cycle([Proxy.from_url(url) for url in proxies] or [None])
        self._slots = [_Slot(number) for number in range(max(1, size))]
        self._turn = itertools.count()
        self.opened = 0
        self.retired = 0
        #: sessions dropped because their page or browser died
        self.lost = 0
        #: why the last attempt to open a session failed; None once one opened
        self.last_open_error: str | None = None

    async def get(self) -> TikTokSession:
        """The next slot's session, opened now if the slot is empty (one opening per slot at a time)."""
        slot = self._slots[next(self._turn) % len(self._slots)]
        async with slot.lock:
            if slot.session is not None and (
                slot.session.age > self.max_age or slot.session.calls >= self.max_calls
            ):
                # A page's memory grows with every call it makes; a fresh context gives it back.
                await self._retire(slot, because=UpstreamError("the session reached its age or call limit"))
            elif slot.session is not None and not slot.session.usable:
                self.lost += 1  # its page crashed, or the browser under it went away
                await self._retire(slot)
            if slot.session is not None:
                return slot.session
            if slot.opening is None or slot.opening.done():
                slot.opening = asyncio.ensure_future(self._open_into(slot))
                slot.opening.add_done_callback(_observed)
            return await asyncio.shield(slot.opening)

    async def _open_into(self, slot: _Slot) -> TikTokSession:
        """Open a session for ``slot`` and put it there, whether or not its caller still waits."""
        try:
            browser = await self.host.browser()
            self.opened += 1
            # Bounded as a whole: the opening goes on when its caller gives up, so a step that never
            # returns (a call into a browser killed under it) would hold its slot for good.
            session = await asyncio.wait_for(
                open_session(
                    browser,
                    self.base_url,
                    number=self.opened,
                    timeout=self.open_timeout,
                    proxy=next(self._proxies),
                    ms_token=self.ms_token,
                ),
                self.open_timeout,
            )
        except TimeoutError:
            self.last_open_error = "browser_failed: the service's browser did not open a session in time"
            raise BrowserFailure("the service's browser did not open a session in time") from None
        except UpstreamError as error:
            self.last_open_error = f"{error.reason}: {error.detail}"[:200]
            raise
        self.last_open_error = None
        slot.session = session
        return session

    async def discard(self, session: TikTokSession, because: UpstreamError | None = None) -> None:
        """Retire a session TikTok distrusts (``because``: what it answered; None: its page or
        browser died); its slot opens a fresh one when next needed."""
        for slot in self._slots:
            if slot.session is session:
                async with slot.lock:
                    if slot.session is session:
                        await self._retire(slot, because)
                return

    async def _retire(self, slot: _Slot, because: UpstreamError | None = None) -> None:
        session, slot.session = slot.session, None
        if session is not None:
            self.retired += 1
            if because is not None:
                session.retired_because = because
            await session.close()

    @property
    def sessions(self) -> list[TikTokSession]:
        return [slot.session for slot in self._slots if slot.session is not None]

    async def check(self) -> int:
        """Probe every open session's page; retire the dead ones. How many answered."""
        alive = 0
        for slot in self._slots:
            session = slot.session
            if session is None:
                continue
            if await session.alive():
                alive += 1
            else:
                await self.discard(session)
                self.lost += 1
        return alive

    @property
    def usable(self) -> int:
        """Open sessions whose page and browser are alive as far as their events tell."""
        return sum(1 for session in self.sessions if session.usable)

    def describe(self) -> dict[str, Any]:
        return {
            "size": len(self._slots),
            "open": self.usable,
            "opened": self.opened,
            "retired": self.retired,
            "lost": self.lost,
            "last_open_error": self.last_open_error,
            "slots": [
                {
                    "slot": slot.number,
                    "open": slot.session is not None,
                    "age_s": round(slot.session.age, 1) if slot.session else None,
                    "calls": slot.session.calls if slot.session else 0,
                    "proxied": bool(slot.session and slot.session.proxied),
                }
                for slot in self._slots
            ],
        }

    async def close(self) -> None:
        for slot in self._slots:
            if slot.opening is not None:
                slot.opening.cancel()  # the browser under it is closed next, with all it holds
            async with slot.lock:
                if slot.session is not None:
                    await slot.session.close()
                    slot.session = None


def _observed(task: asyncio.Task[TikTokSession]) -> None:
    """Take a failed opening's exception, so asyncio does not log it as never retrieved when its
    caller had already given up (the caller that waited got it raised)."""
    if not task.cancelled():
        task.exception()
