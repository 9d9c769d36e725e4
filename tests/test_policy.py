"""The answer policy (bridge.policy) in process, against a fake crawl: every branch a caller can meet
(hit, miss, stale on failure, overload, single-flight, a failure while others wait, partial pages,
video lookups), with no HTTP, no Scrapy and no browser."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import pytest

from bridge import problems
from bridge.cache import CachedAnswer, CacheState, MemoryCache, SingleFlight
from bridge.health import UpstreamRecord
from bridge.outcomes import CrawlOutcome
from bridge.policy import AnswerPolicy, FeedRequest, Served
from bridge.video_index import UnknownVideos, VideoIndex
from tests.aio import run_async
from tiktok_spiders.answer_keys import AnsweredVideo
from tiktok_spiders.feeds import CATEGORY, TRENDING
from tiktok_spiders.params import Value

FINISHED = {"finish_reason": "finished"}
UNAVAILABLE = {**FINISHED, "tiktok/error": "unavailable", "tiktok/error_detail": "HTTP 503 from TikTok"}


def video(video_id: str) -> AnsweredVideo:
    body = json.dumps({"id": video_id}).encode()
    return AnsweredVideo(video_id, f"https://v16-webapp.tiktok.com/{video_id}.mp4", body)


class FakeCrawl:
    """Answers each crawl with the next outcome of ``outcomes``; ``hold()`` keeps crawls waiting
    until ``release()``, so callers can pile up behind one."""

    def __init__(self, *outcomes: CrawlOutcome) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, dict[str, Value]]] = []
        self.started = asyncio.Event()
        self.gate: asyncio.Event | None = None

    def hold(self) -> None:
        """Crawls from now on wait for ``release()``; ``started`` tells when the next one begins."""
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    def release(self) -> None:
        assert self.gate is not None
        self.gate.set()

    async def __call__(self, spider: str, arguments: Mapping[str, Value]) -> CrawlOutcome:
        self.calls.append((spider, dict(arguments)))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        return self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]


class GatedCrawl:
    """Each crawl waits for its own hashtag's gate (``open(tag)``); records the order crawls start
    in and the most that ran at once."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.started: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.progress = asyncio.Event()

    def gate(self, tag: str) -> asyncio.Event:
        return self.gates.setdefault(tag, asyncio.Event())

    def open(self, tag: str) -> None:
        self.gate(tag).set()

    async def until_started(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.started) < count:
                self.progress.clear()
                await self.progress.wait()

    async def __call__(self, spider: str, arguments: Mapping[str, Value]) -> CrawlOutcome:
        tag = str(arguments.get("hashtag", spider))
        self.started.append(tag)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.progress.set()
        try:
            await self.gate(tag).wait()
        finally:
            self.running -= 1
        return ok(tag)


async def queued_callers(policy: AnswerPolicy, n: int) -> int:
    """Wait until ``n`` callers wait in the crawl queue (bounded: 5 s)."""
    async with asyncio.timeout(5):
        while policy.slots.waiting < n:
            await asyncio.sleep(0)
    return policy.slots.waiting


def ok(*ids: str, next_cursor: int | None = None) -> CrawlOutcome:
    stats: dict[str, Any] = dict(FINISHED)
    if next_cursor is not None:
        stats["tiktok/next_cursor"] = next_cursor
    return CrawlOutcome([video(video_id) for video_id in ids], stats)


def failed(*ids: str, stats: dict[str, Any] | None = None) -> CrawlOutcome:
    return CrawlOutcome([video(video_id) for video_id in ids], stats or UNAVAILABLE)


class SharedFake:
    """A shared cache (the Redis one's interface) kept in a dict, counting its calls."""

    def __init__(self) -> None:
        self.answers: dict[str, CachedAnswer] = {}
        self.exclusive_keys: list[str] = []

    async def lookup(self, key: str) -> CachedAnswer | None:
        return self.answers.get(key)

    async def store(self, key: str, answer: CachedAnswer) -> None:
        self.answers[key] = answer

    async def exclusive(self, key: str, work: Callable[[], Awaitable[CachedAnswer]]) -> CachedAnswer:
        self.exclusive_keys.append(key)
        return await work()


