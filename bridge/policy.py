"""The answer policy: how a request becomes an answer, without HTTP.

For a feed (``feed``): a fresh cached answer is a ``HIT``; else one crawl per cache key at a time
(single-flight, across instances with a shared cache), within ``max_concurrent_crawls`` slots, a
miss waiting in a bounded, fair queue for a slot while it can still be answered in time
(``bridge.admission``); its answer is stored and is a ``MISS``; when the crawl fails with a 5xx, or
every crawl slot is taken, a stale answer (within ``CACHE_STALE_MAX``) is served as ``STALE`` at once
rather than the error or the wait. A page cut short by
an upstream failure is served once and never stored. Every video answered goes into the video index.

For one video (``video``): the index answers (``HIT``), else a lookup at TikTok, under the same
single-flight and slots (``MISS``); an id TikTok has no video for is remembered for a while, so asking
again is a 404 from memory.

Failures are ``bridge.problems.Problem``s. Crawls are run by the ``crawl`` function given (the
service's runs a spider, a test's is a fake), so every branch is tested in process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge import problems
from bridge.admission import CrawlSlots
from bridge.cache import CachedAnswer, CacheState
from tiktok_spiders.answer_keys import answer_body

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from bridge.cache import AnswerCache, SharedCache, SingleFlight
    from bridge.health import UpstreamRecord
    from bridge.outcomes import Crawl
    from bridge.video_index import UnknownVideos, VideoIndex
    from tiktok_spiders.answer_keys import AnsweredVideo
    from tiktok_spiders.feeds import Feed
    from tiktok_spiders.params import Value


@dataclass(frozen=True, slots=True)
class Served:
    answer: CachedAnswer
    cache_state: CacheState


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """A feed request, its arguments parsed: the feed, the arguments, and its cache key."""

    feed: Feed
    arguments: Mapping[str, Value]
    key: str

    @classmethod
    def of(cls, feed: Feed, arguments: Mapping[str, Value]) -> FeedRequest:
        return cls(feed, arguments, feed.key(arguments))


class AnswerPolicy:
    def __init__(
        self,
        *,
        cache: AnswerCache,
        shared_cache: SharedCache | None,
        flights: SingleFlight,
        max_concurrent_crawls: int,
        max_queued_crawls: int = 0,
        deadline: float = 10.0,
        crawl: Crawl,
        record: UpstreamRecord,
        videos: VideoIndex,
        unknown_videos: UnknownVideos,
        ttls: Mapping[str, float],
        video_ttl: float,
    ) -> None:
        self.cache = cache
        self.shared_cache = shared_cache
        self.flights = flights
        self.slots = CrawlSlots(max_concurrent_crawls, max_queued_crawls, deadline)
        self.crawl = crawl
        self.record = record
        self.videos = videos
        self.unknown_videos = unknown_videos
        #: seconds an answer stays fresh, by the feed's ``ttl_setting``
        self.ttls = ttls
        self.video_ttl = video_ttl

    # feeds

    def fresh(self, request: FeedRequest) -> Served | None:
        """A fresh answer this process holds, at once; None when the answer must be awaited."""
        if self.shared_cache is not None:  # a shared cache answers asynchronously
            return None
        cached = self.cache.lookup(request.key)
        return Served(cached, CacheState.HIT) if cached is not None and cached.fresh() else None

    async def feed(self, request: FeedRequest, client: str = "") -> Served:
        """``client`` (who asks: the rate limit's key) decides whose turn it is in the crawl queue."""
        if self.shared_cache is not None:
            cached = await self.shared_cache.lookup(request.key)
        else:
            cached = self.cache.lookup(request.key)
        if cached is not None and cached.fresh():
            return Served(cached, CacheState.HIT)
        return await self._miss(request, cached, client)

    async def _miss(self, request: FeedRequest, stale: CachedAnswer | None, client: str) -> Served:
        if stale is not None and request.key not in self.flights and not self.slots.free:
            # An answer now beats a wait in the queue.
            self.record.served_stale()
            return Served(stale, CacheState.STALE)
        try:
            shared = self.shared_cache
            if shared is not None:  # one crawl per key across the instances sharing the cache
                answer = await self._flight(
                    request.key, client, lambda: shared.exclusive(request.key, lambda: self._fetch(request))
                )
            else:
                answer = await self._flight(request.key, client, lambda: self._fetch(request))
        except problems.Problem as problem:
            if stale is not None and problem.status >= 500:
                self.record.served_stale()
                return Served(stale, CacheState.STALE)
            raise
        return Served(answer, CacheState.MISS)

    async def _flight(
        self, key: str, client: str, work: Callable[[], Awaitable[CachedAnswer]]
    ) -> CachedAnswer:
        """Join the flight for ``key``, or start one once a crawl slot is ours (waiting in the queue
        for it if need be); the flight gives the slot back when it ends, whoever still waits on it."""
        if key not in self.flights:
            await self.slots.acquire(client)
            if key in self.flights:  # another caller started it while we waited
                self.slots.release(None)
            else:
                return await self.flights.run(key, self._holding_slot(work))
        return await self.flights.run(key, work)

    def _holding_slot(
        self, work: Callable[[], Awaitable[CachedAnswer]]
    ) -> Callable[[], Awaitable[CachedAnswer]]:
        async def run() -> CachedAnswer:
            started = time.monotonic()
            try:
                return await work()
            finally:
                self.slots.release(time.monotonic() - started)

        return run

    async def _fetch(self, request: FeedRequest) -> CachedAnswer:
        feed = request.feed
        outcome = await self.crawl(feed.spider, request.arguments)
        problem = outcome.problem(feed.subject)
        if outcome.error == "invalid_request" and request.arguments.get("cursor") not in (None, 0, "0"):
            # TikTok refused a parameter, and the caller chose the cursor (TikTok's own, opaque to us):
            # the caller's mistake, not TikTok failing.
            problem = problems.invalid_parameter("cursor", "TikTok refused it; pass a cursor a Link gave")
        items = outcome.items
        if problem is None and feed.shape == "object" and not items:
            problem = problems.upstream_error(f"TikTok answered without the {feed.subject}")
        self.record.record_outcome(problem)
        self.videos.add_all(outcome.videos)
        partial = problem is not None and problem.status >= 500 and bool(items) and feed.shape == "list"
        if problem is not None and not partial:
            raise problem
        answer = CachedAnswer.build(
            answer_body(feed.shape, items), self.ttls[feed.ttl_setting], outcome.next_cursor
        )
        if partial:  # a page cut short by an upstream failure is served once, never cached
            return answer
        if self.shared_cache is not None:
            await self.shared_cache.store(request.key, answer)
        else:
            self.cache.store(request.key, answer)
        return answer

    # one video

    async def video(self, video_id: str, client: str = "") -> Served:
        """``/videos/{id}``: the video from the index, else from TikTok."""
        video = self.videos.get(video_id)
        cache_state = CacheState.HIT
        if video is None:
            video = await self.lookup(video_id, client)
            cache_state = CacheState.MISS
        return Served(CachedAnswer.build(video.body, self.video_ttl), cache_state)

    async def lookup(self, video_id: str, client: str = "") -> AnsweredVideo:
        """Ask TikTok for the video now, and remember it: one crawl per id at a time, counted in
        ``max_concurrent_crawls``; a 404 TikTok gave for the id a moment ago comes from memory."""
        # A video in the index was answered since (by a feed): that is newer than a remembered 404.
        detail = self.unknown_videos.get(video_id) if self.videos.get(video_id) is None else None
        if detail is not None:
            raise video_not_found(detail, CacheState.HIT)
        await self._flight(f"video:{video_id}", client, self._video_fetch(video_id))
        video = self.videos.get(video_id)
        assert video is not None
        return video

    def _video_fetch(self, video_id: str) -> Callable[[], Awaitable[CachedAnswer]]:
        async def fetch() -> CachedAnswer:
            outcome = await self.crawl("video", {"id": video_id})
            problem = outcome.problem("video")
            if outcome.error == "private":
                problem = problems.not_found("this TikTok video is private")
            elif problem is None and not outcome.videos:
                problem = problems.not_found(
                    "TikTok has no playable video with this id (a photo post, a live, an ad?)"
                )
            self.record.record_outcome(problem)  # a private video is an answer, not an upstream failure
            if problem is not None and problem.status == 404:
                # Remembered before the flight ends: a later caller finds the flight or the 404.
                self.videos.discard(video_id)
                self.unknown_videos.add(video_id, problem.detail)
                raise video_not_found(problem.detail, CacheState.MISS)
            if problem is not None:
                raise problem
            self.videos.add_all(outcome.videos)
            return CachedAnswer.build(b"", 0)

        return fetch


def video_not_found(detail: str, cache_state: CacheState) -> problems.Problem:
    problem = problems.not_found(detail)
    problem.headers["X-Cache"] = cache_state  # the same 404 either way; this says where it came from
    return problem
