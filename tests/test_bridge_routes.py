"""The HTTP routes against the real service process and the emulator: answers, parameters, lock-down."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import jsonschema
import pytest

from bridge.openapi import VIDEO_SCHEMA, openapi_document
from harness import ROOT
from harness.http import http_request
from harness.service import ServiceProcess

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def videos_of(body: bytes) -> list[dict[str, object]]:
    videos = json.loads(body)
    assert isinstance(videos, list)
    for video in videos:
        jsonschema.validate(video, VIDEO_SCHEMA)
    return videos


def test_trending_answers_count_distinct_videos(service: ServiceProcess) -> None:
    answer = service.get("/trending?count=7")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    videos = videos_of(answer.body)
    assert len(videos) == 7
    assert len({video["id"] for video in videos}) == 7
    assert answer.headers["x-cache"] == "MISS"
    assert "access-control-allow-origin" not in answer.headers


def test_trending_default_count_is_30(service: ServiceProcess) -> None:
    assert len(videos_of(service.get("/trending").body)) == 30


def test_category_answers_tagged_videos_with_a_next_link(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    answer = service.get("/category?hashtag=food&count=9&cursor=0")
    assert answer.status == 200
    videos = videos_of(answer.body)
    assert len(videos) == 9
    assert all(any(tag["title"] == "food" for tag in video["hashtags"]) for video in videos)  # type: ignore[attr-defined]
    link = answer.headers["link"]
    assert link.startswith("</category?hashtag=food&count=9&cursor=")
    assert link.endswith('>; rel="next"')
    next_page = service.get(link[1 : link.index(">")])
    assert next_page.status == 200
    assert not {v["id"] for v in videos} & {v["id"] for v in videos_of(next_page.body)}


@pytest.mark.parametrize("hashtag", ["%E7%BE%8E%E9%A3%9F", "caf%C3%A9", "%23Caf%C3%A9"])
def test_unicode_hashtags(service: ServiceProcess, hashtag: str) -> None:
    answer = service.get(f"/category?hashtag={hashtag}&count=4")
    assert answer.status == 200
    assert len(videos_of(answer.body)) == 4


def test_unknown_hashtag_is_404(service: ServiceProcess) -> None:
    answer = service.get("/category?hashtag=nosuchhashtagatall")
    assert answer.status == 404
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert set(problem) >= PROBLEM_KEYS
    assert (problem["status"], problem["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("/trending?count=0", "count"),
        ("/trending?count=101", "count"),
        ("/trending?count=abc", "count"),
        ("/trending?count=", "count"),  # empty is a mistake, as hashtag= is; absent is the default
        ("/category?hashtag=food&count=", "count"),
        ("/category?hashtag=food&cursor=", "cursor"),
        ("/search?q=pasta&cursor=", "cursor"),
        ("/trending?count=1&count=2", "count"),
        ("/trending?colour=red", "colour"),
        ("/category", "hashtag"),
        ("/category?hashtag=", "hashtag"),
        ("/category?hashtag=a%20b", "hashtag"),
        ("/category?hashtag=" + "x" * 101, "hashtag"),
        ("/category?hashtag=food&cursor=-1", "cursor"),
        ("/category?hashtag=%FF", "query"),
        ("/trending?" + "a" * 5000, "query"),
        ("/health?verbose=1", "verbose"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    service: ServiceProcess, query: str, parameter: str
) -> None:
    answer = service.get(query)
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert (problem["code"], problem["parameter"]) == ("invalid_parameter", parameter)
    assert problem["detail"].startswith(parameter)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(service: ServiceProcess, method: str) -> None:
    answer = service.get("/trending", method=method, body=b"{}")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, HEAD"
    assert answer.json()["code"] == "method_not_allowed"


def test_head_has_the_headers_and_no_body(service: ServiceProcess) -> None:
    get = service.get("/trending?count=6")
    head = service.get("/trending?count=6", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.body))


@pytest.mark.parametrize(
    "path",
    [
        "/crawl.json?spider_name=trending&url=http://127.0.0.1:9/",
        "/crawl.json",
        "/admin",
        "/trending/x",
        "/x/",
        # one spelling per route: a trailing slash is another path
        "/trending/",
        "/category/?hashtag=food",
        "/search/?q=pasta",
        "/health/",
        "/openapi.json/",
        "/videos/",
        "/videos//play",
        "//",
    ],
)
def test_no_generic_crawl_endpoint_and_no_other_paths(service: ServiceProcess, path: str) -> None:
    answer = service.get(path)
    assert answer.status == 404
    assert answer.json()["code"] == "not_found"


@pytest.mark.parametrize("suffix", ["/", "/play/"])
def test_video_routes_with_a_trailing_slash_are_404(
    service: ServiceProcess, emulator: EmulatorProcess, suffix: str
) -> None:
    video_id = emulator.corpus()["playable_item_ids"][0]  # a video TikTok has: only the path is wrong
    answer = service.get(f"/videos/{video_id}{suffix}")
    assert answer.status == 404
    assert answer.json()["code"] == "not_found"
    assert emulator.stats()["requests"]["/api/item/detail/"] == 0  # refused before any lookup


def test_home_page(service: ServiceProcess) -> None:
    answer = service.get("/")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert b"/trending?count=" in answer.body  # the page asks the service for its feeds


def test_health(service: ServiceProcess) -> None:
    service.get("/trending?count=3")
    answer = service.get("/health")
    assert answer.status == 200
    health = answer.json()
    assert health["status"] in ("ok", "degraded")
    assert health["browser"]["running"] is True
    assert health["browser"]["launches"] == 1
    assert health["sessions"]["open"] == 1
    assert health["strategy"] == "api"
    assert health["breaker"]["state"] == "closed"
    assert health["cache"]["backend"] == "memory"


def test_openapi_document_describes_every_route(service: ServiceProcess) -> None:
    answer = service.get("/openapi.json")
    assert answer.status == 200
    document = answer.json()
    assert document == json.loads(json.dumps(openapi_document()))
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/trending",
        "/category",
        "/search",
        "/search/users",
        "/users/{uniqueId}",
        "/users/{uniqueId}/videos",
        "/videos/{video}/comments",
        "/videos/{video}/comments/{comment}/replies",
        "/videos/{video}/related",
        "/music/{id}",
        "/music/{id}/videos",
        "/videos/{id}",
        "/videos/{id}/play",
        "/health",
        "/metrics",
        "/openapi.json",
        "/",
    }
    for schema in ("Video", "Creator", "Comment", "Sound"):
        jsonschema.Draft202012Validator.check_schema(document["components"]["schemas"][schema])
    parameters = {p["name"] for p in document["paths"]["/category"]["get"]["parameters"]}
    assert parameters == {"hashtag", "count", "cursor"}


def test_cors_only_when_configured(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, CORS_ORIGINS="https://app.example.org")
    try:
        allowed = service.get("/health", headers={"Origin": "https://app.example.org"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
        other = service.get("/health", headers={"Origin": "https://evil.example.org"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        service.stop()


def test_bad_configuration_stops_with_one_line(emulator: EmulatorProcess) -> None:
    with pytest.raises(RuntimeError) as raised:
        ServiceProcess(emulator, RATE_LIMIT="lots", start_timeout=20)
    assert str(raised.value).endswith(
        "(exit 2): configuration error: RATE_LIMIT: not a rate like 120/minute: 'lots'\n"
    )


def _run_bridge(emulator: EmulatorProcess, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TIKTOK_BASE_URL": emulator.base_url, "RATE_LIMIT": "off", **env}
    return subprocess.run(
        [sys.executable, "-m", "bridge"], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_a_port_in_use_is_one_line_and_exit_2(emulator: EmulatorProcess) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_bridge(emulator, HOST="127.0.0.1", PORT=str(port))
    assert result.returncode == 2
    assert result.stderr == f"error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert result.stdout == ""


def test_an_address_that_is_not_ours_is_one_line_and_exit_2(emulator: EmulatorProcess) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: bind refuses it locally, nothing is sent.
    result = _run_bridge(emulator, HOST="192.0.2.1", PORT="0")
    assert result.returncode == 2
    assert result.stderr == "error: cannot listen on 192.0.2.1:0: cannot assign requested address\n"


def test_a_host_name_that_does_not_resolve_is_one_line() -> None:
    # What HOST=not.a.host gets, without asking a resolver: the error Twisted raises for it.
    from twisted.internet.error import CannotListenError

    from bridge.__main__ import cannot_listen

    error = CannotListenError("not.a.host", 5000, socket.gaierror(-2, "Name or service not known"))  # type: ignore[no-untyped-call]
    assert cannot_listen(error) == "cannot listen on not.a.host:5000: name or service not known"
    in_use = CannotListenError("::1", 5000, OSError(98, "Address already in use"))  # type: ignore[no-untyped-call]
    assert cannot_listen(in_use) == "cannot listen on [::1]:5000: address already in use"


def test_access_log_has_one_line_per_request_and_no_secrets(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, UPSTREAM_TIMEOUT="120")  # a 200 however slow the first crawl
    try:
        service.get("/trending?count=2", timeout=150)
        service.get("/trending?count=2")
        service.get("/trending?count=0")
        log = service.log()
    finally:
        service.stop()
    access = [line for line in log.splitlines() if "bridge.access" in line]
    assert len(access) == 3
    assert "GET /trending?count=2 200" in access[0]
    assert access[0].endswith("MISS")
    assert access[1].endswith("HIT")
    assert "GET /trending?count=0 400" in access[2]
    for secret_name in ("msToken", "ttwid", "tt_chain_token", "X-Bogus", "Traceback"):
        assert secret_name not in log
    assert http_request(emulator.base_url + "/__emulator__/stats").status == 200