def policy_with(
    crawl: FakeCrawl | GatedCrawl,
    *,
    ttl: float = 60,
    max_concurrent: int = 8,
    shared: SharedFake | None = None,
    queued: int = 0,
    deadline: float = 10.0,
) -> AnswerPolicy:
    return AnswerPolicy(
        cache=MemoryCache(stale_max=3600),
        shared_cache=shared,
        flights=SingleFlight(),
        max_concurrent_crawls=max_concurrent,
        max_queued_crawls=queued,
        deadline=deadline,
        crawl=crawl,
        record=UpstreamRecord(),
        videos=VideoIndex(),
        unknown_videos=UnknownVideos(ttl=300),
        ttls={"CACHE_TTL_TRENDING": ttl, "CACHE_TTL_HASHTAG": ttl},
        video_ttl=300,
    )


def trending(count: int = 3) -> FeedRequest:
    return FeedRequest.of(TRENDING, TRENDING.parse({"count": str(count)}))


def category(hashtag: str = "food", cursor: int = 0) -> FeedRequest:
    return FeedRequest.of(CATEGORY, CATEGORY.parse({"hashtag": hashtag, "cursor": str(cursor)}))


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """The scenario on a fresh loop, bounded: a policy that hangs fails the test in seconds."""
    run_async(scenario(), timeout=10)


def ids(served: Served) -> list[str]:
    return [entry["id"] for entry in json.loads(served.answer.body)]


def test_a_miss_crawls_once_then_the_answer_is_a_hit() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1", "2", "3"))
        policy = policy_with(crawl)
        assert policy.fresh(trending()) is None
        miss = await policy.feed(trending())
        assert (miss.cache_state, ids(miss)) == (CacheState.MISS, ["1", "2", "3"])
        assert crawl.calls == [("trending", {"count": 3})]
        hit = policy.fresh(trending())  # answered at once, with no task
        assert hit is not None and hit.cache_state is CacheState.HIT and hit.answer == miss.answer
        assert (await policy.feed(trending())).cache_state is CacheState.HIT
        assert len(crawl.calls) == 1
        assert policy.record.crawls == 1
        assert [policy.videos.get(video_id) is not None for video_id in "123"] == [True] * 3

    run(scenario)


def test_the_spider_gets_the_parsed_arguments_and_the_answer_its_cursor() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1", next_cursor=35))
        policy = policy_with(crawl)
        served = await policy.feed(category("#Food", cursor=5))
        assert crawl.calls == [("hashtag", {"hashtag": "Food", "count": 30, "cursor": 5})]
        assert served.answer.next_cursor == 35
        # one key whatever the spelling: #Food and food are one hashtag
        assert (await policy.feed(category("food", cursor=5))).cache_state is CacheState.HIT

    run(scenario)


def test_a_failed_crawl_serves_the_stale_answer_and_degrades_health() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1", "2"), failed())
        policy = policy_with(crawl, ttl=0)  # stale at once
        first = await policy.feed(trending())
        stale = await policy.feed(trending())
        assert (stale.cache_state, stale.answer) == (CacheState.STALE, first.answer)
        assert len(crawl.calls) == 2
        assert policy.record.last_stale is not None
        assert policy.record.last_failure is not None
        assert policy.record.last_failure[1] == "upstream_error: TikTok: HTTP 503 from TikTok"

    run(scenario)


def test_a_failed_crawl_with_nothing_stale_is_the_problem() -> None:
    async def scenario() -> None:
        policy = policy_with(FakeCrawl(failed()))
        with pytest.raises(problems.Problem) as raised:
            await policy.feed(trending())
        assert (raised.value.status, raised.value.code) == (502, "upstream_error")
        assert policy.record.last_stale is None
        assert len(policy.cache) == 0

    run(scenario)


def test_a_not_found_is_a_404_and_never_served_stale() -> None:
    async def scenario() -> None:
        missing = {**FINISHED, "tiktok/error": "not_found", "tiktok/error_detail": "no such challenge"}
        policy = policy_with(FakeCrawl(ok("1"), failed(stats=missing)), ttl=0)
        await policy.feed(category("food"))
        with pytest.raises(problems.Problem) as raised:
            await policy.feed(category("food"))
        assert (raised.value.status, raised.value.detail) == (404, "TikTok knows no such hashtag")
        assert policy.record.last_failure is None  # TikTok answered; nothing failed

    run(scenario)


