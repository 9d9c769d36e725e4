"""/videos/{id} and the play proxy /videos/{id}/play against the emulator's CDN."""

from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema
import pytest

from bridge.openapi import VIDEO_SCHEMA
from harness import ROOT
from harness.service import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

    from harness.emulator import EmulatorProcess

SAMPLE = (ROOT / "emulator" / "assets" / "sample.mp4").read_bytes()
DETAIL = "/api/item/detail/"


def trending_id(service: ServiceProcess, count: int) -> str:
    videos = service.get(f"/trending?count={count}").json()
    return str(videos[0]["id"])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_video_objects_link_to_this_service(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    video = service.get("/trending?count=18").json()[0]
    assert video["video"]["url"] == f"{service.base_url}/videos/{video['id']}/play"
    assert video["video"]["sourceUrl"].startswith(emulator.base_url + "/video/")
    as_seen_through_a_proxy = service.get("/trending?count=18", headers={"Host": "videos.example.org:8080"})
    first = as_seen_through_a_proxy.json()[0]
    assert first["video"]["url"] == f"http://videos.example.org:8080/videos/{video['id']}/play"
    assert as_seen_through_a_proxy.headers["etag"] != service.get("/trending?count=18").headers["etag"]


def test_one_video_from_what_the_service_has_seen(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    video_id = trending_id(service, 19)
    answer = service.get(f"/videos/{video_id}")
    assert answer.status == 200
    assert answer.headers["x-cache"] == "HIT"
    jsonschema.validate(answer.json(), VIDEO_SCHEMA)
    assert answer.json()["id"] == video_id
    assert emulator.stats()["requests"][DETAIL] == 0


def test_one_video_looked_up_at_tiktok(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator)  # its own: the shared one may have seen this video already
    try:
        video_id = emulator.corpus()["playable_item_ids"][3]
        first = service.get(f"/videos/{video_id}")
        assert (first.status, first.headers["x-cache"]) == (200, "MISS")
        assert first.json()["id"] == video_id
        again = service.get(f"/videos/{video_id}")
        assert again.headers["x-cache"] == "HIT"
        assert emulator.stats()["requests"][DETAIL] == 1
    finally:
        service.stop()


def test_unknown_and_private_videos_are_404(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    corpus = emulator.corpus()
    unknown = service.get(f"/videos/{corpus['unknown_item_id']}")
    assert (unknown.status, unknown.json()["code"]) == (404, "not_found")
    private = service.get(f"/videos/{corpus['private_item_ids'][0]}/play")
    assert private.status == 404
    assert "private" in private.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/videos/abc", 400),
        ("/videos/0", 400),
        ("/videos/12345678901234567890", 400),
        ("/videos/-1/play", 400),
        ("/videos/123/download", 404),
        ("/videos/123/play/more", 404),
        ("/videos", 404),
    ],
)
def test_malformed_video_routes(service: ServiceProcess, path: str, status: int) -> None:
    answer = service.get(path)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/problem+json"


def test_play_streams_the_whole_file(service: ServiceProcess) -> None:
    answer = service.get(f"/videos/{trending_id(service, 20)}/play")
    assert answer.status == 200
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["content-length"] == str(len(SAMPLE))
    assert answer.body == SAMPLE


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=100-1099", 100, 1099), ("bytes=-64", len(SAMPLE) - 64, len(SAMPLE) - 1)],
)
def test_play_honours_range(service: ServiceProcess, range_header: str, start: int, end: int) -> None:
    answer = service.get(f"/videos/{trending_id(service, 20)}/play", headers={"Range": range_header})
    assert answer.status == 206
    assert answer.headers["content-range"] == f"bytes {start}-{end}/{len(SAMPLE)}"
    assert answer.body == SAMPLE[start : end + 1]


def test_play_range_past_the_end_is_416(service: ServiceProcess) -> None:
    answer = service.get(f"/videos/{trending_id(service, 20)}/play", headers={"Range": "bytes=99999999-"})
    assert answer.status == 416


def test_play_head_has_headers_and_no_body(service: ServiceProcess) -> None:
    answer = service.get(f"/videos/{trending_id(service, 20)}/play", method="HEAD")
    assert answer.status == 200
    assert answer.headers["content-length"] == str(len(SAMPLE))
    assert answer.body == b""


def test_expired_play_address_is_resolved_again(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    video_id = trending_id(service, 25)
    assert service.get(f"/videos/{video_id}/play").body == SAMPLE
    emulator.set_clock_offset(3 * 86400)  # TikTok's play addresses live about two days
    again = service.get(f"/videos/{video_id}/play", timeout=30)
    assert again.status == 200
    assert again.body == SAMPLE
    stats = emulator.stats()
    assert stats["cdn_refused"] == {"expired": 1}
    assert stats["requests"][DETAIL] >= 1


def test_cdn_refusal_that_cannot_be_resolved_is_502(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    video_id = trending_id(service, 26)
    emulator.set_clock_offset(3 * 86400)
    emulator.set_faults({"empty_body": 1.0})  # and TikTok will not name a fresh address
    answer = service.get(f"/videos/{video_id}/play", timeout=150)  # past the shared 120 s deadline
    assert answer.status == 502
    assert answer.json()["code"] == "upstream_blocked"


def test_memory_stays_flat_while_twenty_clients_stream(service: ServiceProcess) -> None:
    video_id = trending_id(service, 27)
    path = f"/videos/{video_id}/play"
    service.get(path)
    before = rss_kib(service.proc.pid)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: service.get(path, timeout=30), range(200)))
    assert all(answer.body == SAMPLE for answer in answers)
    assert rss_kib(service.proc.pid) - before < 20 * 1024  # far less than 200 files' worth would be


@pytest.fixture(scope="module")
def short_deadline(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    """A service whose deadline (2 s) is far below how long the emulator's CDN stalls (60 s)."""
    service = ServiceProcess(emulator_server, UPSTREAM_TIMEOUT="2", BREAKER_THRESHOLD="0")
    try:
        # The first answers open the browser and a session, which can take longer than 2 s on a
        # loaded machine (a 504, the crawl going on): bounded retries until the feed is cached.
        for _ in range(15):
            if service.get("/trending?count=20", timeout=30).status == 200:
                break
        yield service
    finally:
        service.stop()


def test_a_cdn_that_never_answers_is_504_at_the_deadline(
    short_deadline: ServiceProcess, emulator: EmulatorProcess
) -> None:
    path = f"/videos/{trending_id(short_deadline, 20)}/play"
    emulator.set_faults({"cdn_stall": 1.0})  # no status line, for 60 s
    answer = short_deadline.get(path, timeout=30)
    assert answer.status == 504
    assert answer.json()["code"] == "upstream_timeout"
    assert emulator.stats()["faults_injected"]["cdn_stall"] >= 1
    emulator.set_faults({})
    assert short_deadline.get(path).body == SAMPLE  # the next caller gets the whole file


def test_a_cdn_that_stops_mid_file_cuts_the_answer(
    short_deadline: ServiceProcess, emulator: EmulatorProcess
) -> None:
    path = f"/videos/{trending_id(short_deadline, 20)}/play"
    emulator.set_faults({"cdn_stall": {"next": 1, "after_bytes": 1000}})  # then silence for 60 s
    port = int(short_deadline.base_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["content-length"] == str(len(SAMPLE))
        with pytest.raises(http.client.IncompleteRead) as cut:  # never passed off as the whole file
            response.read()
        assert cut.value.partial == SAMPLE[:1000]
    finally:
        conn.close()
    assert "CDN sent nothing for 2 s" in short_deadline.log()
    assert short_deadline.get(path).body == SAMPLE
