"""``GET /search``: matching videos, Link paging, any language, no matches, cache keys, errors, limits.

The shared ``service`` caches across tests, so each test uses its own queries and counts.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

import pytest

from harness.service import ServiceProcess
from tests.test_bridge_routes import PROBLEM_KEYS, videos_of

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

SEARCH = "/api/search/item/full/"


def mentions(video: dict[str, Any], query: str) -> bool:
    author = video["author"]
    text = f"{video['description']} {author['nickname'] or ''} {author['uniqueId']}"
    text = unicodedata.normalize("NFC", text).casefold()
    return any(word in text for word in unicodedata.normalize("NFC", query).casefold().split())


def test_search_answers_matching_videos_with_a_next_link(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    answer = service.get("/search?q=pasta&count=9")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.headers["x-cache"] == "MISS"
    videos = videos_of(answer.body)
    assert len(videos) == 9
    assert len({video["id"] for video in videos}) == 9
    assert all(mentions(video, "pasta") for video in videos)
    assert all(str(video["video"]["url"]).startswith(service.base_url + "/videos/") for video in videos)  # type: ignore[index]
    link = answer.headers["link"]
    assert link.startswith("</search?q=pasta&count=9&cursor=")
    assert link.endswith('>; rel="next"')
    next_page = service.get(link[1 : link.index(">")])
    assert next_page.status == 200
    later = videos_of(next_page.body)
    assert len(later) == 9
    assert not {v["id"] for v in videos} & {v["id"] for v in later}
    assert emulator.stats()["requests"][SEARCH] == 2


def test_default_count_is_30(service: ServiceProcess) -> None:
    answer = service.get("/search?q=pizza")
    assert len(videos_of(answer.body)) == 30
    assert "&count=30&cursor=" in answer.headers["link"]


@pytest.mark.parametrize(
    ("raw", "query"),
    [
        ("%E6%8B%89%E9%9D%A2", "拉面"),
        ("caf%C3%A9+au+lait", "café au lait"),
        ("cafe%CC%81%20AU%20lait", "café au lait"),  # NFD from some browsers, other case
        ("%EA%B9%80%EC%B9%98", "김치"),
        ("%D9%83%D8%A8%D8%B3%D8%A9", "كبسة"),
    ],
)
def test_any_language(service: ServiceProcess, raw: str, query: str) -> None:
    answer = service.get(f"/search?q={raw}&count=4")
    assert answer.status == 200
    videos = videos_of(answer.body)
    assert len(videos) == 4
    assert all(mentions(video, query) for video in videos)


def test_link_keeps_a_query_with_spaces_and_unicode(service: ServiceProcess) -> None:
    answer = service.get("/search?q=pasta%20%20carbonara&count=3")
    link = answer.headers["link"]
    assert link.startswith("</search?q=pasta+carbonara&count=3&cursor=")
    assert service.get(link[1 : link.index(">")]).status == 200
    unicode_link = service.get("/search?q=%E6%8B%89%E9%9D%A2&count=3").headers["link"]
    assert unicode_link.startswith("</search?q=%E6%8B%89%E9%9D%A2&count=3&cursor=")


def test_a_query_that_matches_nothing_is_200_and_an_empty_array(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    answer = service.get("/search?q=qqzzxx%20matches%20nothing&count=5")
    assert answer.status == 200
    assert answer.body == b"[]"
    assert "link" not in answer.headers
    assert answer.headers["x-cache"] == "MISS"
    again = service.get("/search?q=qqzzxx%20matches%20nothing&count=5")
    assert (again.status, again.body, again.headers["x-cache"]) == (200, b"[]", "HIT")
    assert emulator.stats()["requests"][SEARCH] == 1


def test_cache_keys_fold_case_and_whitespace(service: ServiceProcess, emulator: EmulatorProcess) -> None:
    first = service.get("/search?q=kitten%20zoomies&count=6")
    assert first.headers["x-cache"] == "MISS"
    for spelling in ("Kitten+Zoomies", "%20%20KITTEN%20%20zoomies%20", "kitten%09zoomies"):
        again = service.get(f"/search?q={spelling}&count=6")
        assert again.headers["x-cache"] == "HIT", spelling
        assert again.body == first.body
    assert service.get("/search?q=kitten%20zoomies&count=7").headers["x-cache"] == "MISS"
    assert emulator.stats()["requests"][SEARCH] == 2


def test_if_none_match_gets_304(service: ServiceProcess) -> None:
    first = service.get("/search?q=sushi&count=5")
    again = service.get("/search?q=sushi&count=5", headers={"If-None-Match": first.headers["etag"]})
    assert (again.status, again.body) == (304, b"")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("/search", "q"),
        ("/search?count=5", "q"),
        ("/search?q=", "q"),
        ("/search?q=%20%20%09", "q"),
        ("/search?q=" + "x" * 201, "q"),
        ("/search?q=a%01b", "q"),
        ("/search?q=pasta&q=pizza", "q"),
        ("/search?q=pasta&count=0", "count"),
        ("/search?q=pasta&count=101", "count"),
        ("/search?q=pasta&cursor=-1", "cursor"),
        ("/search?q=pasta&cursor=x", "cursor"),
        ("/search?q=pasta&hashtag=food", "hashtag"),
        ("/search?q=%FF", "query"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    service: ServiceProcess, query: str, parameter: str
) -> None:
    answer = service.get(query)
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert set(problem) >= PROBLEM_KEYS
    assert (problem["code"], problem["parameter"]) == ("invalid_parameter", parameter)


def test_a_query_of_200_characters_is_fine(service: ServiceProcess) -> None:
    query = "pasta " * 32 + "carbonar"
    assert len(query) == 200
    answer = service.get("/search?q=%20%20" + query.replace(" ", "%20%20") + "%20&count=2")  # spaces folded
    assert answer.status == 200
    assert len(videos_of(answer.body)) == 2


@pytest.mark.parametrize(
    ("faults", "code", "count"),
    [({"empty_body": 1.0}, "upstream_blocked", 31), ({"http_5xx": 1.0}, "upstream_error", 32)],
)
def test_upstream_failures_are_502_problems(
    service: ServiceProcess, emulator: EmulatorProcess, faults: dict[str, Any], code: str, count: int
) -> None:
    emulator.set_faults(faults)
    # the shared service's deadline (120 s) is far above the retries, and the client waits longer
    answer = service.get(f"/search?q=burger&count={count}", timeout=150)
    assert answer.status == 502
    assert answer.json()["code"] == code
    emulator.set_faults({})
    assert service.get(f"/search?q=burger&count={count}", timeout=150).status == 200


def test_openapi_describes_search(service: ServiceProcess) -> None:
    operation = service.get("/openapi.json").json()["paths"]["/search"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"q", "count", "cursor"}
    assert parameters["q"]["required"] is True
    assert parameters["q"]["schema"]["maxLength"] == 200
    assert "404" not in operation["responses"]
    assert "Link" in operation["responses"]["200"]["headers"]
    assert "empty array" in operation["responses"]["200"]["description"]


def test_stale_answer_when_tiktok_fails(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, CACHE_TTL_HASHTAG="0", CACHE_STALE_MAX="3600")
    try:
        fresh = service.get("/search?q=tacos&count=5")
        assert (fresh.status, fresh.headers["x-cache"]) == (200, "MISS")
        emulator.set_faults({"empty_body": 1.0})
        stale = service.get("/search?q=TACOS&count=5", timeout=30)
        assert (stale.status, stale.headers["x-cache"]) == (200, "STALE")
        assert stale.body == fresh.body
        # The next page of the same answer, in the caller's own spelling of the query.
        assert stale.headers["link"] == fresh.headers["link"].replace("tacos", "TACOS")
    finally:
        service.stop()


def test_rate_limit_counts_search(emulator: EmulatorProcess) -> None:
    service = ServiceProcess(emulator, RATE_LIMIT="2/minute")
    try:
        statuses = [service.get("/search?q=%20%20%20").status, service.get("/search?q=curry&count=2").status]
        assert statuses == [400, 200]  # errors count too
        limited = service.get("/search?q=curry&count=2")
        assert limited.status == 429
        assert limited.json()["code"] == "rate_limited"
        assert service.get("/health").status == 200
    finally:
        service.stop()
