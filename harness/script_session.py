"""A session on the emulator without a browser: ``/`` fetched directly (HTTP, or HTTPS trusting
``cafile``), calls signed in Python.

This is what the public pure-Python signers do, and why they break: it relies on the emulator's page
layout (the secrets in its script). It exists to test the emulator quickly and to time the direct
signed GET in bench/; the service itself signs in the page (``tiktok_spiders.client.session``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from emulator import signing
from harness.http import Answer, http_request
from tiktok_spiders.client.web_params import SessionFields, build_api_url

#: Deliberately not the service's User-Agent, which ``client/session.py`` builds from the running
#: Chromium's version: there is no browser here. Same desktop shape, version 0; it only reaches the
#: ``browser_version`` parameter, which the emulator does not check.
SCRIPT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/0 Safari/537.36"
)


class ScriptSession:
    """Opens ``home`` without a browser and signs calls with the secrets read from the page; an
    ``https`` ``base_url`` is verified against ``cafile`` (the emulator's ``--tls`` certificate)."""

    def __init__(self, base_url: str, home: str = "/", *, cafile: str | None = None) -> None:
        self.base_url = base_url
        self.cafile = cafile
        page = http_request(base_url + home, cafile=cafile)
        assert page.status == 200, page.status
        self.cookies = dict(page.cookies)
        text = page.body.decode()
        self.secret = script_value(text, "SECRET")
        self.gnarly_secret = script_value(text, "GNARLY_SECRET")
        self.ms_token = script_value(text, "MS_TOKEN")
        self.cookies["msToken"] = self.ms_token  # as the page script does
        self.universal_data = universal_data(text)
        self.device_id: str = self.universal_data["__DEFAULT_SCOPE__"]["webapp.app-context"]["wid"]

    def fields(self, ms_token: str | None = None) -> SessionFields:
        """What this session contributes to a call, as the service's client sends it."""
        return SessionFields(
            device_id=self.device_id,
            ms_token=self.ms_token if ms_token is None else ms_token,
            user_agent=SCRIPT_USER_AGENT,
        )

    def url(
        self,
        path: str,
        params: dict[str, str],
        *,
        sign: bool = True,
        gnarly: bool = False,
        ms_token: str | None = None,
    ) -> str:
        """The call's URL as the service builds it (``build_api_url``), signed unless ``sign`` is False."""
        url = build_api_url(self.base_url, path, params, self.fields(ms_token))
        if sign:
            url += "&X-Bogus=" + signing.sign(self.secret, url)
        if gnarly:
            url += "&X-Gnarly=" + signing.sign(self.gnarly_secret, url)
        return url

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def get_url(self, url: str, **kwargs: Any) -> Answer:
        headers = {"Cookie": self.cookie_header(), "Referer": self.base_url + "/"}
        kwargs.setdefault("cafile", self.cafile)
        return http_request(url, headers=headers, **kwargs)

    def get(self, path: str, params: dict[str, str], **kwargs: Any) -> Answer:
        sign_kwargs = {k: kwargs.pop(k) for k in ("sign", "gnarly", "ms_token") if k in kwargs}
        return self.get_url(self.url(path, params, **sign_kwargs), **kwargs)

    def api(self, path: str, params: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        answer = self.get(path, params, **kwargs)
        assert answer.status == 200, answer.status
        assert answer.body, "empty body: the emulator refused the call"
        result: dict[str, Any] = answer.json()
        return result


def script_value(page: str, name: str) -> str:
    """The string a page script assigns to ``var NAME``."""
    match = re.search(rf'var {name} = ("(?:[^"\\]|\\.)*");', page)
    assert match, f"{name} not found in the page script"
    value: str = json.loads(match.group(1))
    return value


def universal_data(page: str) -> dict[str, Any]:
    """The ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` state a page carries."""
    match = re.search(
        r'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">(.*?)</script>',
        page,
        re.S,
    )
    assert match, "no __UNIVERSAL_DATA_FOR_REHYDRATION__"
    data: dict[str, Any] = json.loads(match.group(1))
    return data
