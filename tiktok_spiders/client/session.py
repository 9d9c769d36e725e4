"""A TikTok web session: a browser context whose page was opened at ``{BASE}/``.

The page's cookies (``ttwid``, ``tt_chain_token``, ``msToken``), its device id (``wid``) and its
``frontierSign`` make the session; every API call is signed and fetched inside that page, so cookies,
TLS and fingerprint are the browser's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from playwright.async_api import Error as PlaywrightError

from tiktok_spiders.client.browser import CLOSE_TIMEOUT, browser_failure_detail, target_gone
from tiktok_spiders.client.slim import SLIM_ANSWER
from tiktok_spiders.client.web_params import SessionFields
from tiktok_spiders.errors import (
    BrowserFailure,
    SessionRetired,
    UpstreamBlocked,
    UpstreamError,
    UpstreamUnavailable,
)
from tiktok_spiders.parsing import parse_app_context

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

#: In the page, JSON text with every non-ASCII character as a ``\\uXXXX`` escape: the same JSON value,
#: as one-byte text, which crosses the DevTools protocol faster (``bench.devtools_transport``).
ESCAPE_NON_ASCII = r"""(text) => text.replace(
      /[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))"""

#: Runs in the page: sign with the page's own ``frontierSign``, then fetch with the page's cookies.
#: ``no-store`` keeps the call out of Chromium's HTTP cache, whose lock holds a request for a URL
#: already in flight until that one answers: the For You feed's pages are the same URL each time,
#: so four pages asked for at once took four round trips (448 against 168 ms for trending 100 at
#: +100 ms, ``bench.peer``).
PAGE_FETCH = (
    """
async ([url, timeoutMs]) => {
  const signature = window.byted_acrawler.frontierSign(url)["X-Bogus"];
  const signed = url + "&X-Bogus=" + encodeURIComponent(signature);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const answer = await fetch(signed, {credentials: "include", cache: "no-store", signal: controller.signal});
    const body = ("""
    + ESCAPE_NON_ASCII
    + """)(("""
    + SLIM_ANSWER
    + """)(await answer.text()));
    return {status: answer.status, body: body, retryAfter: answer.headers.get("retry-after"), error: null};
  } catch (error) {
    return {status: 0, body: "", retryAfter: null, error: controller.signal.aborted ? "timeout" : String(error)};
  } finally {
    clearTimeout(timer);
  }
}
"""
)
SIGNER_READY = "() => !!(window.byted_acrawler && typeof window.byted_acrawler.frontierSign === 'function')"
COOKIE_SET = "() => document.cookie.includes('msToken=')"  # the msToken cookie
#: Runs in the page once it has loaded: what the session needs, read in one round trip. A plain
#: ``evaluate`` in the page's own world; ``wait_for_function`` (and ``content``) first inject
#: Playwright's script into a world of their own, some 50 to 90 ms on a fresh page, so they are
#: used only for what is not there yet (TikTok's signer may load after the page's HTML).
SESSION_STATE = (
    "() => ({signer: ("
    + SIGNER_READY
    + ")(), msToken: ("
    + COOKIE_SET
    + ")(), html: document.documentElement.outerHTML})"
)
NOT_READ: dict[str, Any] = {"signer": False, "msToken": False, "html": ""}


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    body: str
    retry_after: str | None = None
    #: "timeout" or the browser's network error; None when TikTok answered
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Proxy:
    server: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Proxy:
        parts = urlsplit(url)
        host = parts.hostname or ""
        server = f"{parts.scheme}://{host}:{parts.port}" if parts.port else f"{parts.scheme}://{host}"
        return cls(
            server=server,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def for_playwright(self) -> Any:
        settings: dict[str, str] = {"server": self.server}
        if self.username is not None:
            settings["username"] = self.username
        if self.password is not None:
            settings["password"] = self.password
        return settings

    def __repr__(self) -> str:
        return f"Proxy({self.server!r})"


class TikTokSession:
    def __init__(
        self, context: BrowserContext, page: Page, fields: SessionFields, number: int, proxied: bool = False
    ) -> None:
        self.context = context
        self.page = page
        self.fields = fields
        self.number = number
        self.proxied = proxied
        self.opened_at = time.monotonic()
        self.calls = 0
        #: the page's renderer died: every call in it would fail with "Target crashed"
        self.crashed = False
        #: why the pool retired this session (TikTok distrusted it): a call still in flight in its
        #: page, whose context is being closed, fails for that reason and not as a browser failure
        self.retired_because: UpstreamError | None = None
        page.on("crash", self._crashed)

    def _crashed(self, _page: Page) -> None:
        self.crashed = True

    def failure(self, error: PlaywrightError) -> UpstreamError:
        """What a Playwright error in this session's page or context means: the session was retired
        under the call (``SessionRetired``, for the retirement's reason), else the browser failed."""
        if self.retired_because is not None:
            return SessionRetired(self.retired_because)
        return BrowserFailure(browser_failure_detail(error))

    @property
    def usable(self) -> bool:
        """Whether calls can still be made in this session's page (its renderer and browser alive)."""
        return (
            not self.crashed
            and not self.page.is_closed()
            and self.context.browser is not None
            and self.context.browser.is_connected()
        )

    async def alive(self, timeout: float = 2.0) -> bool:
        """Whether the page answers now: a round trip through the driver, the browser and the page's
        renderer, each of which may have died without an event reaching us (the driver)."""
        if not self.usable:
            return False
        try:
            await asyncio.wait_for(self.page.evaluate("1"), timeout)
        except (PlaywrightError, TimeoutError):
            self.crashed = True
            return False
        return True

    @property
    def age(self) -> float:
        return time.monotonic() - self.opened_at

    async def fetch(self, url: str, timeout: float) -> ApiAnswer:
        """Sign ``url`` in the page and fetch it there; network failures come back as status 0."""
        self.calls += 1
        try:
            raw = await asyncio.wait_for(
                self.page.evaluate(PAGE_FETCH, [url, int(timeout * 1000)]), timeout=timeout + 2
            )
        except TimeoutError:
            return ApiAnswer(0, "", error="timeout")
        except PlaywrightError as exc:
            failure = self.failure(exc)
            if isinstance(failure, BrowserFailure):
                # The page, the browser or the driver went away: our failure, not TikTok's.
                self.crashed = True
            raise failure from None
        return ApiAnswer(
            status=int(raw["status"]),
            body=str(raw["body"]),
            retry_after=raw["retryAfter"],
            error=raw["error"],
        )

    async def close(self) -> None:
        # The browser may already be gone, or too wedged to answer: closing must not hang its caller.
        with contextlib.suppress(PlaywrightError, TimeoutError):
            await asyncio.wait_for(self.context.close(), CLOSE_TIMEOUT)


async def open_session(
    browser: Browser,
    base_url: str,
    number: int,
    timeout: float,
    proxy: Proxy | None = None,
    ms_token: str | None = None,
) -> TikTokSession:
    """Open ``{base_url}/`` in a new context and read the session from it."""
    # Headless Chromium announces itself in its User-Agent; present the ordinary desktop one.
    user_agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{browser.version} Safari/537.36"
    )
    try:
        context = await browser.new_context(
            user_agent=user_agent,
            locale="en-US",
            proxy=proxy.for_playwright() if proxy else None,
            service_workers="block",
        )
    except PlaywrightError as exc:
        raise BrowserFailure(browser_failure_detail(exc)) from None
    try:
        return await _open_in(context, base_url, number, timeout, user_agent, proxy, ms_token)
    except BaseException:
        with contextlib.suppress(PlaywrightError, TimeoutError):  # bounded: the browser may be wedged
            await asyncio.wait_for(context.close(), CLOSE_TIMEOUT)
        raise


