"""App wiring: which resource answers which path, request counting, latency, the listening socket."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from twisted.web import resource, server

from emulator import webutil
from emulator.admin import PREFIX, Admin
from emulator.api import ENDPOINTS, ApiRoute
from emulator.cdn import Image, VideoFile
from emulator.faults import Delayed, FaultConfig
from emulator.pages import ForYouPage, HomePage, ProfilePage, TagPage, VideoPage

if TYPE_CHECKING:
    from twisted.web.server import Request

    from emulator.app import App


class NotFound(webutil.Leaf):
    def render(self, request: Request) -> bytes:
        webutil.set_status(request, 404)
        webutil.set_header(request, "content-type", "text/plain; charset=utf-8")
        return b"Not Found"


class Root(webutil.Leaf):
    """Routes by path; counts every non-admin request; delays pages and API calls by the latency."""

    def __init__(self, app: App, initial_faults: FaultConfig) -> None:
        super().__init__()
        self.app = app
        self.admin = Admin(app, initial_faults)
        api = {route: ApiRoute(app, route) for route in ENDPOINTS}
        # (pattern, stats key, resource, subject to latency)
        self.routes: list[tuple[re.Pattern[str], str, resource.Resource, bool]] = [
            (re.compile(r"/"), "/", HomePage(app), True),
            (re.compile(r"/foryou/?"), "/foryou", ForYouPage(app), True),
            (re.compile(r"/tag/[^/]+/?"), "/tag/<name>", TagPage(app), True),
            (re.compile(r"/@[^/]+/video/\d+/?"), "/@<user>/video/<id>", VideoPage(app), True),
            (re.compile(r"/@[^/]+/?"), "/@<user>", ProfilePage(app), True),
            *(
                (re.compile(re.escape(route.rstrip("/")) + "/?"), route, api[route], True)
                for route in ENDPOINTS
            ),
            (re.compile(r"/video/tos/\d+\.mp4"), "cdn", VideoFile(app), False),
            (re.compile(r"/img/.+"), "img", Image(), False),
        ]

    def render(self, request: Request) -> bytes | int:
        path = webutil.path(request)
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return self.admin.render(request)
        for pattern, key, target, delayed in self.routes:
            if pattern.fullmatch(path):
                self.app.stats.requests[key] += 1
                seconds = self.app.faults.delay_seconds() if delayed else 0.0
                if seconds > 0:
                    ended = None
                    if key.startswith("/api/"):
                        self.app.stats.api_call_started(key)
                        ended = functools.partial(self.app.stats.api_call_ended, key)
                    return Delayed(target, seconds, self.app.reactor, ended).render(request)
                return webutil.render(target, request)
        self.app.stats.requests["not_found"] += 1
        return NotFound().render(request)


def make_site(app: App, initial_faults: FaultConfig) -> server.Site:
    site = server.Site(Root(app, initial_faults))  # type: ignore[no-untyped-call]
    site.displayTracebacks = False
    return site
