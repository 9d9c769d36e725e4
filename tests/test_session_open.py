"""Opening a session reads a page that is ready once loaded in one round trip (a plain ``evaluate``),
and waits (``wait_for_function``, which injects Playwright's own script first) only for what the
page has not done yet: TikTok's signer may come after the page's HTML."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.aio import run_async
from tiktok_spiders.client import session as session_module


class ReadyPage:
    """A page whose script has run by the time ``goto`` returns (the signer defined, the msToken
    cookie set), or not yet (``ready=False``: it becomes ready while ``wait_for_function`` waits)."""

    def __init__(self, ready: bool) -> None:
        self.ready = ready
        self.waited: list[str] = []
        self.contents = 0

    def on(self, _event: str, _handler: object) -> None:
        pass

    async def goto(self, _url: str, **_options: object) -> None:
        pass

    async def evaluate(self, script: str) -> dict[str, Any]:
        assert script == session_module.SESSION_STATE
        html = self.html()
        return {"signer": self.ready, "msToken": self.ready, "html": html if self.ready else ""}

    async def wait_for_function(self, script: str, **_options: object) -> None:
        self.waited.append(script)
        self.ready = True

    async def content(self) -> str:
        self.contents += 1
        return self.html()

    @staticmethod
    def html() -> str:
        data = '{"__DEFAULT_SCOPE__": {"webapp.app-context": {"wid": "7497448105643329031", "region": "GB"}}}'
        return f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{data}</script>'


class ReadyContext:
    def __init__(self, page: ReadyPage) -> None:
        self.page = page
        self.browser = None

    async def new_page(self) -> ReadyPage:
        return self.page

    async def cookies(self, _url: str) -> list[dict[str, str]]:
        return [{"name": "msToken", "value": "token-from-the-page"}]


def open_in(page: ReadyPage) -> session_module.TikTokSession:
    opening = session_module._open_in(  # the page half of open_session
        ReadyContext(page),  # type: ignore[arg-type]
        "http://tiktok.test",
        number=1,
        timeout=5.0,
        user_agent="Mozilla/5.0 Chrome/156",
        proxy=None,
        ms_token=None,
    )
    return run_async(asyncio.wait_for(opening, 5))


def test_a_page_ready_at_load_is_read_in_one_round_trip_without_waiting() -> None:
    page = ReadyPage(ready=True)
    opened = open_in(page)
    assert page.waited == []  # no wait_for_function: Playwright's injected script is never needed
    assert page.contents == 0
    assert opened.fields.device_id == "7497448105643329031"
    assert opened.fields.region == "GB"
    assert opened.fields.ms_token == "token-from-the-page"


def test_a_page_whose_signer_comes_later_is_waited_for() -> None:
    page = ReadyPage(ready=False)
    opened = open_in(page)
    assert page.waited == [session_module.SIGNER_READY, session_module.COOKIE_SET]
    assert page.contents == 1  # the HTML read again once the signer was there
    assert opened.fields.device_id == "7497448105643329031"
