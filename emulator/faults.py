"""Faults on demand: the configuration, the choice per API call, and one small resource per fault.

Each misbehaviour is a tiny named Twisted resource (as in scrapy's ``tests/mockserver``), so a test
can exercise one in isolation; ``Faults.pick`` only decides which one, if any, answers a call.

Configuration (``POST /__emulator__/faults`` or ``--fault``/``--faults-json``), every key optional::

    {"latency_ms": 100, "jitter_ms": 50, "block_api": true, "unknown_hashtags": ["food"],
     "captcha": 0.2,                                   # shorthand for {"rate": 0.2}
     "http_5xx": {"rate": 1.0, "status": 502, "routes": ["/api/challenge/item_list/"]},
     "empty_body": {"next": 2},                        # exactly the next 2 matching API calls
     "soft_failure": {"next": 1, "routes": ["/api/user/detail/"]},
     "cdn_stall": {"next": 1, "after_bytes": 1000}}    # the video CDN, not the API: see below

``next`` counters fire first (in ``FAULT_NAMES`` order), then rates, drawn from a generator seeded
with the corpus seed so a run is reproducible; a rate of 1.0 always fires. A rule without ``routes``
covers every API route but the pages' own background calls (``BACKGROUND_ROUTES``), so a test's
``{"next": 2}`` is spent on its client's calls, not on a page's; a rule that names one reaches it.

``soft_failure`` is TikTok's answer that parses and says nothing: a 200 JSON envelope without the
data. For ``/api/user/detail/`` it is the one ``user.info`` callers have met since December 2024,
``statusCode`` 0 and ``userInfo`` ``{"user": {}, "stats": {}}``; for every other route ``statusCode``
-1 and no data (as ``{statusCode: -1, userInfo: {}}`` in tiktok-signature issue #164), in the route's
own envelope: ``status_code`` alone for the snake_case ones (``SNAKE_CASE_ROUTES``). A client must
treat either as a failure to retry, not as an empty result.

``cdn_stall`` is the video CDN's fault (``CDN_FAULT_NAMES``), drawn for each play request the CDN
would otherwise serve: it sends the status line, headers (the whole file's ``Content-Length``) and
the first ``after_bytes`` bytes, then nothing, holding the connection until the client leaves or
``hold_ms`` (60 s) pass; ``after_bytes`` 0 (the default) sends nothing at all, not even the status
line. A CDN edge that stops answering mid-file is what a proxy in front of it must not wait on forever.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twisted.web import resource, server

from emulator import webutil
from emulator.envelopes import Payload, envelope, snake_envelope
from emulator.webutil import Scheduler

if TYPE_CHECKING:
    from twisted.internet.base import DelayedCall
    from twisted.web.server import Request

FAULT_NAMES = (
    "reset",
    "truncated",
    "slow_drip",
    "malformed_json",
    "http_5xx",
    "http_429",
    "captcha",
    "empty_body",
    "soft_failure",
)
#: faults of the video CDN (``cdn.py``), never drawn for an API call
CDN_FAULT_NAMES = ("cdn_stall",)
_RULE_PARAMS = {
    "http_5xx": {"status"},
    "http_429": {"retry_after"},
    "slow_drip": {"duration_ms"},
    "cdn_stall": {"after_bytes", "hold_ms"},
}

#: API routes that answer in snake_case only (``status_code``, ``has_more`` 0/1): comments and search
SNAKE_CASE_ROUTES = frozenset(
    {
        "/api/comment/list/",
        "/api/comment/list/reply/",
        "/api/search/item/full/",
        "/api/search/general/full/",
        "/api/search/user/full/",
    }
)
#: routes whose soft failure is a success with an empty profile rather than ``statusCode`` -1
EMPTY_PROFILE_ROUTES = frozenset({"/api/user/detail/"})
SOFT_FAILURE_STATUS = -1

#: API routes only the pages call, on their own, after load (pages.py); see the module docstring.
BACKGROUND_ROUTES = frozenset({"/api/policy/notice/"})

BodyFactory = Callable[[], bytes]


@dataclass
class FaultRule:
    rate: float = 0.0
    next: int = 0
    routes: tuple[str, ...] = ()
    params: dict[str, int] = field(default_factory=dict)

    def applies_to(self, route: str) -> bool:
        return route in self.routes if self.routes else route not in BACKGROUND_ROUTES

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rate": self.rate, "next": self.next, **self.params}
        if self.routes:
            out["routes"] = list(self.routes)
        return out


@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    block_api: bool = False
    unknown_hashtags: frozenset[str] = frozenset()
    rules: dict[str, FaultRule] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: object) -> FaultConfig:
        """Validate a JSON object; raise ValueError naming the first bad key."""
        if not isinstance(data, dict):
            raise ValueError("fault configuration must be a JSON object")
        config = cls()
        for key, value in data.items():
            if key in ("latency_ms", "jitter_ms"):
                setattr(config, key, _non_negative(key, value))
            elif key == "block_api":
                if not isinstance(value, bool):
                    raise ValueError("block_api must be true or false")
                config.block_api = value
            elif key == "unknown_hashtags":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("unknown_hashtags must be a list of strings")
                config.unknown_hashtags = frozenset(value)
            elif key in FAULT_NAMES or key in CDN_FAULT_NAMES:
                config.rules[key] = _rule(key, value)
            else:
                raise ValueError(f"unknown fault key {key!r}; known: {', '.join(_all_keys())}")
        return config

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "block_api": self.block_api,
            "unknown_hashtags": sorted(self.unknown_hashtags),
        }
        out.update({name: rule.to_json() for name, rule in self.rules.items()})
        return out


def _all_keys() -> list[str]:
    return ["latency_ms", "jitter_ms", "block_api", "unknown_hashtags", *FAULT_NAMES, *CDN_FAULT_NAMES]


def _non_negative(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return float(value)


def _rule(name: str, value: object) -> FaultRule:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = {"rate": value}
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a rate (0..1) or an object")
    rule = FaultRule()
    for key, item in value.items():
        if key == "rate":
            rate = _non_negative(f"{name}.rate", item)
            if rate > 1:
                raise ValueError(f"{name}.rate must be within 0..1")
            rule.rate = rate
        elif key == "next":
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                raise ValueError(f"{name}.next must be a non-negative integer")
            rule.next = item
        elif key == "routes":
            if not isinstance(item, list) or not all(isinstance(r, str) for r in item):
                raise ValueError(f"{name}.routes must be a list of route names")
            rule.routes = tuple(item)
        elif key in _RULE_PARAMS.get(name, ()):
            rule.params[key] = int(_non_negative(f"{name}.{key}", item))
        else:
            raise ValueError(f"unknown key {key!r} for fault {name}")
    return rule


def parse_cli_fault(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=RATE`` or ``NAME=next:N`` (the ``--fault`` option) -> (name, rule JSON)."""
    name, sep, value = text.partition("=")
    if not sep or name not in FAULT_NAMES:
        raise ValueError(f"expected NAME=RATE or NAME=next:N with NAME one of {', '.join(FAULT_NAMES)}")
    if value.startswith("next:"):
        return name, {"next": int(value.removeprefix("next:"))}
    return name, {"rate": float(value)}


