"""Chromium for the emulator's browser tests, and API calls made in its page as the service makes them:
the URL built by the service's own ``build_api_url``, signed by the page's ``frontierSign``, fetched with
the page's cookies."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from settings.env import DEFAULT_CHROMIUM
from tiktok_spiders.client.browser import CHROMIUM_ARGS
from tiktok_spiders.client.web_params import SessionFields, build_api_url, common_params

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

#: The common web parameters the service sends on every call, for a session with no device, token or
#: browser yet: their names are what the tests check; ``signed_fetch`` sends the page session's values.
COMMON_PARAMS = common_params(SessionFields(device_id="", ms_token="", user_agent=""), base_url="")

#: What the page contributes: the device id and ``msToken`` of its session, its User-Agent and origin.
PAGE_SESSION_JS = """() => ({
  deviceId: JSON.parse(document.getElementById("__UNIVERSAL_DATA_FOR_REHYDRATION__").textContent)
    .__DEFAULT_SCOPE__["webapp.app-context"].wid,
  msToken: document.cookie.split("; ").find((c) => c.startsWith("msToken=")).slice(8),
  userAgent: navigator.userAgent,
  origin: location.origin,
})"""

#: Sign in the page and fetch with its cookies (as ``client/session.py``'s ``PAGE_FETCH`` does), and say
#: which URL was fetched.
SIGNED_FETCH_JS = """async (url) => {
  const signed = url + "&X-Bogus=" +
    encodeURIComponent(window.byted_acrawler.frontierSign(url)["X-Bogus"]);
  const response = await fetch(signed, {credentials: "include"});
  return {url: signed, status: response.status, body: await response.text()};
}"""


def launch_chromium(playwright: Playwright) -> Browser:
    """Chromium as the service launches it: ``CHROMIUM_PATH`` or the default, the service's flags."""
    return playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM),
        headless=True,
        args=list(CHROMIUM_ARGS),
    )


def signed_fetch(page: Page, path: str, params: dict[str, str]) -> dict[str, Any]:
    """One API call from ``page``'s session: ``{"url": signed URL, "status": ..., "body": text}``."""
    session = page.evaluate(PAGE_SESSION_JS)
    fields = SessionFields(
        device_id=session["deviceId"], ms_token=session["msToken"], user_agent=session["userAgent"]
    )
    url = build_api_url(session["origin"], path, params, fields)
    result: dict[str, Any] = page.evaluate(SIGNED_FETCH_JS, url)
    return result
