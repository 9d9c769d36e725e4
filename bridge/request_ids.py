"""Request ids (``X-Request-ID``): one per request, the caller's own when it is a sane token, else a
new one; sent back on every answer, in every problem document (``requestId``) and in every log line
written while the request is served, its crawl's included.

A sane token is 1 to 128 characters of ``A-Z a-z 0-9 . _ : -``: what tracing systems and proxies
send (UUIDs, W3C trace ids, nginx's ``$request_id``), and nothing that could forge a log line or a
header (no spaces, quotes, control characters). Anything else, or the header given twice, is
replaced by a new id: 32 random hex digits.

``current`` holds the id of the request being served. The site sets it while a request is processed;
the tasks a request starts (its answer, its crawl) copy it with their context, so a log record made
by a spider knows which request it is about (``bridge.logs``)."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

HEADER = b"X-Request-ID"
#: the problem document's extension member (RFC 9457 section 3.2: camelCase, as ``code`` beside it)
MEMBER = "requestId"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

current: ContextVar[str | None] = ContextVar("request_id", default=None)


def new() -> str:
    return os.urandom(16).hex()


def of(given: Sequence[bytes] | None) -> str:
    """The id of a request whose ``X-Request-ID`` headers are ``given``."""
    if given is not None and len(given) == 1 and _SANE.fullmatch(given[0]):
        return given[0].decode("ascii")
    return new()