async def _open_in(
    context: BrowserContext,
    base_url: str,
    number: int,
    timeout: float,
    user_agent: str,
    proxy: Proxy | None,
    ms_token: str | None,
) -> TikTokSession:
    timeout_ms = timeout * 1000
    try:
        page = await context.new_page()
        try:
            await page.goto(f"{base_url}/", wait_until="domcontentloaded", timeout=timeout_ms)
            try:
                state = await page.evaluate(SESSION_STATE)
            except PlaywrightError as exc:
                if _browser_side(exc, context):
                    raise
                state = NOT_READ  # the page moved on (a script navigated it): wait for it as below
            html = str(state["html"])
            if not state["signer"]:
                await page.wait_for_function(SIGNER_READY, timeout=timeout_ms)
                html = await page.content()
        except PlaywrightError as exc:
            if not _browser_side(exc, context):
                raise UpstreamUnavailable(f"could not open a TikTok session: {load_failure(exc)}") from None
            raise
        app = parse_app_context(html)
        if ms_token:
            await context.add_cookies([{"name": "msToken", "value": ms_token, "url": f"{base_url}/"}])
        token = ms_token or await _page_ms_token(
            page, context, base_url, timeout_ms, set_already=state["msToken"]
        )
        fields = SessionFields(
            # Public clients make up a device id where the page has none; TikTok accepts that.
            device_id=app.device_id or str(random.randrange(10**18, 10**19)),
            ms_token=token,
            user_agent=user_agent,
            region=app.region or "US",
        )
        return TikTokSession(context, page, fields, number, proxied=proxy is not None)
    except UpstreamError:
        raise
    except PlaywrightError as exc:
        raise BrowserFailure(browser_failure_detail(exc)) from None


def _browser_side(error: PlaywrightError, context: BrowserContext) -> bool:
    """Whether a failed page load is the browser's failure (crashed, closed) rather than TikTok's."""
    browser = context.browser
    return target_gone(error) or browser is None or not browser.is_connected()


def load_failure(error: PlaywrightError) -> str:
    """Why a page did not load, without Playwright's call log or the address it tried."""
    text = str(error)
    for word in text.split():
        if word.startswith("net::ERR_"):
            return f"the page did not load ({word.removeprefix('net::').rstrip(':,;')})"
    if "Timeout" in text or "timeout" in text:
        return "the page did not load in time"
    return "the page did not load"


async def _page_ms_token(
    page: Page, context: BrowserContext, base_url: str, timeout_ms: float, set_already: bool = False
) -> str:
    """The ``msToken`` cookie the page's script sets (it may set it after the page has loaded);
    ``set_already``: the page was seen to have set it, so there is nothing to wait for."""
    if not set_already:
        try:
            await page.wait_for_function(COOKIE_SET, timeout=timeout_ms)
        except PlaywrightError as exc:
            if _browser_side(exc, context):
                raise
            raise UpstreamBlocked("the TikTok page set no msToken") from None
    cookies = {cookie["name"]: cookie["value"] for cookie in await context.cookies(f"{base_url}/")}
    token = cookies.get("msToken")
    if not token:
        raise UpstreamBlocked("the TikTok page set no msToken")
    return token
