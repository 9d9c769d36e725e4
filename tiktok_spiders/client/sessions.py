"""Keeps the current TikTok session: opened once, reused until it is too old or TikTok distrusts it."""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

from tiktok_spiders.client.session import Proxy, TikTokSession, open_session

if TYPE_CHECKING:
    from tiktok_spiders.client.browser import BrowserHost


class SessionManager:
    def __init__(
        self,
        host: BrowserHost,
        base_url: str,
        open_timeout: float,
        max_age: float,
        proxies: tuple[str, ...] = (),
        ms_token: str | None = None,
    ) -> None:
        self.host = host
        self.base_url = base_url
        self.open_timeout = open_timeout
        self.max_age = max_age
        self.ms_token = ms_token
        self._proxies = itertools.cycle([Proxy.from_url(url) for url in proxies] or [None])
        self._current: TikTokSession | None = None
        self._lock = asyncio.Lock()
        self.opened = 0
        self.discarded = 0

    async def get(self) -> TikTokSession:
        """The current session, opening one if there is none (concurrent callers share one opening)."""
        async with self._lock:
            session = self._current
            if session is not None and session.age > self.max_age:
                await self._close(session)
                session = None
            if session is None:
                browser = await self.host.browser()
                self.opened += 1
                session = await open_session(
                    browser,
                    self.base_url,
                    number=self.opened,
                    timeout=self.open_timeout,
                    proxy=next(self._proxies),
                    ms_token=self.ms_token,
                )
                self._current = session
            return session

    async def discard(self, session: TikTokSession) -> None:
        """Drop a session TikTok distrusts; the next ``get`` opens a fresh one (with the next proxy)."""
        async with self._lock:
            if self._current is session:
                await self._close(session)

    async def _close(self, session: TikTokSession) -> None:
        self._current = None
        self.discarded += 1
        await session.close()

    @property
    def current(self) -> TikTokSession | None:
        return self._current

    async def close(self) -> None:
        async with self._lock:
            if self._current is not None:
                await self._current.close()
                self._current = None