def test_a_page_cut_short_is_served_once_and_never_stored() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(failed("1", "2"), ok("1", "2", "3"))
        policy = policy_with(crawl)
        partial = await policy.feed(trending())
        assert (partial.cache_state, ids(partial)) == (CacheState.MISS, ["1", "2"])
        assert len(policy.cache) == 0
        complete = await policy.feed(trending())
        assert (complete.cache_state, ids(complete)) == (CacheState.MISS, ["1", "2", "3"])
        assert len(crawl.calls) == 2

    run(scenario)


def test_n_identical_misses_share_one_crawl() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1", "2"))
        crawl.hold()
        policy = policy_with(crawl, max_concurrent=1)  # joining a flight takes no slot
        callers = [asyncio.ensure_future(policy.feed(trending())) for _ in range(20)]
        await crawl.started.wait()
        assert len(policy.flights) == 1
        crawl.release()
        served = await asyncio.gather(*callers)
        assert len(crawl.calls) == 1
        assert {answer.cache_state for answer in served} == {CacheState.MISS}
        assert len({answer.answer.etag for answer in served}) == 1
        assert len(policy.flights) == 0

    run(scenario)


def test_a_failure_reaches_every_waiting_caller_and_the_next_one_crawls_again() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(failed(), ok("9"))
        crawl.hold()
        policy = policy_with(crawl)
        callers = [asyncio.ensure_future(policy.feed(trending())) for _ in range(5)]
        await crawl.started.wait()
        crawl.release()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        assert all(isinstance(outcome, problems.Problem) and outcome.status == 502 for outcome in outcomes)
        assert len(crawl.calls) == 1
        again = await policy.feed(trending())  # the failed flight is gone, not cached
        assert (again.cache_state, ids(again)) == (CacheState.MISS, ["9"])

    run(scenario)


def test_a_caller_that_goes_away_does_not_cancel_the_crawl_the_others_wait_for() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1"))
        crawl.hold()
        policy = policy_with(crawl)
        leaving = asyncio.ensure_future(policy.feed(trending()))
        staying = asyncio.ensure_future(policy.feed(trending()))
        await crawl.started.wait()
        leaving.cancel()
        crawl.release()
        assert (await staying).cache_state is CacheState.MISS
        assert len(policy.cache) == 1

    run(scenario)


def test_with_every_slot_taken_a_new_key_is_overloaded_or_stale() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1"))
        policy = policy_with(crawl, ttl=0, max_concurrent=1)
        stale_first = await policy.feed(category("cats"))  # an answer to be stale later
        crawl.hold()
        busy = asyncio.ensure_future(policy.feed(trending()))
        await crawl.started.wait()
        with pytest.raises(problems.Problem) as raised:
            await policy.feed(category("dogs"))
        assert (raised.value.status, raised.value.code) == (503, "overloaded")
        assert raised.value.headers["Retry-After"] == "1"
        stale = await policy.feed(category("cats"))
        assert (stale.cache_state, stale.answer) == (CacheState.STALE, stale_first.answer)
        assert len(crawl.calls) == 2  # neither the overloaded nor the stale request crawled
        crawl.release()
        await busy

    run(scenario)


def test_a_shared_cache_is_read_asynchronously_and_written_instead_of_memory() -> None:
    async def scenario() -> None:
        shared = SharedFake()
        crawl = FakeCrawl(ok("1"))
        policy = policy_with(crawl, shared=shared)
        assert policy.fresh(trending()) is None  # a shared cache never answers synchronously
        miss = await policy.feed(trending())
        assert miss.cache_state is CacheState.MISS
        assert shared.exclusive_keys == [trending().key]  # one crawl per key across instances
        assert list(shared.answers) == [trending().key] and len(policy.cache) == 0
        assert (await policy.feed(trending())).cache_state is CacheState.HIT
        assert len(crawl.calls) == 1

    run(scenario)


def test_a_video_answered_by_a_feed_is_a_hit_with_no_crawl() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("7"))
        policy = policy_with(crawl)
        await policy.feed(trending())
        served = await policy.video("7")
        assert (served.cache_state, json.loads(served.answer.body)) == (CacheState.HIT, {"id": "7"})
        assert len(crawl.calls) == 1

    run(scenario)


