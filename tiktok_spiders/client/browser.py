"""One Chromium per process, launched on first use and shared by every crawl and session."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from playwright.async_api import async_playwright

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

#: Chromium flags for a headless server without a network beyond TikTok: no background traffic to
#: Google's services (refused here, and noise anywhere), no GPU.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",
)


class BrowserHost:
    def __init__(self, executable_path: str | None) -> None:
        self.executable_path = executable_path
        self.launches = 0
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()

    async def browser(self) -> Browser:
        """The shared browser; launched now if it is not running (first use, or after a crash)."""
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable_path,
                headless=True,
                args=list(CHROMIUM_ARGS),
            )
            self.launches += 1
            return self._browser

    def counts(self) -> dict[str, int]:
        """Browser contexts and pages now open: they must not grow with the number of crawls."""
        if self._browser is None or not self._browser.is_connected():
            return {"contexts": 0, "pages": 0}
        contexts = self._browser.contexts
        return {"contexts": len(contexts), "pages": sum(len(context.pages) for context in contexts)}

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    async def close(self) -> None:
        async with self._lock:
            if self._browser is not None:
                await self._browser.close()
                self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
