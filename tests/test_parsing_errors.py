"""A payload TikTok marks as failed raises a typed upstream error, never a KeyError."""

from __future__ import annotations

import json

import pytest

from tiktok_spiders import errors
from tiktok_spiders.parsing import load_json, parse_challenge_detail, parse_feed, parse_video_page


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        (b"", errors.UpstreamBlocked, "blocked"),
        (b"  \n", errors.UpstreamBlocked, "blocked"),
        (b'{"statusCode": 10000, "verifyConfig": {"type": "verify"}}', errors.CaptchaRequired, "captcha"),
        (b'{"verifyConfig": {"code": 10000}}', errors.CaptchaRequired, "captcha"),
        (b'{"statusCode": 10202, "statusMsg": "item doesn\'t exist"}', errors.NotFound, "not_found"),
        (b'{"statusCode": 10205}', errors.NotFound, "not_found"),
        (b'{"statusCode": 10216}', errors.PrivateContent, "private"),
        (b'{"statusCode": 10222}', errors.PrivateContent, "private"),
        (b'{"statusCode": 10204}', errors.RegionBlocked, "region_blocked"),
        (b'{"statusCode": 10201}', errors.InvalidRequest, "invalid_request"),
        (b'{"status_code": 10239, "status_msg": ""}', errors.PhotoPostOnly, "photo_post"),
        (b'{"statusCode": 99999}', errors.UpstreamError, "upstream_error"),
        (b'{"statusCode": "zero"}', errors.MalformedPayload, "malformed"),
        (b"<html>Access denied</html>", errors.MalformedPayload, "malformed"),
        (b'{"itemList": [', errors.MalformedPayload, "malformed"),
        (b"[1, 2]", errors.MalformedPayload, "malformed"),
        (b"\xff\xfe{}", errors.MalformedPayload, "malformed"),
    ],
)
def test_failed_answers_raise_typed_errors(
    body: bytes, error: type[errors.UpstreamError], reason: str
) -> None:
    with pytest.raises(error) as raised:
        load_json(body)
    assert type(raised.value) is error
    assert raised.value.reason == reason


def test_status_code_as_string_zero_is_success() -> None:
    assert load_json('{"statusCode": "0", "itemList": []}')["itemList"] == []


def test_snake_case_envelope_status() -> None:
    with pytest.raises(errors.NotFound):
        load_json(json.dumps({"status_code": 10202, "data": []}))


def test_retry_policy_follows_the_error() -> None:
    assert errors.UpstreamBlocked.retry_with_new_session and errors.CaptchaRequired.retry_with_new_session
    assert not errors.NotFound.retryable and not errors.PrivateContent.retryable
    assert errors.RateLimited.retryable and not errors.RateLimited.retry_with_new_session


def test_item_list_of_wrong_type_is_malformed() -> None:
    with pytest.raises(errors.MalformedPayload):
        parse_feed({"statusCode": 0, "itemList": {"0": {}}})


def test_challenge_detail_without_id_is_malformed() -> None:
    with pytest.raises(errors.MalformedPayload):
        parse_challenge_detail({"statusCode": 0, "challengeInfo": {"challenge": {"title": "food"}}})


def test_challenge_detail() -> None:
    payload = {
        "statusCode": 0,
        "challengeInfo": {
            "challenge": {"id": "17584774", "title": "food", "desc": "Food!"},
            "stats": {"videoCount": 1000, "viewCount": 2000000},
            "statsV2": {"videoCount": "1003", "viewCount": "2000123"},
        },
    }
    challenge = parse_challenge_detail(payload)
    assert (challenge.id, challenge.title, challenge.video_count, challenge.view_count) == (
        "17584774",
        "food",
        1003,
        2000123,
    )


def test_video_page_for_a_missing_video_raises_not_found() -> None:
    state = {"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 10202, "statusMsg": ""}}}
    html = f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{json.dumps(state)}</script>'
    with pytest.raises(errors.NotFound):
        parse_video_page(html)


def test_page_without_state_is_malformed() -> None:
    with pytest.raises(errors.MalformedPayload):
        parse_video_page("<html><body>Please wait...</body></html>")


def test_error_messages_never_echo_the_body() -> None:
    secret_body = b"<html>msToken=SECRET123 ttwid=SECRET456</html>"
    with pytest.raises(errors.MalformedPayload) as raised:
        load_json(secret_body)
    assert "SECRET" not in str(raised.value)
