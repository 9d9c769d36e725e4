"""Each fault, set at run time through the admin API (and at start through the CLI)."""

from __future__ import annotations

import http.client
import json
import time
from typing import TYPE_CHECKING, Any, cast

import pytest

from emulator.api import ENDPOINTS
from emulator.faults import SNAKE_CASE_ROUTES, FaultConfig, Faults, parse_cli_fault
from harness.emulator import EmulatorProcess
from harness.http import http_request
from harness.script_session import ScriptSession

if TYPE_CHECKING:
    from collections.abc import Iterator

RECOMMEND = "/api/recommend/item_list/"
DETAIL = "/api/challenge/detail/"
PARAMS = {"from_page": "fyp", "count": "30"}


def _ok(session: ScriptSession) -> bool:
    answer = session.get(RECOMMEND, PARAMS)
    return answer.status == 200 and json.loads(answer.body or b"{}").get("statusCode") == 0


def test_empty_body(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"empty_body": 1.0})
    answer = script_session.get(RECOMMEND, PARAMS)
    assert (answer.status, answer.body) == (200, b"")
    assert emulator.stats()["faults_injected"] == {"empty_body": 1}


def test_captcha_next_n_then_normal(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"captcha": {"next": 2}})
    for _ in range(2):
        data = script_session.api(RECOMMEND, PARAMS)
        assert data["statusCode"] == 10000
        assert data["verifyConfig"]["type"] == "verify"
    assert _ok(script_session)
    assert emulator.faults()["captcha"]["next"] == 0
    assert emulator.stats()["faults_injected"] == {"captcha": 2}


def test_http_429(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"http_429": {"rate": 1.0, "retry_after": 7}})
    answer = script_session.get(RECOMMEND, PARAMS)
    assert answer.status == 429
    assert answer.headers["retry-after"] == "7"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx(emulator: EmulatorProcess, script_session: ScriptSession, status: int) -> None:
    emulator.set_faults({"http_5xx": {"next": 1, "status": status}})
    assert script_session.get(RECOMMEND, PARAMS).status == status
    assert _ok(script_session)


def test_malformed_json(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"malformed_json": 1.0})
    answer = script_session.get(RECOMMEND, PARAMS)
    assert answer.status == 200
    assert answer.body
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.body)


def test_truncated(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"truncated": 1.0})
    with pytest.raises(http.client.IncompleteRead):
        script_session.get(RECOMMEND, PARAMS)


def test_reset(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"reset": 1.0})
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        script_session.get(RECOMMEND, PARAMS)
    emulator.set_faults({})
    assert _ok(script_session)


