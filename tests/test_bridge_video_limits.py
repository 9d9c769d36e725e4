"""No amplification through /videos: its lookups at TikTok are remembered when they find nothing,
shared when concurrent, counted by RATE_LIMIT and capped by MAX_CONCURRENT_CRAWLS like the feeds'.

Upstream calls are the emulator's own counters of ``/api/item/detail/``."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from harness import ROOT
from harness.service import ServiceProcess
from tests.test_bridge_cache import wait_until_crawling

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess
    from harness.http import Answer

DETAIL = "/api/item/detail/"
SAMPLE_SIZE = (ROOT / "emulator" / "assets" / "sample.mp4").stat().st_size


def unknown_ids(emulator: EmulatorProcess, first: int, count: int) -> list[str]:
    """Ids TikTok knows no video for: the corpus spaces its ids 104,729 apart, so any id between two is
    unknown. ``first`` keeps each test's ids its own (the shared service remembers what it was told)."""
    base = int(emulator.corpus()["unknown_item_id"])
    return [str(base + first + offset) for offset in range(count)]


def detail_calls(emulator: EmulatorProcess) -> int:
    return int(emulator.stats()["requests"][DETAIL])


def test_an_unknown_id_costs_one_upstream_call(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    warm_id, video_id = unknown_ids(emulator, 1001, 2)
    assert service.get(f"/videos/{warm_id}", timeout=30).status == 404  # the session opens before
    emulator.reset_stats()
    path = f"/videos/{video_id}"
    # slow, so that the others mostly join the first lookup's flight; the ones after it find its 404
    emulator.set_faults({"latency_ms": 1500})
    with ThreadPoolExecutor(max_workers=20) as pool:
        first_future = pool.submit(service.get, path, timeout=30)
        wait_until_crawling(service)
        concurrent = list(pool.map(lambda _: service.get(path, timeout=30), range(19)))
        first = first_future.result()
    emulator.set_faults({})
    sequential = [service.get(path) for _ in range(5)]
    answers = [first, *concurrent, *sequential]
    assert detail_calls(emulator) == 1
    assert [answer.status for answer in answers] == [404] * 25
    # the 404 from memory is the same 404 (but for each answer's own request id)
    assert {json.dumps({**answer.json(), "requestId": None}) for answer in answers} == {
        json.dumps({**first.json(), "requestId": None})
    }
    assert first.json()["code"] == "not_found"
    assert {answer.headers["content-type"] for answer in answers} == {"application/problem+json"}
    assert (first.headers["x-cache"], [answer.headers["x-cache"] for answer in sequential]) == (
        "MISS",
        ["HIT"] * 5,
    )
    # a private video's 404 is remembered the same way
    private = emulator.corpus()["private_item_ids"][1]
    answers = [service.get(f"/videos/{private}") for _ in range(3)]
    assert [answer.status for answer in answers] == [404] * 3
    assert "private" in answers[2].json()["detail"]
    assert detail_calls(emulator) == 2


def test_video_lookups_count_against_the_rate_limit(emulator: EmulatorProcess) -> None:
    # An hour's window: requests either side of a window's edge count the earlier ones as a fraction
    # (the sliding window counter), which a minute's window would let three requests straddle.
    service = ServiceProcess(emulator, RATE_LIMIT="3/hour")
    try:
        ids = unknown_ids(emulator, 2001, 11)
        answers = [service.get(f"/videos/{ids[0]}") for _ in range(3)]  # errors count too
        assert [answer.status for answer in answers] == [404] * 3
        assert [answer.headers["ratelimit-remaining"] for answer in answers] == ["2", "1", "0"]
        assert {answer.headers["ratelimit-limit"] for answer in answers} == {"3"}
        calls = detail_calls(emulator)
        # the client is at its limit: many lookups of ids never asked for reach TikTok not once
        with ThreadPoolExecutor(max_workers=10) as pool:
            limited = list(pool.map(lambda video_id: service.get(f"/videos/{video_id}"), ids[1:]))
        assert [answer.status for answer in limited] == [429] * 10
        assert {answer.json()["code"] for answer in limited} == {"rate_limited"}
        assert all(1 <= int(answer.headers["retry-after"]) <= 3600 for answer in limited)
        assert {answer.headers["ratelimit-remaining"] for answer in limited} == {"0"}
        assert detail_calls(emulator) == calls
    finally:
        service.stop()


def test_video_lookups_count_against_the_crawl_cap(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(
        emulator, MAX_CONCURRENT_CRAWLS="1", MAX_QUEUED_CRAWLS="0", UPSTREAM_TIMEOUT="30"
    )
    try:
        ids = unknown_ids(emulator, 3001, 5)
        # The first lookup stays in flight for seconds; the others arrive within milliseconds of its start.
        emulator.set_faults({"latency_ms": 4000})
        beyond_the_cap = [*(f"/videos/{video_id}" for video_id in ids[1:4]), f"/videos/{ids[4]}/play"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            first = pool.submit(service.get, f"/videos/{ids[0]}", timeout=60)
            wait_until_crawling(service)
            same_id = pool.submit(service.get, f"/videos/{ids[0]}", timeout=60)
            refused = list(pool.map(lambda path: service.get(path, timeout=60), beyond_the_cap))
            feed = service.get("/trending?count=5", timeout=60)  # feeds and lookups share the cap
            still_crawling = service.get("/health").json()["crawls"]["in_flight"]
            answers: list[Answer] = [first.result(), same_id.result()]
        assert [answer.status for answer in refused] == [503] * 4
        assert still_crawling == 1, "the first lookup ended before the others came; raise the latency"
        assert {answer.json()["code"] for answer in refused} == {"overloaded"}
        assert all(int(answer.headers["retry-after"]) >= 1 for answer in refused)
        assert (feed.status, feed.json()["code"]) == (503, "overloaded")
        assert [answer.status for answer in answers] == [404, 404]  # the same id shares the flight
        assert detail_calls(emulator) == 1
        emulator.set_faults({})
        assert service.get(f"/videos/{ids[1]}", timeout=30).status == 404  # the cap is free again
    finally:
        service.stop()


def test_play_counts_its_lookups_not_its_range_requests(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, RATE_LIMIT="4/hour")
    try:
        trending = service.get("/trending?count=5")
        assert trending.headers["ratelimit-remaining"] == "3"
        known = str(trending.json()[0]["id"])
        seen = {str(video["id"]) for video in trending.json()}
        new_a, new_b, new_c = [i for i in emulator.corpus()["playable_item_ids"] if i not in seen][:3]

        def play(video_id: str, range_header: str | None = None) -> Answer:
            headers = {"Range": range_header} if range_header else {}
            return service.get(f"/videos/{video_id}/play", headers=headers, timeout=30)

        # A player's Range requests for a video the service knows, at a known, unexpired address.
        chunks = [play(known, f"bytes={start}-{start + 99}") for start in range(0, 600, 100)]
        assert [chunk.status for chunk in chunks] == [206] * 6
        assert not any("ratelimit-remaining" in chunk.headers for chunk in chunks)
        # A play that must ask TikTok for the video: counted.
        looked_up = play(new_a)
        assert (looked_up.status, looked_up.headers["ratelimit-remaining"]) == (200, "2")
        # A play whose address the CDN refuses (expired by TikTok's clock): counted once.
        emulator.set_clock_offset(3 * 86400)
        refreshed = play(known)
        assert (refreshed.status, refreshed.headers["ratelimit-remaining"]) == (200, "1")
        assert emulator.stats()["cdn_refused"] == {"expired": 1}
        assert play(new_b).headers["ratelimit-remaining"] == "0"
        calls = detail_calls(emulator)
        limited = play(new_c)
        assert (limited.status, limited.json()["code"]) == (429, "rate_limited")
        assert detail_calls(emulator) == calls  # refused before asking TikTok
        # The client is at its limit, and the video it plays still plays.
        chunk = play(known, "bytes=0-99")
        assert (chunk.status, chunk.headers["content-range"]) == (206, f"bytes 0-99/{SAMPLE_SIZE}")
    finally:
        service.stop()
