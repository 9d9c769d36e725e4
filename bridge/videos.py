"""``GET /videos/{id}`` (one Video) and ``GET /videos/{id}/play`` (its bytes, proxied from TikTok's CDN).

The play proxy streams: bytes go from the CDN to the caller as they arrive, with back-pressure both
ways, never the whole file in memory. It sends the session's cookies, Referer and User-Agent, passes
``Range`` through (206, ``Content-Range``) with a well-formed ``If-Range``, and when the play address
it knows has expired, or the CDN refuses it, it asks TikTok for a fresh one (``/api/item/detail/``) once.
All of that, up to the CDN's headers, has one deadline (``UPSTREAM_TIMEOUT``: 504 past it), and a CDN
that stops sending mid-file for as long cuts the answer.

A lookup at TikTok is a crawl like a feed's: one per id at a time, within ``MAX_CONCURRENT_CRAWLS``,
counted by ``RATE_LIMIT``; an id TikTok has no video for is remembered, so asking again answers 404
from memory (``bridge.policy.AnswerPolicy.lookup``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from twisted.internet import protocol, reactor
from twisted.internet.defer import Deferred
from twisted.internet.ssl import Certificate
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool, ResponseDone
from twisted.web.http_headers import Headers

from bridge import allowlist, problems, writer
from bridge.outcomes import upstream_problem
from bridge.replies import Reply, answer_reply
from bridge.shell import ServiceResource, query_of
from tiktok_spiders.errors import UpstreamError
from tiktok_spiders.params import VIDEO_ID, InvalidParameter

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from twisted.internet.base import DelayedCall
    from twisted.python.failure import Failure
    from twisted.web.iweb import IResponse
    from twisted.web.server import Request

    from bridge.state import ServiceState

logger = logging.getLogger(__name__)
#: one range only: a multi-range request is answered with the whole file, as RFC 9110 allows, rather
#: than relaying multipart/byteranges that no video player asks for
_RANGE = re.compile(r"bytes=(\d+-\d*|-\d+)")
#: an If-Range that can match (RFC 9110 13.1.5): a strong entity-tag or an IMF-fixdate
_IF_RANGE = re.compile(
    r'"[\x21\x23-\x7e\x80-\xff]*"'
    r"|(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT"
)
#: headers of the CDN's answer that the caller gets as they are
_PASSED_HEADERS = (
    b"Content-Type",
    b"Content-Length",
    b"Content-Range",
    b"Accept-Ranges",
    b"ETag",
    b"Last-Modified",
)


class Videos(ServiceResource):
    """``/videos/{id}`` and ``/videos/{id}/play``."""

    def __init__(self, state: ServiceState) -> None:
        super().__init__(state)
        pool = HTTPConnectionPool(_reactor(), persistent=True)
        pool.maxPersistentPerHost = 8
        self.agent = Agent(
            _reactor(),
            contextFactory=_tls_policy(state.config.tiktok_ca_file),
            pool=pool,
            connectTimeout=state.config.upstream_timeout,
        )

    def render(self, request: Request) -> int:
        # The id and "play" are the path below /videos/, which the base class would call unknown.
        self.route = [part.decode("utf-8", "replace") for part in request.postpath or []]
        request.postpath = []
        return super().render(request)

    def route_of(self, request: Request) -> str | None:
        route = self.route
        if len(route) == 1 and route[0]:
            return "/videos/{id}"
        return "/videos/{id}/play" if len(route) == 2 and route[0] and route[1] == "play" else None

    def answer(self, request: Request) -> Awaitable[Reply | None]:
        route = self.route  # a trailing slash is an empty last part: no route, as for the others
        if len(route) not in (1, 2) or "" in route or (len(route) == 2 and route[1] != "play"):
            raise problems.not_found("no such route; see /openapi.json")
        try:
            video_id = str(VIDEO_ID.parse(route[0], False))
        except InvalidParameter as error:
            raise problems.invalid_parameter(error.name, error.problem) from None
        query_of(request, ())  # these routes take no query parameters; any is a mistake worth saying
        return self.play(request, video_id) if len(route) == 2 else self.describe(request, video_id)

    def problem_of(self, error: BaseException) -> problems.Problem:
        if isinstance(error, UpstreamError):  # the play proxy asked the client for the CDN's cookies
            return upstream_problem(error.reason, error.detail, error.retry_after, "video")
        return super().problem_of(error)

    # GET /videos/{id}

    async def describe(self, request: Request, video_id: str) -> Reply:
        self.limit_rate(request)  # every request, answered from memory or not, as the feeds count them
        served = await self.state.policy.video(video_id, self.client_of(request))
        return answer_reply(served, None, self.base(request), writer.header(request, "If-None-Match"))

    # GET /videos/{id}/play

    async def play(self, request: Request, video_id: str) -> None:
        # One deadline up to the CDN's headers, as a feed's crawl has: a lookup, a session (perhaps a
        # browser relaunch) and the CDN's answer together, so no caller waits on a stuck upstream.
        deadline = self.state.config.upstream_timeout
        try:
            async with asyncio.timeout(deadline):
                response = await self.open_media(request, video_id)
        except TimeoutError:
            raise problems.upstream_timeout(deadline) from None
        await self.relay(request, response, idle_timeout=deadline)

    async def open_media(self, request: Request, video_id: str) -> IResponse:
        """The CDN's answer for the video, its headers read; a refused address is resolved once."""
        # Only a play that must ask TikTok counts against RATE_LIMIT (once): a player's many Range
        # requests for a video whose address is known and unexpired are not throttled.
        video = self.state.videos.get(video_id)
        counted = False
        if video is None or allowlist.expired(video.source_url):
            self.limit_rate(request)
            counted = True
            video = await self.state.policy.lookup(video_id, self.client_of(request))
        response = await self.fetch_media(request, video.source_url)
        if response.code in (401, 403, 404, 410):
            # An expired or refused address: TikTok names a fresh one, which gets one more try.
            await _discard(response)
            if not counted:
                self.limit_rate(request)
            video = await self.state.policy.lookup(video_id, self.client_of(request))
            response = await self.fetch_media(request, video.source_url)
            if response.code in (401, 403, 404, 410):
                await _discard(response)
                raise problems.upstream_blocked(f"TikTok's CDN refused the video ({response.code})")
        if response.code not in (200, 206, 304, 416):
            await _discard(response)
            raise problems.upstream_error(f"TikTok's CDN answered {response.code}")
        return response

    async def fetch_media(self, request: Request, url: str) -> IResponse:
        if not allowlist.allowed(url, self.state.client.options.tiktok_base_url):
            logger.warning("refused to proxy a play address outside TikTok's domains")
            raise problems.upstream_error("TikTok named a play address outside its own domains")
        headers = {**await self.state.client.cdn_headers(url), "Accept-Encoding": "identity"}
        range_header = writer.header(request, "Range")
        if range_header and _RANGE.fullmatch(range_header.strip()):
            if_range = (writer.header(request, "If-Range") or "").strip() or None
            if if_range is None or _IF_RANGE.fullmatch(if_range):
                headers["Range"] = range_header.strip()
                if if_range is not None:
                    headers["If-Range"] = if_range
            # else a weak or unreadable If-Range, which can never match: the whole file (RFC 9110 13.1.5)
        method = b"HEAD" if request.method == b"HEAD" else b"GET"
        raw_headers = Headers(
            {name.encode(): [value.encode("latin-1", "replace")] for name, value in headers.items()}
        )
        try:
            return await Deferred.asFuture(
                self.agent.request(method, url.encode("ascii"), raw_headers), asyncio.get_running_loop()
            )
        except Exception as error:
            raise problems.upstream_error(f"TikTok's CDN is unreachable ({type(error).__name__})") from None

    async def relay(self, request: Request, response: IResponse, idle_timeout: float) -> None:
        headers = {
            name.decode(): values[0].decode("latin-1")
            for name in _PASSED_HEADERS
            if (values := response.headers.getRawHeaders(name))
        }
        if request.method != b"HEAD" and isinstance(response.length, int):
            # For a GET, Twisted's client keeps Content-Length here, not in the headers.
            headers["Content-Length"] = str(response.length)
        headers.setdefault("Accept-Ranges", "bytes")
        headers.setdefault("Content-Type", "video/mp4")
        headers["Cache-Control"] = "private, max-age=300"
        if request.method == b"HEAD" or response.code in (304, 416):
            await _discard(response)
            writer.send(request, Reply(response.code, headers=headers, content_type=None))
            return
        writer.start(request, response.code, headers)
        metrics = self.state.metrics
        stream = _Relay(request, idle_timeout, None if metrics is None else metrics.play_bytes)
        cast("Any", response).deliverBody(stream)  # IResponse's zope declaration confuses mypy
        await Deferred.asFuture(stream.done, asyncio.get_running_loop())


