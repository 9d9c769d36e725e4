"""One HTTP request over a fresh loopback connection; any status is an answer, not an exception."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Answer:
    status: int
    #: names lower-cased; a repeated header keeps its last value (cookies are in ``cookies``)
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Answer:
    """One request over a fresh connection, to loopback only."""
    parts = urlsplit(url)
    assert parts.hostname in LOOPBACK, "the harness talks to loopback only"
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, target or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies: dict[str, str] = {}
        for raw in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            cookies.update({name: morsel.value for name, morsel in jar.items()})
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, cookies)
    finally:
        conn.close()
