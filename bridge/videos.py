"""``GET /videos/{id}`` (one Video) and ``GET /videos/{id}/play`` (its bytes, proxied from TikTok's CDN).

The play proxy streams: bytes go from the CDN to the caller as they arrive, with back-pressure both
ways, never the whole file in memory. It sends the session's cookies, Referer and User-Agent, passes
``Range`` through (206, ``Content-Range``) with a well-formed ``If-Range``, and when the play address
it knows has expired, or the CDN refuses it, it asks TikTok for a fresh one (``/api/item/detail/``) once.

A lookup at TikTok is a crawl like a feed's: one per id at a time, within ``MAX_CONCURRENT_CRAWLS``,
counted by ``RATE_LIMIT``; an id TikTok has no video for is remembered (``UnknownVideos``), so asking
again answers 404 from memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any, cast

from cachetools import LRUCache, TTLCache
from twisted.internet import protocol, reactor
from twisted.internet.defer import Deferred
from twisted.web.client import Agent, HTTPConnectionPool, ResponseDone
from twisted.web.http_headers import Headers
from twisted.web.server import NOT_DONE_YET

from bridge import allowlist, answers, problems
from bridge.cache import CachedAnswer
from bridge.crawls import upstream_problem
from bridge.resources import ServiceResource, query_of
from tiktok_spiders.answer_keys import AnsweredVideo
from tiktok_spiders.errors import UpstreamError
from tiktok_spiders.params import InvalidParameter, parse_video_id

if TYPE_CHECKING:
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


#: what the index may hold: some 10,000 videos of TikTok's (their play addresses are long)
VIDEO_INDEX_BYTES = 16 * 1024 * 1024
#: a stored video's weight beyond its JSON: the object, its id and play address, the index's entry
_ENTRY_OVERHEAD = 400


def _weight(video: AnsweredVideo) -> int:
    return len(video.body) + len(video.source_url) + _ENTRY_OVERHEAD


class VideoIndex:
    """The videos the service has answered, by id, the most recently answered first kept: their JSON
    and TikTok's play address. Bounded by bytes, not by count, so its memory stays flat however long
    the service runs; an id it no longer holds costs one lookup at TikTok."""

    def __init__(self, max_bytes: int = VIDEO_INDEX_BYTES) -> None:
        self._videos: LRUCache[str, AnsweredVideo] = LRUCache(maxsize=max_bytes, getsizeof=_weight)

    def add_all(self, videos: list[AnsweredVideo]) -> None:
        for video in videos:
            self._videos[video.id] = video

    def get(self, video_id: str) -> AnsweredVideo | None:
        return self._videos.get(video_id)

    def discard(self, video_id: str) -> None:
        self._videos.pop(video_id, None)

    def __len__(self) -> int:
        return len(self._videos)

    @property
    def bytes(self) -> int:
        return int(self._videos.currsize)


#: ids TikTok had no video for that are remembered (an id and a shared detail each: some 1 MB in all)
UNKNOWN_VIDEOS = 10_000


class UnknownVideos:
    """The ids TikTok answered 404 for (unknown, private, no playable video), with the answer's detail,
    for ``ttl`` seconds (``CACHE_TTL_HASHTAG``; 0 remembers none), the least recently asked forgotten
    first beyond ``maxsize``: asking again for such an id is answered from memory, not by a crawl."""

    def __init__(self, ttl: float, maxsize: int = UNKNOWN_VIDEOS) -> None:
        self._details: TTLCache[str, str] = TTLCache(maxsize=maxsize, ttl=ttl, timer=time.monotonic)

    def add(self, video_id: str, detail: str) -> None:
        self._details[video_id] = detail

    def get(self, video_id: str) -> str | None:
        return self._details.get(video_id)

    def __len__(self) -> int:
        return len(self._details)


def _not_found(detail: str, cache_state: str) -> problems.Problem:
    problem = problems.not_found(detail)
    problem.headers["X-Cache"] = cache_state  # the same 404 either way; this says where it came from
    return problem


class Videos(ServiceResource):
    """``/videos/{id}`` and ``/videos/{id}/play``."""

    def __init__(self, state: ServiceState) -> None:
        super().__init__(state)
        pool = HTTPConnectionPool(_reactor(), persistent=True)
        pool.maxPersistentPerHost = 8
        self.agent = Agent(_reactor(), pool=pool, connectTimeout=state.config.upstream_timeout)

    def render(self, request: Request) -> bytes | int:
        # The id and "play" are the path below /videos/, which the base class would call unknown.
        self.route = [part.decode("utf-8", "replace") for part in request.postpath or []]
        request.postpath = []
        return super().render(request)

    def answer(self, request: Request) -> bytes | int:
        route = self.route  # a trailing slash is an empty last part: no route, as for the others
        if len(route) not in (1, 2) or "" in route or (len(route) == 2 and route[1] != "play"):
            raise problems.not_found("no such route; see /openapi.json")
        try:
            video_id = parse_video_id(route[0])
        except InvalidParameter as error:
            raise problems.invalid_parameter(error.name, error.problem) from None
        query_of(request, ())  # these routes take no query parameters; any is a mistake worth saying
        work = self.play(request, video_id) if len(route) == 2 else self.describe(request, video_id)
        deferred = Deferred.fromFuture(asyncio.ensure_future(work))
        deferred.addErrback(lambda failure: self.fail(request, failure))
        return NOT_DONE_YET

    def fail(self, request: Request, failure: Failure) -> None:
        error = failure.value
        if isinstance(error, UpstreamError):  # the play proxy asked the client for the CDN's cookies
            error = upstream_problem(error.reason, error.detail, error.retry_after, "video")
        elif not isinstance(error, problems.Problem):
            logger.error("video route failed: %r", error)
            error = problems.internal_error()
        if request.startedWriting:
            request.loseConnection()  # a stream broken mid-way cannot become a problem document
            return
        answers.send_problem_later(request, error)

    # GET /videos/{id}

    async def describe(self, request: Request, video_id: str) -> None:
        self.limit_rate(request)  # every request, answered from memory or not, as the feeds count them
        video = self.state.videos.get(video_id)
        cache_state = "HIT"
        if video is None:
            video = await self.lookup(video_id)
            cache_state = "MISS"
        answer = CachedAnswer.build(video.body, self.state.config.cache_ttl_hashtag)
        answers.send_answer(request, answer, cache_state, None, self.base(request))
        if request.code == 304:
            answers.send_later(request, 304, b"")
        else:
            answers.send_later(request, 200, answers.personalise(answer, self.base(request))[0])

    async def lookup(self, video_id: str) -> AnsweredVideo:
        """Ask TikTok for the video now, and remember it: one crawl per id at a time, counted in
        ``MAX_CONCURRENT_CRAWLS``; a 404 TikTok gave for the id a moment ago comes from memory."""
        state = self.state
        # A video in the index was answered since (by a feed): that is newer than a remembered 404.
        detail = state.unknown_videos.get(video_id) if state.videos.get(video_id) is None else None
        if detail is not None:
            raise _not_found(detail, "HIT")
        key = f"video:{video_id}"
        if key not in state.flights and len(state.flights) >= state.config.max_concurrent_crawls:
            raise problems.overloaded(retry_after=1)

        async def fetch() -> CachedAnswer:
            outcome = await state.crawl("video", {"id": video_id})
            problem = outcome.problem("video")
            if outcome.error == "private":
                problem = problems.not_found("this TikTok video is private")
            elif problem is None and not outcome.videos:
                problem = problems.not_found(
                    "TikTok has no playable video with this id (a photo post, a live, an ad?)"
                )
            state.record_outcome(problem)  # a private video is an answer, not an upstream failure
            if problem is not None and problem.status == 404:
                # Remembered before the flight ends: a later caller finds the flight or the 404.
                state.videos.discard(video_id)
                state.unknown_videos.add(video_id, problem.detail)
                raise _not_found(problem.detail, "MISS")
            if problem is not None:
                raise problem
            state.videos.add_all(outcome.videos)
            return CachedAnswer.build(b"", 0)

        await state.flights.run(key, fetch)
        video = state.videos.get(video_id)
        assert video is not None
        return video

    # GET /videos/{id}/play

    async def play(self, request: Request, video_id: str) -> None:
        # Only a play that must ask TikTok counts against RATE_LIMIT (once): a player's many Range
        # requests for a video whose address is known and unexpired are not throttled.
        video = self.state.videos.get(video_id)
        counted = False
        if video is None or allowlist.expired(video.source_url):
            self.limit_rate(request)
            counted = True
            video = await self.lookup(video_id)
        response = await self.fetch_media(request, video.source_url)
        if response.code in (401, 403, 404, 410):
            # An expired or refused address: TikTok names a fresh one, which gets one more try.
            await _discard(response)
            if not counted:
                self.limit_rate(request)
            video = await self.lookup(video_id)
            response = await self.fetch_media(request, video.source_url)
            if response.code in (401, 403, 404, 410):
                await _discard(response)
                raise problems.upstream_blocked(f"TikTok's CDN refused the video ({response.code})")
        if response.code not in (200, 206, 304, 416):
            await _discard(response)
            raise problems.upstream_error(f"TikTok's CDN answered {response.code}")
        await self.relay(request, response)

    async def fetch_media(self, request: Request, url: str) -> IResponse:
        if not allowlist.allowed(url, self.state.client.options.tiktok_base_url):
            logger.warning("refused to proxy a play address outside TikTok's domains")
            raise problems.upstream_error("TikTok named a play address outside its own domains")
        headers = {**await self.state.client.cdn_headers(url), "Accept-Encoding": "identity"}
        range_header = answers.header(request, "Range")
        if range_header and _RANGE.fullmatch(range_header.strip()):
            if_range = (answers.header(request, "If-Range") or "").strip() or None
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

    async def relay(self, request: Request, response: IResponse) -> None:
        request.setResponseCode(response.code)
        for name in _PASSED_HEADERS:
            values = response.headers.getRawHeaders(name)
            if values:
                request.responseHeaders.setRawHeaders(name, values)
        if request.method != b"HEAD" and isinstance(response.length, int):
            # For a GET, Twisted's client keeps Content-Length here, not in the headers.
            request.setHeader(b"Content-Length", str(response.length).encode())
        if not response.headers.hasHeader(b"Accept-Ranges"):
            request.setHeader(b"Accept-Ranges", b"bytes")
        if not response.headers.hasHeader(b"Content-Type"):
            request.setHeader(b"Content-Type", b"video/mp4")
        request.setHeader(b"Cache-Control", b"private, max-age=300")
        if request.method == b"HEAD" or response.code in (304, 416):
            await _discard(response)
            request.finish()
            return
        stream = _Relay(request)
        cast("Any", response).deliverBody(stream)  # IResponse's zope declaration confuses mypy
        await Deferred.asFuture(stream.done, asyncio.get_running_loop())


class _Relay(protocol.Protocol):
    """Copies the CDN's body to the caller; pauses the CDN while the caller is slow (push producer)."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.done: Deferred[None] = Deferred()
        self.request.notifyFinish().addErrback(self._caller_gone)

    def connectionMade(self) -> None:
        self.request.registerProducer(self, True)

    def dataReceived(self, data: bytes) -> None:
        if not self.request.finished:
            self.request.write(data)

    def pauseProducing(self) -> None:
        self.transport.pauseProducing()  # type: ignore[union-attr]

    def resumeProducing(self) -> None:
        self.transport.resumeProducing()  # type: ignore[union-attr]

    def stopProducing(self) -> None:
        self.transport.stopProducing()  # type: ignore[union-attr]

    def _caller_gone(self, _failure: object) -> None:
        # The caller left: stop pulling the video from the CDN.
        if self.transport is not None:
            self.transport.stopProducing()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if not self.request.finished and not getattr(self.request, "_disconnected", False):
            self.request.unregisterProducer()
            if reason.check(ResponseDone):
                self.request.finish()
            else:
                self.request.loseConnection()  # a cut upstream must not look like a complete file
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


def _reactor() -> Any:
    return reactor
