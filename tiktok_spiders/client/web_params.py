"""The query every web API call carries: TikTok's common web-app parameters, then ``msToken``.

The signature (``X-Bogus``) is appended last, inside the page, by ``session.PAGE_FETCH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True, slots=True)
class SessionFields:
    """What a session contributes to each call."""

    device_id: str
    ms_token: str
    user_agent: str
    region: str = "US"
    language: str = "en"


def common_params(session: SessionFields, base_url: str) -> dict[str, str]:
    browser_version = session.user_agent.removeprefix("Mozilla/")
    return {
        "aid": "1988",
        "app_name": "tiktok_web",
        "app_language": session.language,
        "browser_language": f"{session.language}-{session.region}",
        "browser_name": "Mozilla",
        "browser_online": "true",
        "browser_platform": "Linux x86_64",
        "browser_version": browser_version,
        "channel": "tiktok_web",
        "cookie_enabled": "true",
        "device_id": session.device_id,
        "device_platform": "web_pc",
        "focus_state": "true",
        "history_len": "2",
        "is_fullscreen": "false",
        "is_page_visible": "true",
        "language": session.language,
        "os": "linux",
        "priority_region": "",
        "referer": "",
        "region": session.region,
        "root_referer": f"{base_url}/",
        "screen_height": "1080",
        "screen_width": "1920",
        "tz_name": "UTC",
        "user_is_login": "false",
        "webcast_language": session.language,
    }


def build_api_url(base_url: str, path: str, params: Mapping[str, str | int], session: SessionFields) -> str:
    """The full, unsigned URL of an API call: common parameters, the call's own, then ``msToken``."""
    query = common_params(session, base_url)
    query.update({key: str(value) for key, value in params.items()})
    query["msToken"] = session.ms_token
    return f"{base_url}{path}?{urlencode(query)}"
