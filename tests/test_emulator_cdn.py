"""The CDN: cookie, Referer and expiry checks, Range (206) and HEAD, a real MP4."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from harness.http import http_request
from harness.script_session import ScriptSession
from tests.items import play_address

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

MP4 = (Path(__file__).parent.parent / "emulator" / "assets" / "sample.mp4").read_bytes()


@pytest.fixture
def play_url(emulator: EmulatorProcess, script_session: ScriptSession) -> str:
    item_id = emulator.corpus()["playable_item_ids"][0]
    item = script_session.api("/api/item/detail/", {"itemId": item_id})["itemInfo"]["itemStruct"]
    url = play_address(item)
    assert url.startswith(emulator.base_url + "/video/tos/")
    return url


def _headers(session: ScriptSession, **extra: str) -> dict[str, str]:
    return {
        "Cookie": f"tt_chain_token={session.cookies['tt_chain_token']}",
        "Referer": session.base_url + "/",
        **extra,
    }


def test_sample_is_a_small_h264_mp4() -> None:
    assert MP4[4:8] == b"ftyp"
    assert b"avc1" in MP4
    assert 1_000 < len(MP4) < 100_000


def test_full_download(play_url: str, script_session: ScriptSession) -> None:
    answer = http_request(play_url, headers=_headers(script_session))
    assert answer.status == 200
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.body == MP4


def test_range(play_url: str, script_session: ScriptSession) -> None:
    answer = http_request(play_url, headers=_headers(script_session, Range="bytes=100-199"))
    assert answer.status == 206
    assert answer.headers["content-range"] == f"bytes 100-199/{len(MP4)}"
    assert answer.body == MP4[100:200]
    tail = http_request(play_url, headers=_headers(script_session, Range="bytes=-10"))
    assert tail.status == 206
    assert tail.body == MP4[-10:]


def test_head(play_url: str, script_session: ScriptSession) -> None:
    answer = http_request(play_url, method="HEAD", headers=_headers(script_session))
    assert answer.status == 200
    assert answer.headers["content-length"] == str(len(MP4))
    assert answer.body == b""


def test_403_without_cookie(emulator: EmulatorProcess, play_url: str, script_session: ScriptSession) -> None:
    answer = http_request(play_url, headers={"Referer": script_session.base_url + "/"})
    assert answer.status == 403
    forged = _headers(script_session, Cookie="tt_chain_token=forged")
    assert http_request(play_url, headers=forged).status == 403
    assert emulator.stats()["cdn_refused"] == {"no_chain_token": 2}


def test_403_without_referer(emulator: EmulatorProcess, play_url: str, script_session: ScriptSession) -> None:
    cookie = {"Cookie": f"tt_chain_token={script_session.cookies['tt_chain_token']}"}
    assert http_request(play_url, headers=cookie).status == 403
    elsewhere = {**cookie, "Referer": "https://example.com/"}
    assert http_request(play_url, headers=elsewhere).status == 403
    assert emulator.stats()["cdn_refused"] == {"bad_referer": 2}


def test_403_after_expire(emulator: EmulatorProcess, play_url: str, script_session: ScriptSession) -> None:
    emulator.set_clock_offset(3 * 86_400)
    assert http_request(play_url, headers=_headers(script_session)).status == 403
    emulator.set_clock_offset(0)
    tampered = play_url.replace("expire=", "expire=1&old=")
    assert http_request(tampered, headers=_headers(script_session)).status == 403
    assert emulator.stats()["cdn_refused"] == {"expired": 2}


def test_images_are_served(emulator: EmulatorProcess) -> None:
    answer = http_request(emulator.base_url + "/img/avatar/1~c5_100x100.jpeg?x-expires=1")
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.body[:2] == b"\xff\xd8"


def test_a_suffix_range_longer_than_the_file_is_the_whole_file(
    play_url: str, script_session: ScriptSession
) -> None:
    # RFC 9110 section 14.1.2: a suffix-length beyond the representation selects all of it.
    answer = http_request(play_url, headers=_headers(script_session, Range="bytes=-999999999"))
    assert answer.status == 206
    assert answer.headers["content-range"] == f"bytes 0-{len(MP4) - 1}/{len(MP4)}"
    assert answer.body == MP4
    exact = http_request(play_url, headers=_headers(script_session, Range=f"bytes=-{len(MP4)}"))
    assert (exact.status, exact.body) == (206, MP4)


def test_if_range_serves_the_range_only_for_the_current_validator(
    play_url: str, script_session: ScriptSession
) -> None:
    whole = http_request(play_url, headers=_headers(script_session))
    etag, last_modified = whole.headers["etag"], whole.headers["last-modified"]
    assert etag.startswith('"')  # strong

    def get(if_range: str) -> tuple[int, bytes]:
        answer = http_request(
            play_url, headers=_headers(script_session, Range="bytes=0-9", **{"If-Range": if_range})
        )
        return answer.status, answer.body

    assert get(etag) == (206, MP4[:10])
    assert get(last_modified) == (206, MP4[:10])
    # RFC 9110 section 13.1.5: a validator that does not match means the Range is ignored
    assert get('"another-version"') == (200, MP4)
    assert get(f"W/{etag}") == (200, MP4)  # compared strongly: a weak tag never matches
    assert get("Mon, 01 Jan 2001 00:00:00 GMT") == (200, MP4)
    assert get("not a date") == (200, MP4)


def test_a_stalled_cdn_sends_the_first_bytes_then_nothing(
    emulator: EmulatorProcess, play_url: str, script_session: ScriptSession
) -> None:
    emulator.set_faults({"cdn_stall": {"next": 1, "after_bytes": 1000, "hold_ms": 500}})
    parts = urlsplit(play_url)
    conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}", headers=_headers(script_session))
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["content-length"] == str(len(MP4))  # it promised the whole file
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()  # returns once the emulator closes the held connection (hold_ms)
        assert cut.value.partial == MP4[:1000]
    finally:
        conn.close()
    assert emulator.stats()["faults_injected"] == {"cdn_stall": 1}
    assert http_request(play_url, headers=_headers(script_session)).body == MP4  # the next: normal


def test_a_cdn_stall_before_the_headers_sends_nothing(
    emulator: EmulatorProcess, play_url: str, script_session: ScriptSession
) -> None:
    emulator.set_faults({"cdn_stall": {"next": 1, "hold_ms": 300}})
    parts = urlsplit(play_url)
    conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}", headers=_headers(script_session))
        with pytest.raises(http.client.RemoteDisconnected):  # closed without a status line
            conn.getresponse()
    finally:
        conn.close()
    assert emulator.stats()["faults_injected"] == {"cdn_stall": 1}


def test_api_faults_never_reach_the_cdn_nor_cdn_faults_the_api(
    emulator: EmulatorProcess, play_url: str, script_session: ScriptSession
) -> None:
    emulator.set_faults({"empty_body": 1.0})
    assert http_request(play_url, headers=_headers(script_session)).body == MP4
    emulator.set_faults({"cdn_stall": 1.0})
    item_id = emulator.corpus()["playable_item_ids"][0]
    assert (
        script_session.api("/api/item/detail/", {"itemId": item_id})["itemInfo"]["itemStruct"]["id"]
        == item_id
    )
