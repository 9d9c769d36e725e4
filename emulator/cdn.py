"""The video CDN: ``/video/tos/<id>.mp4?expire=...&tk=tt_chain_token`` and ``/img/...``.

A play URL answers only with a ``tt_chain_token`` cookie this emulator issued, a ``Referer`` on the
origin the client reached the emulator at (scheme and ``Host``: TikTok wants
``https://www.tiktok.com/``, which is what a client sends that maps that name to the emulator under
``--tls``) and before its ``expire``; anything else is a 403, as on TikTok. A ``cdn_stall`` fault
(``faults.py``) makes it stop answering part-way. The bytes are one small real H.264 MP4, served by
``twisted.web.static.File``, which already answers ``Range`` (206) and ``HEAD``; as a CDN does, it
also has a strong ``ETag``, honours ``If-Range`` (RFC 9110 section 13.1.5) and answers a suffix range
longer than the file with the whole file (section 14.1.2), where ``static.File`` alone failed (500).
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

from twisted.web import http, static

from emulator import webutil
from emulator.app import ASSETS
from emulator.faults import CDN_FAULT_NAMES, Stall

if TYPE_CHECKING:
    from twisted.web.server import Request

    from emulator.app import App

MP4 = ASSETS / "sample.mp4"
IMAGE = ASSETS / "cover.jpg"
#: the video's strong validator: the same bytes always have the same tag
MP4_ETAG = f'"{hashlib.blake2b(MP4.read_bytes(), digest_size=8).hexdigest()}"'


class MediaFile(static.File):
    """``static.File``, but a suffix range longer than the file is the whole file (RFC 9110 14.1.2)."""

    def _rangeToOffsetAndSize(self, start: int | None, end: int | None) -> tuple[int, int]:
        # A suffix longer than the file means the whole file; static.File seeks before its start.
        if start is None and end is not None:
            end = min(end, self.getFileSize())  # type: ignore[no-untyped-call]
        return super()._rangeToOffsetAndSize(start, end)  # type: ignore[no-untyped-call,no-any-return]


def if_range_holds(if_range: str | None, etag: str, last_modified: int) -> bool:
    """Whether a ``Range`` may be served: no ``If-Range``, or one naming the current validator. An
    entity-tag is compared strongly (a weak one never matches), a date must be exactly
    ``Last-Modified``; anything else does not match, so the whole file is sent."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith('"'):
        return value == etag
    try:
        return int(http.stringToDatetime(value.encode("latin-1"))) == last_modified  # type: ignore[no-untyped-call]
    except (ValueError, IndexError, UnicodeEncodeError):  # what stringToDatetime raises for garbage
        return False


class Forbidden(webutil.Leaf):
    def render_GET(self, request: Request) -> bytes:
        webutil.set_status(request, 403)
        webutil.set_header(request, "content-type", "text/plain; charset=utf-8")
        return b"Access Denied"


class VideoFile(webutil.Leaf):
    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app

    def refusal(self, request: Request) -> str | None:
        expire = webutil.query(request).get("expire", "")
        if not expire.isdigit() or int(expire) <= self.app.clock.now():
            return "expired"
        if not self.app.sessions.knows_chain_token(webutil.cookie(request, "tt_chain_token")):
            return "no_chain_token"
        referer = request.getHeader("referer") or ""
        if not referer.startswith(webutil.base_url(request) + "/"):
            return "bad_referer"
        return None

    def render(self, request: Request) -> bytes | int:
        reason = self.refusal(request)
        if reason is not None:
            self.app.stats.cdn_refused[reason] += 1
            return Forbidden().render(request)
        picked = self.app.faults.pick("cdn", CDN_FAULT_NAMES)
        if picked is not None:
            name, rule = picked
            self.app.stats.faults_injected[name] += 1
            stall = Stall(
                MP4.read_bytes(),
                "video/mp4",
                self.app.reactor,
                after_bytes=rule.params.get("after_bytes", 0),
                hold_ms=rule.params.get("hold_ms", 60_000),
            )
            return webutil.render(stall, request)
        media = MediaFile(str(MP4), defaultType="video/mp4")
        webutil.set_header(request, "etag", MP4_ETAG)
        # static.File sends Last-Modified as the modification time rounded up to the second
        last_modified = math.ceil(media.getModificationTime())
        if request.getHeader("range") is not None and not if_range_holds(
            request.getHeader("if-range"), MP4_ETAG, last_modified
        ):
            request.requestHeaders.removeHeader(b"range")  # RFC 9110: ignore the Range, send it all
        return webutil.render(media, request)


class Image(webutil.Leaf):
    """Covers, avatars and photo-post images: one tiny JPEG for every URL, no checks."""

    def render(self, request: Request) -> bytes | int:
        return webutil.render(static.File(str(IMAGE), defaultType="image/jpeg"), request)
