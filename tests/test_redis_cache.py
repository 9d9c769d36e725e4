"""Two bridge instances sharing one Redis (CACHE_URL=redis://...): one cache, one crawl per key, and a
service that keeps answering from memory when Redis goes away."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from harness.service import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

    from harness.deploy import RedisProcess
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"
ITEMS = "/api/challenge/item_list/"


@pytest.fixture
def pair(
    emulator: EmulatorProcess, redis_server: RedisProcess
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    first = ServiceProcess(emulator, CACHE_URL=redis_server.url)
    try:
        second = ServiceProcess(emulator, CACHE_URL=redis_server.url)
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def without_base(body: bytes, service: ServiceProcess) -> bytes:
    return body.replace(service.base_url.encode(), b"BASE")


def test_a_miss_on_one_instance_is_a_hit_on_the_other(
    pair: tuple[ServiceProcess, ServiceProcess], emulator: EmulatorProcess
) -> None:
    first, second = pair
    miss = first.get("/trending?count=7")
    calls = emulator.stats()["requests"][RECOMMEND]
    hit = second.get("/trending?count=7")
    assert (miss.status, miss.headers["x-cache"]) == (200, "MISS")
    assert (hit.status, hit.headers["x-cache"]) == (200, "HIT")
    # The same answer, each with its own instance's play links.
    assert without_base(hit.body, second) == without_base(miss.body, first)
    assert all(video["video"]["url"].startswith(second.base_url) for video in hit.json())
    assert emulator.stats()["requests"][RECOMMEND] == calls
    assert second.get("/health").json()["cache"]["backend"] == "redis"


def test_concurrent_identical_misses_across_instances_cause_one_upstream_fetch(
    pair: tuple[ServiceProcess, ServiceProcess], emulator: EmulatorProcess
) -> None:
    emulator.set_faults({"latency_ms": 500})  # keep the crawl in flight while the others arrive
    services = [pair[index % 2] for index in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda service: service.get("/category?hashtag=food&count=6", timeout=30), services)
        )
    assert [answer.status for answer in answers] == [200] * 20
    assert (
        len({without_base(answer.body, service) for answer, service in zip(answers, services, strict=True)})
        == 1
    )
    assert emulator.stats()["requests"][ITEMS] == 1


def test_redis_stopped_mid_run_degrades_to_memory_with_one_warning(
    emulator: EmulatorProcess, redis_server: RedisProcess
) -> None:
    service = ServiceProcess(emulator, CACHE_URL=redis_server.url, RATE_LIMIT="1000/minute")
    try:
        assert service.get("/trending?count=5").status == 200
        assert service.get("/health").json()["cache"]["backend"] == "redis"
        redis_server.stop()
        answers = [service.get("/category?hashtag=food&count=5") for _ in range(3)]
        answers += [service.get("/trending?count=8") for _ in range(3)]
        assert [answer.status for answer in answers] == [200] * 6
        assert [answer.headers["x-cache"] for answer in answers] == ["MISS", "HIT", "HIT"] * 2
        assert "ratelimit-remaining" in answers[-1].headers  # counted in memory meanwhile
        assert service.get("/health").json()["cache"]["backend"] == "memory (redis unreachable)"
        log = service.log()
        assert len(re.findall(r"WARNING .*redis unreachable", log)) == 1, log[-3000:]
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    finally:
        service.stop()