def test_slow_drip_delivers_the_whole_body_slowly(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    emulator.set_faults({"slow_drip": {"rate": 1.0, "duration_ms": 400}})
    started = time.monotonic()
    data = script_session.api(RECOMMEND, PARAMS)
    assert time.monotonic() - started >= 0.35
    assert len(data["itemList"]) == 30


def test_slow_drip_defeats_a_per_read_timeout(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    # Each piece arrives well within the socket timeout, so only an overall deadline catches it.
    emulator.set_faults({"slow_drip": {"rate": 1.0, "duration_ms": 1000}})
    started = time.monotonic()
    answer = script_session.get(RECOMMEND, PARAMS, timeout=0.3)
    assert time.monotonic() - started >= 0.9
    assert len(answer.json()["itemList"]) == 30


USER = "/api/user/detail/"
POSTS = "/api/post/item_list/"
COMMENTS = "/api/comment/list/"


def test_soft_failure_of_user_detail_is_an_empty_profile(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    """TikTok's soft failure of ``user.info`` since December 2024: a success with nothing in it."""
    emulator.set_faults({"soft_failure": {"next": 2, "routes": [USER]}})
    assert _ok(script_session)  # a rule naming a route leaves the others alone
    for _ in range(2):
        answer = script_session.api(USER, {"uniqueId": "creator_0"})
        assert (answer["statusCode"], answer["status_code"]) == (0, 0)
        assert answer["userInfo"] == {"user": {}, "stats": {}}
        assert "shareMeta" not in answer
    assert script_session.api(USER, {"uniqueId": "creator_0"})["userInfo"]["user"]["uniqueId"] == "creator_0"
    assert emulator.faults()["soft_failure"] == {"rate": 0.0, "next": 0, "routes": [USER]}
    stats = emulator.stats()
    assert stats["faults_injected"] == {"soft_failure": 2}
    assert stats["api_ok"] == {RECOMMEND: 1, USER: 1}


def test_soft_failure_elsewhere_is_status_minus_one_in_the_route_s_envelope(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    emulator.set_faults({"soft_failure": 1.0})
    creator = next(c for c in emulator.corpus()["creators"] if c["uniqueId"] == "creator_0")
    for route, params, data in (
        (RECOMMEND, PARAMS, "itemList"),
        (POSTS, {"secUid": creator["secUid"], "count": "30", "cursor": "0"}, "itemList"),
    ):
        answer = script_session.api(route, params)
        assert (answer["statusCode"], answer["status_code"]) == (-1, -1)
        assert set(answer) == {"extra", "log_pb", "statusCode", "statusMsg", "status_code", "status_msg"}
        assert data not in answer
    video = emulator.corpus()["playable_item_ids"][3]
    snake = script_session.api(COMMENTS, {"aweme_id": video, "count": "20", "cursor": "0"})
    assert set(snake) == {"extra", "log_pb", "status_code", "status_msg"}
    assert snake["status_code"] == -1
    assert emulator.stats()["faults_injected"] == {"soft_failure": 3}


def test_snake_case_routes_are_the_ones_answering_without_status_code(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    """``SNAKE_CASE_ROUTES`` (the soft failure's envelope) agrees with what each route answers."""
    for route in ENDPOINTS:
        answer = script_session.api(route, {})  # an error or a page: in the route's envelope either way
        assert ("statusCode" not in answer) == (route in SNAKE_CASE_ROUTES), route
        assert "status_code" in answer, route


def test_soft_failure_from_the_command_line_options() -> None:
    assert parse_cli_fault("soft_failure=next:2") == ("soft_failure", {"next": 2})
    config = FaultConfig.from_json({"soft_failure": {"next": 2, "routes": [USER]}})
    assert config.to_json()["soft_failure"] == {"rate": 0.0, "next": 2, "routes": [USER]}
    assert Faults(1, config).pick(RECOMMEND) is None
    picked = Faults(1, config).pick(USER)
    assert picked is not None and picked[0] == "soft_failure"


def test_latency_and_jitter(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"latency_ms": 200, "jitter_ms": 100})
    started = time.monotonic()
    assert _ok(script_session)
    elapsed = time.monotonic() - started
    assert elapsed >= 0.2  # a lower bound only: the delay is promised, speed is not


def test_routes_filter(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"empty_body": {"rate": 1.0, "routes": [DETAIL]}})
    assert _ok(script_session)
    assert script_session.get(DETAIL, {"challengeName": "food"}).body == b""


def test_unknown_hashtags(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"unknown_hashtags": ["Food"]})
    assert script_session.api(DETAIL, {"challengeName": "food"})["statusCode"] == 10205
    assert script_session.api(DETAIL, {"challengeName": "cats"})["statusCode"] == 0


def test_faults_round_trip_and_clear(emulator: EmulatorProcess) -> None:
    config = emulator.set_faults({"captcha": 0.25, "block_api": True, "latency_ms": 5})
    assert config["captcha"] == {"rate": 0.25, "next": 0}
    assert config["block_api"] is True
    assert emulator.faults() == config
    cleared = emulator.set_faults({})
    assert cleared == {"latency_ms": 0.0, "jitter_ms": 0.0, "block_api": False, "unknown_hashtags": []}


@pytest.mark.parametrize(
    "body",
    [b'{"nope": 1}', b'{"captcha": 2}', b'{"captcha": {"next": -1}}', b"[]", b"{not json"],
)
def test_bad_fault_configuration_is_400(emulator: EmulatorProcess, body: bytes) -> None:
    answer = http_request(emulator.base_url + "/__emulator__/faults", method="POST", body=body)
    assert answer.status == 400
    assert "error" in answer.json()


def test_refused_calls_do_not_consume_faults(emulator: EmulatorProcess) -> None:
    emulator.set_faults({"captcha": {"next": 1}})
    assert http_request(f"{emulator.base_url}{RECOMMEND}?count=1").body == b""
    assert emulator.faults()["captcha"]["next"] == 1


def test_rates_are_seeded_and_roughly_right() -> None:
    def draws() -> list[str | None]:
        faults = Faults(7, FaultConfig.from_json({"http_429": 0.3}))
        return [(p[0] if (p := faults.pick(RECOMMEND)) else None) for _ in range(1000)]

    first = draws()
    assert first == draws()
    assert 230 < first.count("http_429") < 370


def test_parse_cli_fault() -> None:
    assert parse_cli_fault("empty_body=0.5") == ("empty_body", {"rate": 0.5})
    assert parse_cli_fault("captcha=next:2") == ("captcha", {"next": 2})
    with pytest.raises(ValueError, match="NAME"):
        parse_cli_fault("bogus=1")


# --- set at start ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty_emulator() -> Iterator[EmulatorProcess]:
    server = EmulatorProcess(
        "--fault", "captcha=next:1", "--fault", "http_429=0", "--block-api", "--latency-ms", "50"
    )
    try:
        yield server
    finally:
        server.stop()


def test_faults_from_the_command_line(faulty_emulator: EmulatorProcess) -> None:
    config: dict[str, Any] = faulty_emulator.faults()
    assert config["captcha"]["next"] == 1
    assert config["block_api"] is True
    assert config["latency_ms"] == 50
    session = ScriptSession(faulty_emulator.base_url)
    assert session.get(RECOMMEND, PARAMS).body == b""  # no X-Gnarly
    assert session.api(RECOMMEND, PARAMS, gnarly=True)["statusCode"] == 10000
    assert session.api(RECOMMEND, PARAMS, gnarly=True)["statusCode"] == 0
    faulty_emulator.reset()  # back to the start options, not to nothing
    assert faulty_emulator.faults()["captcha"]["next"] == 1


def test_malformed_json_is_still_utf8_text_whatever_the_cut() -> None:
    from twisted.web.test.requesthelper import DummyRequest

    from emulator.faults import MalformedJson

    body = ("é" * 10 + "a").encode()  # 21 bytes: a third is 7, inside the fourth "é"
    answer = MalformedJson(lambda: body).render_GET(cast("Any", DummyRequest([])))
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.decode("utf-8"))
