"""The CDN: cookie, Referer and expiry checks, Range (206) and HEAD, a real MP4."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import ScriptSession, http_request, play_address

if TYPE_CHECKING:
    from tests.support import EmulatorProcess

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