class Faults:
    """The live configuration and the seeded choice of a fault for each API call."""

    def __init__(self, seed: int, config: FaultConfig | None = None) -> None:
        self._rng = random.Random(seed)
        self.config = config or FaultConfig()

    def delay_seconds(self) -> float:
        jitter = self._rng.uniform(0, self.config.jitter_ms) if self.config.jitter_ms else 0.0
        return (self.config.latency_ms + jitter) / 1000

    def pick(self, route: str, names: tuple[str, ...] = FAULT_NAMES) -> tuple[str, FaultRule] | None:
        """The fault for one call to ``route``, if any; ``names`` are the faults that may answer it
        (``CDN_FAULT_NAMES`` for the video CDN)."""
        rules = self.config.rules
        for name in names:
            rule = rules.get(name)
            if rule and rule.next > 0 and rule.applies_to(route):
                rule.next -= 1
                return name, rule
        for name in names:
            rule = rules.get(name)
            if rule and rule.rate > 0 and rule.applies_to(route) and self._rng.random() < rule.rate:
                return name, rule
        return None


# --- one resource per misbehaviour ---------------------------------------------------------------


class JsonBody(webutil.Leaf):
    """A well-formed answer; also what the wrappers below derive their bodies from."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def render_GET(self, request: Request) -> bytes:
        webutil.set_header(request, "content-type", "application/json; charset=utf-8")
        return self.body


class EmptyBody(webutil.Leaf):
    """TikTok's way of saying "I do not trust this session": 200 and zero bytes."""

    def render_GET(self, request: Request) -> bytes:
        webutil.set_header(request, "content-type", "application/json; charset=utf-8")
        return b""


