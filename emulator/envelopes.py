"""TikTok's JSON envelopes and status codes, shared by every API endpoint."""

from __future__ import annotations

import time
from typing import Any

Payload = dict[str, Any]

OK = 0
INVALID_PARAMETER = 10201
ITEM_NOT_FOUND = 10202
HASHTAG_NOT_FOUND = 10205
PRIVATE_ITEM = 10216
USER_NOT_FOUND = 10221
PRIVATE_ACCOUNT = 10222


def envelope(status: int = OK, msg: str = "", **fields: Any) -> Payload:
    now_ms = int(time.time() * 1000)
    log_id = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + format(now_ms % 10**12, "012X")
    return {
        "extra": {"fatal_item_ids": [], "logid": log_id, "now": now_ms},
        "log_pb": {"impr_id": log_id},
        **fields,
        "statusCode": status,
        "statusMsg": msg,
        "status_code": status,
        "status_msg": msg,
    }


def snake_envelope(status: int = OK, msg: str = "", **fields: Any) -> Payload:
    """Search and comment answers: snake_case only (``status_code``, ``has_more`` as 0/1), as TikTok
    sends them."""
    payload = envelope(status, msg, **fields)
    del payload["statusCode"], payload["statusMsg"]
    return payload


def int_param(params: dict[str, str], name: str, default: int) -> int | None:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None