class _Relay(protocol.Protocol):
    """Copies the CDN's body to the caller; pauses the CDN while the caller is slow (push producer).

    A CDN that sends nothing for ``idle_timeout`` seconds while the caller is ready for more is given
    up on and the caller's answer cut (Twisted's own idle timeout sleeps while a request is answered).
    """

    def __init__(
        self, request: Request, idle_timeout: float, relayed: Callable[[int], None] | None = None
    ) -> None:
        self.request = request
        self.idle_timeout = idle_timeout
        #: told how many bytes each chunk relayed was (``bridge.metrics``)
        self.relayed = relayed
        self.idle: DelayedCall | None = None
        #: the request's context: Twisted runs a delayed call in whichever context last set its
        #: timer, so the stall's warning would name another request (or none)
        self.context = contextvars.copy_context()
        self.done: Deferred[None] = Deferred()
        self.request.notifyFinish().addErrback(self._caller_gone)

    def connectionMade(self) -> None:
        self.request.registerProducer(self, True)
        self._wait_for_bytes()

    def dataReceived(self, data: bytes) -> None:
        if not self.request.finished:
            self._wait_for_bytes()
            self.request.write(data)
            if self.relayed is not None:
                self.relayed(len(data))

    def pauseProducing(self) -> None:
        self._stop_waiting()  # the caller is slow, not the CDN
        self.transport.pauseProducing()  # type: ignore[union-attr]

    def resumeProducing(self) -> None:
        self._wait_for_bytes()
        self.transport.resumeProducing()  # type: ignore[union-attr]

    def stopProducing(self) -> None:
        self.transport.stopProducing()  # type: ignore[union-attr]

    def _wait_for_bytes(self) -> None:
        if self.idle is not None and self.idle.active():
            self.idle.reset(self.idle_timeout)
        else:
            self.idle = _reactor().callLater(self.idle_timeout, self.context.run, self._stalled)

    def _stop_waiting(self) -> None:
        if self.idle is not None and self.idle.active():
            self.idle.cancel()
        self.idle = None

    def _stalled(self) -> None:
        logger.warning("TikTok's CDN sent nothing for %g s; the video's answer is cut", self.idle_timeout)
        if self.transport is not None:
            self.transport.stopProducing()  # connectionLost follows, with the cut

    def _caller_gone(self, _failure: object) -> None:
        # The caller left: stop pulling the video from the CDN.
        if self.transport is not None:
            self.transport.stopProducing()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self._stop_waiting()
        if not self.request.finished and not getattr(self.request, "_disconnected", False):
            self.request.unregisterProducer()
            if reason.check(ResponseDone):
                self.request.finish()
            else:
                writer.cut(self.request)  # a cut upstream must not look like a complete file
        if not self.done.called:
            self.done.callback(None)


async def _discard(response: IResponse) -> None:
    """Read and drop a body we do not relay, so the connection can be reused."""
    consumer = _Discard()
    cast("Any", response).deliverBody(consumer)
    await Deferred.asFuture(consumer.done, asyncio.get_running_loop())


class _Discard(protocol.Protocol):
    def __init__(self) -> None:
        self.done: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self.done.callback(None)


def _tls_policy(ca_file: str | None) -> BrowserLikePolicyForHTTPS:
    """Verify the CDN as a browser does: the system's roots, or (``TIKTOK_CA_FILE``, for tests) that one
    certificate as the only root."""
    if ca_file is None:
        return BrowserLikePolicyForHTTPS()
    return BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(Path(ca_file).read_bytes()))


def _reactor() -> Any:
    return reactor
