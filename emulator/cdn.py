"""The video CDN: ``/video/tos/<id>.mp4?expire=...&tk=tt_chain_token`` and ``/img/...``.

A play URL answers only with a ``tt_chain_token`` cookie this emulator issued, a ``Referer`` on the
emulator's own origin (TikTok wants ``https://www.tiktok.com/``) and before its ``expire``; anything
else is a 403, as on TikTok. The bytes are one small real H.264 MP4, served by
``twisted.web.static.File``, which already answers ``Range`` (206) and ``HEAD``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.web import static

from emulator import webutil
from emulator.app import ASSETS

if TYPE_CHECKING:
    from twisted.web.server import Request

    from emulator.app import App

MP4 = ASSETS / "sample.mp4"
IMAGE = ASSETS / "cover.jpg"


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
        return webutil.render(static.File(str(MP4), defaultType="video/mp4"), request)


class Image(webutil.Leaf):
    """Covers, avatars and photo-post images: one tiny JPEG for every URL, no checks."""

    def render(self, request: Request) -> bytes | int:
        return webutil.render(static.File(str(IMAGE), defaultType="image/jpeg"), request)
