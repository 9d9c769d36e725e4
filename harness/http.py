"""One HTTP(S) request over a fresh loopback connection; any status is an answer, not an exception.

HTTPS verifies the server's certificate: against ``cafile`` (the emulator's ``--tls`` certificate,
``EmulatorProcess.certificate``) when given, else against the system's trust store."""

from __future__ import annotations

import http.client
import json
import ssl
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
    #: every ``Set-Cookie`` header as sent, attributes included
    set_cookie: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
    cafile: str | None = None,
) -> Answer:
    """One request over a fresh connection, to loopback only; an ``https`` URL is verified against
    ``cafile`` (a PEM file of trusted certificates) or the system's trust store."""
    parts = urlsplit(url)
    assert parts.hostname in LOOPBACK, "the harness talks to loopback only"
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, target or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies: dict[str, str] = {}
        set_cookie = response.headers.get_all("Set-Cookie") or []
        for raw in set_cookie:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            cookies.update({name: morsel.value for name, morsel in jar.items()})
        headers_by_name = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, headers_by_name, data, cookies, set_cookie)
    finally:
        conn.close()