def test_an_unknown_video_is_looked_up_once_then_a_404_from_memory() -> None:
    async def scenario() -> None:
        gone = {**FINISHED, "tiktok/error": "not_found", "tiktok/error_detail": "no such item"}
        crawl = FakeCrawl(failed(stats=gone))
        crawl.hold()
        policy = policy_with(crawl)
        callers = [asyncio.ensure_future(policy.video("123")) for _ in range(20)]
        await crawl.started.wait()
        crawl.release()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        assert all(isinstance(outcome, problems.Problem) and outcome.status == 404 for outcome in outcomes)
        assert crawl.calls == [("video", {"id": "123"})]
        with pytest.raises(problems.Problem) as remembered:
            await policy.video("123")
        assert remembered.value.headers["X-Cache"] == CacheState.HIT
        assert remembered.value.detail == "TikTok knows no such video"
        assert len(crawl.calls) == 1
        assert policy.record.last_failure is None

    run(scenario)


def test_a_private_video_is_a_404_that_says_so() -> None:
    async def scenario() -> None:
        private = {**FINISHED, "tiktok/error": "private", "tiktok/error_detail": "private item"}
        policy = policy_with(FakeCrawl(failed(stats=private)))
        with pytest.raises(problems.Problem) as raised:
            await policy.video("42")
        assert (raised.value.status, raised.value.detail) == (404, "this TikTok video is private")
        assert raised.value.headers["X-Cache"] == CacheState.MISS

    run(scenario)


def test_a_video_lookup_is_a_miss_then_a_hit() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("55"))
        policy = policy_with(crawl)
        assert (await policy.video("55")).cache_state is CacheState.MISS
        assert (await policy.video("55")).cache_state is CacheState.HIT
        assert crawl.calls == [("video", {"id": "55"})]

    run(scenario)


def test_a_video_lookup_needs_a_free_slot_and_fails_over_to_no_stale_answer() -> None:
    async def scenario() -> None:
        crawl = FakeCrawl(ok("1"))
        crawl.hold()
        policy = policy_with(crawl, max_concurrent=1)
        busy = asyncio.ensure_future(policy.feed(trending()))
        await crawl.started.wait()
        with pytest.raises(problems.Problem) as raised:
            await policy.video("99")
        assert raised.value.code == "overloaded"
        crawl.release()
        await busy

    run(scenario)


# the crawl queue (bridge.admission)


def test_misses_beyond_the_slots_wait_in_the_queue_and_are_all_served() -> None:
    async def scenario() -> None:
        crawl = GatedCrawl()
        policy = policy_with(crawl, max_concurrent=2, queued=8)
        tags = [f"tag{n}" for n in range(6)]
        callers = [asyncio.ensure_future(policy.feed(category(tag))) for tag in tags]
        await crawl.until_started(2)
        assert await queued_callers(policy, 4) == 4
        for tag in tags:
            crawl.open(tag)
        served = await asyncio.gather(*callers)
        assert [s.cache_state for s in served] == [CacheState.MISS] * 6
        assert crawl.most_at_once == 2  # never more crawls than slots
        assert sorted(crawl.started) == tags
        assert (policy.slots.running, policy.slots.waiting) == (0, 0)

    run(scenario)


def test_the_queue_takes_turns_between_clients() -> None:
    async def scenario() -> None:
        crawl = GatedCrawl()
        policy = policy_with(crawl, max_concurrent=1, queued=8)
        busy = asyncio.ensure_future(policy.feed(category("first"), "a"))
        await crawl.until_started(1)
        burst = [asyncio.ensure_future(policy.feed(category(f"a{n}"), "a")) for n in range(3)]
        await queued_callers(policy, 3)
        other = asyncio.ensure_future(policy.feed(category("b0"), "b"))
        await queued_callers(policy, 4)
        for tag in ("first", "a0", "b0", "a1", "a2"):
            crawl.open(tag)
        await asyncio.gather(busy, *burst, other)
        # b's one request came after a's three, and goes second, not fourth
        assert crawl.started == ["first", "a0", "b0", "a1", "a2"]

    run(scenario)


