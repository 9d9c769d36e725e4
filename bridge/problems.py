"""RFC 9457 problem details: every error the service answers, with a stable ``code``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field


@dataclass
class Problem(Exception):
    status: int
    code: str
    title: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)
    #: extra members, such as the parameter a 400 is about
    extra: dict[str, object] = field(default_factory=dict)

    def body(self, request_id: str | None = None) -> bytes:
        """The problem document; with ``request_id``, its ``requestId`` member (``bridge.request_ids``)."""
        document: dict[str, object] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }
        if request_id is not None:
            document["requestId"] = request_id
        return json.dumps(document, ensure_ascii=False).encode("utf-8")


def invalid_parameter(name: str, problem: str) -> Problem:
    return Problem(400, "invalid_parameter", "Bad Request", f"{name}: {problem}", extra={"parameter": name})


def not_found(detail: str) -> Problem:
    return Problem(404, "not_found", "Not Found", detail)


def private(detail: str) -> Problem:
    return Problem(403, "private", "Forbidden", detail)


def method_not_allowed(method: str) -> Problem:
    return Problem(
        405,
        "method_not_allowed",
        "Method Not Allowed",
        f"{method} is not allowed here; use GET or HEAD",
        headers={"Allow": "GET, HEAD"},
    )


def rate_limited(retry_after: int) -> Problem:
    return Problem(
        429,
        "rate_limited",
        "Too Many Requests",
        f"rate limit exceeded; retry in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def upstream_error(detail: str) -> Problem:
    return Problem(502, "upstream_error", "Bad Gateway", detail)


def upstream_blocked(detail: str) -> Problem:
    return Problem(502, "upstream_blocked", "Bad Gateway", detail)


def overloaded(retry_after: int) -> Problem:
    return Problem(
        503,
        "overloaded",
        "Service Unavailable",
        "too many crawls in flight; retry shortly",
        headers={"Retry-After": str(retry_after)},
    )


def circuit_open(retry_after: float) -> Problem:
    seconds = max(1, math.ceil(retry_after))
    return Problem(
        503,
        "upstream_paused",
        "Service Unavailable",
        f"calls to TikTok failed repeatedly (refused, unreachable or erroring); the service pauses "
        f"them for {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def browser_unavailable(retry_after: float | None) -> Problem:
    """The service's own browser failed (not TikTok): it is being relaunched."""
    seconds = max(1, math.ceil(retry_after or 1))
    return Problem(
        503,
        "browser_unavailable",
        "Service Unavailable",
        f"the service's browser failed and is being restarted; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def upstream_timeout(seconds: float) -> Problem:
    return Problem(504, "upstream_timeout", "Gateway Timeout", f"TikTok did not answer within {seconds:g} s")


def internal_error() -> Problem:
    return Problem(500, "internal_error", "Internal Server Error", "the service failed; this is our bug")