CAPTCHA_BODY = {
    "code": 10000,
    "from": "",
    "type": "verify",
    "version": "",
    "region": "va",
    "subtype": "slide",
    "detail": "Zkp0Sm5hc3Rl",
    "verify_event": "",
    "fp": "verify_emulator",
    "statusCode": 10000,
    "status_code": 10000,
    "statusMsg": "",
    "verifyConfig": {
        "code": 10000,
        "type": "verify",
        "subtype": "slide",
        "region": "va",
        "fp": "verify_emulator",
        "detail": "Zkp0Sm5hc3Rl",
    },
}


def soft_failure_body(route: str) -> Payload:
    """The ``soft_failure`` fault's answer for ``route`` (see the module docstring)."""
    if route in EMPTY_PROFILE_ROUTES:
        return envelope(userInfo={"user": {}, "stats": {}})
    if route in SNAKE_CASE_ROUTES:
        return snake_envelope(SOFT_FAILURE_STATUS)
    return envelope(SOFT_FAILURE_STATUS)


class SoftFailure(JsonBody):
    """200, well-formed JSON, no data: TikTok's quiet refusal."""

    def __init__(self, route: str) -> None:
        super().__init__(json.dumps(soft_failure_body(route)).encode())


class Captcha(JsonBody):
    def __init__(self) -> None:
        super().__init__(json.dumps(CAPTCHA_BODY).encode())


class TooManyRequests(webutil.Leaf):
    def __init__(self, retry_after: int = 1) -> None:
        super().__init__()
        self.retry_after = retry_after

    def render_GET(self, request: Request) -> bytes:
        webutil.set_status(request, 429)
        webutil.set_header(request, "retry-after", str(self.retry_after))
        webutil.set_header(request, "content-type", "text/plain; charset=utf-8")
        return b"Too Many Requests"


class ServerError(webutil.Leaf):
    def __init__(self, status: int = 503) -> None:
        super().__init__()
        self.status = status

    def render_GET(self, request: Request) -> bytes:
        webutil.set_status(request, self.status)
        webutil.set_header(request, "content-type", "text/html; charset=utf-8")
        return b"<html><body><h1>Service Unavailable</h1></body></html>"