def test_a_full_queue_is_503_with_an_honest_retry_after() -> None:
    async def scenario() -> None:
        crawl = GatedCrawl()
        policy = policy_with(crawl, max_concurrent=1, queued=2)
        policy.slots.crawl_seconds = 1.5
        waiting = [asyncio.ensure_future(policy.feed(category(f"t{n}"))) for n in range(3)]
        await queued_callers(policy, 2)
        with pytest.raises(problems.Problem) as raised:
            await policy.feed(category("onetoomany"))
        assert (raised.value.status, raised.value.code) == (503, "overloaded")
        # two queued ahead, one slot: three rounds of 1.5 s
        assert raised.value.headers["Retry-After"] == "5"
        assert "onetoomany" not in crawl.started
        for n in range(3):
            crawl.open(f"t{n}")
        await asyncio.gather(*waiting)

    run(scenario)


def test_a_miss_gives_up_waiting_when_it_could_no_longer_be_answered_in_time() -> None:
    async def scenario() -> None:
        crawl = GatedCrawl()
        policy = policy_with(crawl, max_concurrent=1, queued=8, deadline=0.6)
        policy.slots.crawl_seconds = 0.3
        busy = asyncio.ensure_future(policy.feed(category("slow")))
        await crawl.until_started(1)
        # One round ahead fits (0.3 s wait + 0.3 s crawl), so it waits; the crawl ahead never ends.
        with pytest.raises(problems.Problem) as raised:
            await policy.feed(category("late"))
        assert raised.value.code == "overloaded"
        # Two rounds ahead would not fit the deadline at all: refused at once, no wait.
        second = asyncio.ensure_future(policy.feed(category("queued")))
        await queued_callers(policy, 1)
        with pytest.raises(problems.Problem):
            await policy.feed(category("refused"))
        assert crawl.started == ["slow"]
        crawl.open("slow")
        crawl.open("queued")
        await busy
        await second

    run(scenario)


def test_a_caller_that_leaves_the_queue_hands_its_turn_on() -> None:
    async def scenario() -> None:
        crawl = GatedCrawl()
        policy = policy_with(crawl, max_concurrent=1, queued=8)
        busy = asyncio.ensure_future(policy.feed(category("first")))
        await crawl.until_started(1)
        leaving = asyncio.ensure_future(policy.feed(category("leaving")))
        staying = asyncio.ensure_future(policy.feed(category("staying")))
        await queued_callers(policy, 2)
        leaving.cancel()
        crawl.open("first")
        crawl.open("staying")
        assert (await staying).cache_state is CacheState.MISS
        await busy
        assert "leaving" not in crawl.started
        assert (policy.slots.running, policy.slots.waiting) == (0, 0)

    run(scenario)


def test_with_every_slot_taken_a_stale_answer_is_served_at_once_rather_than_queued() -> None:
    async def scenario() -> None:
        crawl = GatedCrawl()
        crawl.open("cats")
        policy = policy_with(crawl, ttl=0, max_concurrent=1, queued=8)
        first = await policy.feed(category("cats"))
        busy = asyncio.ensure_future(policy.feed(category("slow")))
        await crawl.until_started(2)
        stale = await policy.feed(category("cats"))
        assert (stale.cache_state, stale.answer) == (CacheState.STALE, first.answer)
        assert policy.slots.waiting == 0
        crawl.open("slow")
        await busy

    run(scenario)


def test_each_caller_base_gets_its_own_play_links_and_etag_however_often_it_asks() -> None:
    from bridge.replies import answer_reply
    from tiktok_spiders.answer_keys import BASE_PLACEHOLDER

    body = f'[{{"video":{{"url":"{BASE_PLACEHOLDER}/videos/1/play"}}}}]'.encode()
    served = Served(CachedAnswer.build(body, 60), CacheState.HIT)
    replies = {
        base: [answer_reply(served, None, base, None) for _ in range(3)]
        for base in ("http://a.example", "http://b.example:8080")
    }
    for base, (first, *again) in replies.items():
        assert first.body == f'[{{"video":{{"url":"{base}/videos/1/play"}}}}]'.encode()
        assert all(
            (reply.body, reply.headers["ETag"]) == (first.body, first.headers["ETag"]) for reply in again
        )
    assert (
        replies["http://a.example"][0].headers["ETag"] != replies["http://b.example:8080"][0].headers["ETag"]
    )
    newer = Served(CachedAnswer.build(body.replace(b"/1/", b"/2/"), 60), CacheState.HIT)
    assert (
        answer_reply(newer, None, "http://a.example", None).body
        == b'[{"video":{"url":"http://a.example/videos/2/play"}}]'
    )
