"""nginx (the repository's deploy/nginx.conf) in front of two bridge instances sharing Redis: the client
address is forwarded (TRUSTED_PROXIES), the rate limit holds across instances, both instances serve."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from harness.deploy import NginxProcess
from harness.service import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from harness.deploy import RedisProcess
    from harness.emulator import EmulatorProcess


@pytest.fixture
def front(
    emulator: EmulatorProcess, redis_server: RedisProcess, tmp_path: Path
) -> Iterator[tuple[NginxProcess, list[ServiceProcess]]]:
    services: list[ServiceProcess] = []
    try:
        for _ in range(2):
            services.append(
                ServiceProcess(
                    emulator, CACHE_URL=redis_server.url, TRUSTED_PROXIES="127.0.0.1", RATE_LIMIT="3/minute"
                )
            )
        nginx = NginxProcess(tmp_path / "nginx", [service.base_url for service in services])
        try:
            yield nginx, services
        finally:
            nginx.stop()
    finally:
        for service in services:
            service.stop()


def test_rate_limit_is_per_forwarded_client_and_shared_by_the_instances(
    front: tuple[NginxProcess, list[ServiceProcess]],
) -> None:
    nginx, services = front
    alice = {"X-Forwarded-For": "203.0.113.7"}
    statuses = [nginx.get("/trending?count=5", headers=alice).status for _ in range(4)]
    # nginx alternates between the instances: each alone would have let 3 + 3 through
    assert statuses == [200, 200, 200, 429]
    assert nginx.get("/trending?count=5", headers={"X-Forwarded-For": "198.51.100.4"}).status == 200
    assert all("GET /trending?count=5" in service.log() for service in services)


def test_answers_through_nginx_link_to_the_address_the_client_used(
    front: tuple[NginxProcess, list[ServiceProcess]],
) -> None:
    nginx, _services = front
    answer = nginx.get("/trending?count=5")
    assert answer.status == 200
    assert all(video["video"]["url"].startswith(nginx.base_url + "/videos/") for video in answer.json())
    assert nginx.get("/health").json()["cache"]["backend"] == "redis"
