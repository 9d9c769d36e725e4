"""One Chromium per process, launched on first use and shared by every crawl and session.

The host heals: a browser that disconnected (Chromium killed, say by the OOM killer) or whose
Playwright driver died is dropped, driver and all, and the next ``browser()`` launches a new one.
A launch that fails is retried after a growing backoff (``LAUNCH_BACKOFF`` up to
``LAUNCH_BACKOFF_MAX``); until then ``browser()`` raises ``BrowserFailure`` at once, so callers get
a quick 503 instead of waiting on a browser that cannot start.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from tiktok_spiders.errors import BrowserFailure

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

logger = logging.getLogger(__name__)

#: The features Playwright 1.65 disables (its ``chromiumSwitches``). Chromium heeds only the last
#: ``--disable-features`` flag, and ours comes after Playwright's, so ours must repeat them;
#: tests/test_browser_flags.py fails when a Playwright upgrade disables one more.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
#: Chromium 156 preloads the omnibox popups of a browser window that headless never shows: WebUI
#: pages in a renderer of their own, 40-75 MiB of PSS for nothing.
DISABLED_FEATURES = (*PLAYWRIGHT_DISABLED_FEATURES, "WebUIOmniboxPopup", "WebUIOmniboxAimPopup")

#: Chromium flags for a headless server without a network beyond TikTok: no background traffic to
#: Google's services (refused here, and noise anywhere), no GPU, no renderers for windows never shown.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-features=" + ",".join(DISABLED_FEATURES),
)


def chromium_trust_args(certificate_path: str) -> tuple[str, ...]:
    """Chromium's flag that accepts a certificate by its public key (SHA-256 of its SubjectPublicKeyInfo,
    base64): that key alone, where ``--ignore-certificate-errors`` would accept any."""
    from cryptography import x509  # noqa: PLC0415 - only with TIKTOK_CA_FILE
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    certificate = x509.load_pem_x509_certificate(Path(certificate_path).read_bytes())
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return (
        f"--ignore-certificate-errors-spki-list={base64.b64encode(hashlib.sha256(spki).digest()).decode()}",
    )


#: seconds a driver start or a browser launch may take before it counts as failed
LAUNCH_TIMEOUT = 30.0
#: seconds before the first retry of a failed launch; doubles each time, up to the maximum
LAUNCH_BACKOFF = 1.0
LAUNCH_BACKOFF_MAX = 8.0
#: seconds a liveness probe of the browser and its driver may take
PROBE_TIMEOUT = 3.0
#: seconds a dead browser's or driver's clean-up may take (it may hang on a dead pipe)
CLOSE_TIMEOUT = 5.0


def _quiet_driver_loss(loop: asyncio.AbstractEventLoop) -> None:
    """When the driver dies, Playwright leaves a future with "Connection closed while reading from
    the driver" that nobody retrieves, and asyncio logs it as an ERROR with its traceback. The host
    reports the loss itself, so that one becomes a warning; everything else is as asyncio would."""
    if loop.get_exception_handler() is not None:
        return

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "Connection closed while reading from the driver" in str(context.get("exception")):
            logger.warning("the Playwright driver's connection closed")
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def target_gone(error: BaseException) -> bool:
    """Whether Playwright says the page, context or browser is gone (closed, crashed, or the driver
    died): Playwright raises its ``TargetClosedError``, which it does not export, or "crashed"."""
    text = str(error)
    return (
        type(error).__name__ == "TargetClosedError" or "has been closed" in text or "Target crashed" in text
    )


def browser_failure_detail(error: BaseException) -> str:
    """Playwright's error in the service's own words (its text names internals and addresses)."""
    text = str(error)
    if "Target crashed" in text:
        return "a page of the service's browser crashed"
    if "closed" in text.lower():
        return "the service's browser or its driver went away"
    if isinstance(error, TimeoutError) or "Timeout" in text:
        return "the service's browser did not respond in time"
    return "the service's browser failed"


class BrowserHost:
    def __init__(
        self,
        executable_path: str | None,
        clock: Callable[[], float] = time.monotonic,
        trusted_certificate: str | None = None,
    ) -> None:
        self.executable_path = executable_path
        #: flags that make Chromium accept the one certificate ``TIKTOK_CA_FILE`` names (tests)
        self.trust_args = chromium_trust_args(trusted_certificate) if trusted_certificate else ()
        self.clock = clock
        self.launches = 0
        #: times a running browser was found dead (disconnected, or its driver gone)
        self.losses = 0
        self.failed_launches = 0
        self.last_failure: str | None = None
        #: called (without arguments) when the browser is lost, so the owner can heal at once
        self.on_lost: Callable[[], None] | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()
        self._launch_failures_in_a_row = 0
        self._retry_at = 0.0
        self._closing = False

    async def browser(self) -> Browser:
        """The shared browser; launched now if it is not running (first use, or after a crash)."""
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._drop()  # what is left of a dead browser and its driver
            wait = self._retry_at - self.clock()
            if wait > 0:
                raise BrowserFailure(
                    f"the service's browser could not be launched; next try in {math.ceil(wait)} s",
                    retry_after=wait,
                )
            return await self._launch()

    async def _launch(self) -> Browser:
        try:
            if self._playwright is None:
                _quiet_driver_loss(asyncio.get_running_loop())
                self._playwright = await asyncio.wait_for(async_playwright().start(), LAUNCH_TIMEOUT)
            browser = await asyncio.wait_for(
                self._playwright.chromium.launch(
                    executable_path=self.executable_path,
                    headless=True,
                    args=[*CHROMIUM_ARGS, *self.trust_args],
                ),
                LAUNCH_TIMEOUT,
            )
        except (PlaywrightError, TimeoutError, OSError) as error:
            self._launch_failures_in_a_row += 1
            self.failed_launches += 1
            delay = min(LAUNCH_BACKOFF_MAX, LAUNCH_BACKOFF * 2 ** (self._launch_failures_in_a_row - 1))
            self._retry_at = self.clock() + delay
            self.last_failure = "the service's browser could not be launched"
            logger.warning("browser launch failed (%s); next try in %.0f s", type(error).__name__, delay)
            await self._drop()  # the driver too: a launch can fail because the driver died
            raise BrowserFailure(
                f"the service's browser could not be launched; next try in {math.ceil(delay)} s",
                retry_after=delay,
            ) from None
        self._launch_failures_in_a_row = 0
        self._retry_at = 0.0
        browser.on("disconnected", lambda _browser: self._disconnected(browser))
        self._browser = browser
        self.launches += 1
        if self.launches > 1:
            logger.warning("browser relaunched (launch %d)", self.launches)
        return browser

    def _disconnected(self, browser: Browser) -> None:
        if self._closing or browser is not self._browser:
            return  # closed on purpose, or an old browser already replaced
        self._lost("the service's browser disconnected")

    def _lost(self, why: str) -> None:
        self.losses += 1
        self.last_failure = why
        logger.warning("%s; it will be relaunched", why)
        if self.on_lost is not None:
            self.on_lost()

    async def check(self) -> bool:
        """Whether the browser and its driver answer now; a dead one is dropped (and reported lost),
        so the next ``browser()`` relaunches it. ``browser.is_connected()`` alone is not enough: it
        stays true when the Playwright driver has died."""
        browser = self._browser
        if browser is None:
            return False
        if browser.is_connected():
            try:
                session = await asyncio.wait_for(browser.new_browser_cdp_session(), PROBE_TIMEOUT)
                with contextlib.suppress(PlaywrightError):
                    await asyncio.wait_for(session.detach(), PROBE_TIMEOUT)
            except (PlaywrightError, TimeoutError):
                pass
            else:
                return True
        async with self._lock:
            if self._browser is browser:
                self._lost("the service's browser or its Playwright driver stopped answering")
                await self._drop()
        return False

    async def _drop(self) -> None:
        browser, self._browser = self._browser, None
        playwright, self._playwright = self._playwright, None
        if browser is not None:
            with contextlib.suppress(PlaywrightError, TimeoutError):
                await asyncio.wait_for(browser.close(), CLOSE_TIMEOUT)
        if playwright is not None:
            with contextlib.suppress(PlaywrightError, TimeoutError, OSError):
                await asyncio.wait_for(playwright.stop(), CLOSE_TIMEOUT)

    def counts(self) -> dict[str, int]:
        """Browser contexts and pages now open: they must not grow with the number of crawls."""
        if self._browser is None or not self._browser.is_connected():
            return {"contexts": 0, "pages": 0}
        contexts = self._browser.contexts
        return {"contexts": len(contexts), "pages": sum(len(context.pages) for context in contexts)}

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    @property
    def launch_blocked_for(self) -> float:
        """Seconds until a failed launch may be tried again (0: it may be tried now)."""
        return max(0.0, self._retry_at - self.clock())

    def describe(self) -> dict[str, object]:
        return {
            "running": self.running,
            "launches": self.launches,
            "losses": self.losses,
            "failed_launches": self.failed_launches,
            "next_launch_in_s": math.ceil(self.launch_blocked_for * 10) / 10,
            "last_failure": self.last_failure,
            **self.counts(),
        }

    async def close(self) -> None:
        self._closing = True
        async with self._lock:
            await self._drop()
