"""Small helpers over Twisted requests, shared by the routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, unquote

from twisted.web import resource

if TYPE_CHECKING:
    from twisted.internet.base import DelayedCall
    from twisted.web.server import Request


def is_secure(request: Request) -> bool:
    """Whether the client reached us over TLS (``python -m emulator --tls``)."""
    return bool(request.isSecure())  # type: ignore[no-untyped-call]


def scheme(request: Request) -> str:
    return "https" if is_secure(request) else "http"


def base_url(request: Request) -> str:
    """``http(s)://host:port`` as the client addressed us (scheme and ``Host``), so URLs we hand out
    lead back here: ``https://www.tiktok.com`` for a browser that maps that name to us over TLS."""
    host = request.getHeader("host")
    if not host:
        address: Any = request.getHost()  # type: ignore[no-untyped-call]
        host = f"{address.host}:{address.port}"
    return f"{scheme(request)}://{host}"


def path(request: Request) -> str:
    return unquote((request.path or b"/").decode("ascii", "replace"))


def raw_url(request: Request) -> str:
    return (request.uri or b"/").decode("utf-8", "replace")


def query(request: Request) -> dict[str, str]:
    """Decoded query parameters, first value of each (as TikTok's servers read them)."""
    _, _, qs = raw_url(request).partition("?")
    params: dict[str, str] = {}
    for key, value in parse_qsl(qs, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def cookie(request: Request, name: str) -> str | None:
    value: bytes | None = request.getCookie(name.encode())  # type: ignore[no-untyped-call]
    return value.decode("utf-8", "replace") if value is not None else None


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def is_loopback(request: Request) -> bool:
    address = request.getClientAddress()  # type: ignore[no-untyped-call]
    host: str = getattr(address, "host", "")
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


# Typed doors into twisted.web, whose request and resource methods carry no annotations; keeping
# the ignores here keeps every route module fully checked.


class Scheduler(Protocol):
    def callLater(self, delay: float, callable: Callable[..., object], *args: object) -> DelayedCall: ...


class Leaf(resource.Resource):
    """A resource that answers every path under it; the base of all of the emulator's routes."""

    isLeaf = True

    def __init__(self) -> None:
        resource.Resource.__init__(self)  # type: ignore[no-untyped-call]

    def render(self, request: Request) -> bytes | int:
        return resource.Resource.render(self, request)  # type: ignore[no-untyped-call,no-any-return]


def render(target: resource.Resource, request: Request) -> bytes | int:
    return target.render(request)  # type: ignore[no-untyped-call,no-any-return]


def set_header(request: Request, name: str, value: str) -> None:
    request.setHeader(name.encode("latin-1"), value.encode("latin-1"))  # type: ignore[no-untyped-call]


def set_status(request: Request, code: int) -> None:
    request.setResponseCode(code)


def write(request: Request, data: bytes) -> None:
    request.write(data)  # type: ignore[no-untyped-call]


def finish(request: Request) -> None:
    request.finish()  # type: ignore[no-untyped-call]


def add_cookie(request: Request, name: str, value: str, max_age: int) -> None:
    """An ``HttpOnly`` session cookie on ``/``. Over TLS it is ``Secure; SameSite=None``, as
    tiktok.com sets its cookies; over plain HTTP a browser would drop a ``Secure`` cookie, so it is
    ``SameSite=Lax`` there."""
    secure = is_secure(request)
    request.addCookie(  # type: ignore[no-untyped-call]
        name.encode(),
        value.encode(),
        path=b"/",
        max_age=str(max_age).encode(),
        secure=secure or None,
        httpOnly=True,
        sameSite="none" if secure else "lax",
    )


def close_connection(request: Request, *, abort: bool = False) -> None:
    transport: Any = request.channel.transport if request.channel else None
    if transport is None:
        return
    if abort:
        transport.abortConnection()
    else:
        transport.loseConnection()


def on_disconnect(request: Request, callback: Callable[[], object]) -> None:
    """Run ``callback`` if the client goes away before the answer is finished."""
    request.notifyFinish().addErrback(lambda _failure: callback())