class MalformedJson(webutil.Leaf):
    """A complete response (right Content-Length) whose JSON is cut and followed by garbage."""

    def __init__(self, body: BodyFactory) -> None:
        super().__init__()
        self.body = body

    def render_GET(self, request: Request) -> bytes:
        webutil.set_header(request, "content-type", "application/json; charset=utf-8")
        real = self.body()
        # Cut on a character boundary: the answer says charset=utf-8, and a split character would make
        # it undecodable text rather than the malformed JSON this fault stands for.
        cut = real[: max(1, len(real) // 3)].decode("utf-8", "ignore").encode("utf-8")
        return cut + b'<!-- upstream error -->,"extra":}'


class Truncated(webutil.Leaf):
    """Promises the whole body in Content-Length, sends half, then closes the connection."""

    def __init__(self, body: BodyFactory) -> None:
        super().__init__()
        self.body = body

    def render_GET(self, request: Request) -> int:
        real = self.body()
        webutil.set_header(request, "content-type", "application/json; charset=utf-8")
        webutil.set_header(request, "content-length", str(len(real)))
        webutil.write(request, real[: len(real) // 2])
        webutil.close_connection(request)
        return server.NOT_DONE_YET


class ConnectionReset(webutil.Leaf):
    """Aborts the connection (TCP RST) before a byte of the answer."""

    def render_GET(self, request: Request) -> int:
        webutil.close_connection(request, abort=True)
        return server.NOT_DONE_YET


class SlowDrip(webutil.Leaf):
    """The right body, dripped in small pieces over ``duration_ms``."""

    pieces = 20

    def __init__(self, body: BodyFactory, reactor: Scheduler, duration_ms: int = 2000) -> None:
        super().__init__()
        self.body = body
        self.reactor = reactor
        self.duration = duration_ms / 1000

    def render_GET(self, request: Request) -> int:
        real = self.body()
        webutil.set_header(request, "content-type", "application/json; charset=utf-8")
        webutil.set_header(request, "content-length", str(len(real)))
        size = max(1, -(-len(real) // self.pieces))
        chunks = [real[i : i + size] for i in range(0, len(real), size)]
        interval = self.duration / max(1, len(chunks))
        pending: list[DelayedCall] = []

        def send(index: int) -> None:
            pending.clear()
            if index == len(chunks):
                webutil.finish(request)
                return
            webutil.write(request, chunks[index])
            pending.append(self.reactor.callLater(interval, send, index + 1))

        def stop() -> None:
            for call in pending:
                call.cancel()

        webutil.on_disconnect(request, stop)
        send(0)
        return server.NOT_DONE_YET


class Stall(webutil.Leaf):
    """Headers and the first ``after_bytes`` bytes of ``body`` (nothing at all for 0), then silence
    until the client leaves or ``hold`` seconds pass (then the connection is closed, the file unfinished)."""

    def __init__(
        self, body: bytes, content_type: str, reactor: Scheduler, after_bytes: int, hold_ms: int
    ) -> None:
        super().__init__()
        self.body = body
        self.content_type = content_type
        self.reactor = reactor
        self.after_bytes = after_bytes
        self.hold = hold_ms / 1000

    def render_GET(self, request: Request) -> int:
        if self.after_bytes > 0:
            webutil.set_header(request, "content-type", self.content_type)
            webutil.set_header(request, "content-length", str(len(self.body)))
            webutil.write(request, self.body[: self.after_bytes])
        call = self.reactor.callLater(self.hold, lambda: webutil.close_connection(request))
        webutil.on_disconnect(request, lambda: call.cancel() if call.active() else None)
        return server.NOT_DONE_YET


class Delayed(webutil.Leaf):
    """Renders ``inner`` after ``seconds``; the latency fault."""

    def __init__(
        self,
        inner: resource.Resource,
        seconds: float,
        reactor: Scheduler,
        ended: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.seconds = seconds
        self.reactor = reactor
        #: called once when the wait is over: answered, or the client went away
        self.ended = ended

    def render(self, request: Request) -> int:
        def end() -> None:
            if self.ended is not None:
                self.ended()
                self.ended = None

        def go() -> None:
            end()
            body = webutil.render(self.inner, request)
            if isinstance(body, bytes):
                if request.method != b"HEAD":
                    webutil.write(request, body)
                webutil.finish(request)

        def gone() -> None:
            if call.active():
                call.cancel()
                end()

        call = self.reactor.callLater(self.seconds, go)
        webutil.on_disconnect(request, gone)
        return server.NOT_DONE_YET


def fault_resource(
    name: str, rule: FaultRule, body: BodyFactory, reactor: Scheduler, route: str = ""
) -> resource.Resource:
    if name == "empty_body":
        return EmptyBody()
    if name == "soft_failure":
        return SoftFailure(route)
    if name == "captcha":
        return Captcha()
    if name == "http_429":
        return TooManyRequests(rule.params.get("retry_after", 1))
    if name == "http_5xx":
        return ServerError(rule.params.get("status", 503))
    if name == "malformed_json":
        return MalformedJson(body)
    if name == "truncated":
        return Truncated(body)
    if name == "reset":
        return ConnectionReset()
    if name == "slow_drip":
        return SlowDrip(body, reactor, rule.params.get("duration_ms", 2000))
    raise ValueError(name)
