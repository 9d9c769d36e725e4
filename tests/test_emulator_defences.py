"""TikTok's defences: without a live session, its msToken and its page's signatures, 200 + empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.http import http_request
from harness.script_session import ScriptSession

if TYPE_CHECKING:
    from harness.emulator import EmulatorProcess

RECOMMEND = "/api/recommend/item_list/"
PARAMS = {"from_page": "fyp", "count": "5"}


def test_naive_unsigned_get_gets_empty_body(emulator: EmulatorProcess) -> None:
    answer = http_request(f"{emulator.base_url}{RECOMMEND}?aid=1988&count=30&from_page=fyp")
    assert answer.status == 200
    assert answer.body == b""
    assert emulator.stats()["api_refused"] == {"no_session": 1}


def test_signed_call_with_session_gets_items(script_session: ScriptSession) -> None:
    assert len(script_session.api(RECOMMEND, PARAMS)["itemList"]) == 5


def test_missing_signature(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    assert script_session.get(RECOMMEND, PARAMS, sign=False).body == b""
    assert emulator.stats()["api_refused"] == {"bad_x_bogus": 1}


def test_wrong_ms_token(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    assert script_session.get(RECOMMEND, PARAMS, ms_token="x" * 144).body == b""
    assert script_session.get(RECOMMEND, PARAMS, ms_token="").body == b""
    assert emulator.stats()["api_refused"] == {"bad_ms_token": 2}


def test_tampered_parameter(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    url = script_session.url(RECOMMEND, PARAMS)
    assert script_session.get_url(url).body
    for tampered in (
        url.replace("count=5", "count=6"),
        url.replace("aid=1988", "aid=1989"),
        url.replace("&from_page=fyp", ""),
        url + "&extra=1",
    ):
        assert script_session.get_url(tampered).body == b"", tampered
    assert emulator.stats()["api_refused"] == {"bad_x_bogus": 4}


def test_parameter_order_and_encoding_do_not_matter(script_session: ScriptSession) -> None:
    from emulator import signing

    base = f"{script_session.base_url}/api/challenge/detail/"
    query = {"challengeName": "café", "msToken": script_session.ms_token, "aid": "1988"}
    plain = f"{base}?aid=1988&challengeName=caf%C3%A9&msToken={query['msToken']}"
    reordered = f"{base}?msToken={query['msToken']}&challengeName=caf%c3%a9&aid=1988"
    assert signing.sign("k", plain) == signing.sign("k", reordered)
    url = reordered + "&X-Bogus=" + signing.sign(script_session.secret, plain)
    assert script_session.get_url(url).json()["challengeInfo"]["challenge"]["title"] == "café"


def test_signature_from_another_session_is_refused(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    other = ScriptSession(emulator.base_url)
    assert other.secret != script_session.secret
    # Each msToken with the other page's signature: the signature must come from the page that set
    # the msToken it carries.
    assert script_session.get(RECOMMEND, PARAMS, ms_token=other.ms_token).body == b""
    assert other.get(RECOMMEND, PARAMS, ms_token=script_session.ms_token).body == b""
    assert emulator.stats()["api_refused"] == {"bad_x_bogus": 2}


def test_ms_token_and_signature_are_not_bound_to_ttwid(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    """What TikTokApi does after ``video.info()``: the ``ttwid`` of a plain HTTP fetch, the msToken and
    signature of its page. TikTok answers that (README, "msToken and ttwid"); so does the emulator."""
    other = ScriptSession(emulator.base_url)
    url = other.url(RECOMMEND, PARAMS)
    # Our cookies, the other page's msToken and signature.
    assert len(script_session.get_url(url).json()["itemList"]) == 5
    assert len(other.get_url(url).json()["itemList"]) == 5
    assert emulator.stats()["api_refused"] == {}


def test_ms_token_of_an_expired_page_still_signs(
    emulator: EmulatorProcess, script_session: ScriptSession
) -> None:
    """Only the ``ttwid`` session must be live: a new session's cookies carry an old page's msToken."""
    emulator.set_clock_offset(3600 + 1)
    fresh = ScriptSession(emulator.base_url)
    url = script_session.url(RECOMMEND, PARAMS)
    assert script_session.get_url(url).body == b""
    assert fresh.get_url(url).body
    assert emulator.stats()["api_refused"] == {"expired_session": 1}


def test_session_expires(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    assert script_session.get(RECOMMEND, PARAMS).body
    emulator.set_clock_offset(3600 + 1)  # the default --session-ttl
    assert script_session.get(RECOMMEND, PARAMS).body == b""
    assert emulator.stats()["api_refused"] == {"expired_session": 1}
    fresh = ScriptSession(emulator.base_url)
    assert fresh.get(RECOMMEND, PARAMS).body


def test_block_api_requires_x_gnarly(emulator: EmulatorProcess, script_session: ScriptSession) -> None:
    emulator.set_faults({"block_api": True})
    assert script_session.get(RECOMMEND, PARAMS).body == b""
    assert script_session.get(RECOMMEND, PARAMS, gnarly=True).body
    assert emulator.stats()["api_refused"] == {"bad_x_gnarly": 1}
    emulator.set_faults({})
    assert script_session.get(RECOMMEND, PARAMS).body


def test_device_id_is_accepted(script_session: ScriptSession) -> None:
    url = script_session.url(RECOMMEND, PARAMS)
    assert f"device_id={script_session.device_id}" in url
    assert script_session.get_url(url).body
