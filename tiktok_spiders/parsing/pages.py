"""TikTok's server-rendered pages: the JSON state they embed for the web app to rehydrate.

Three generations: ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` (2023-), ``SIGI_STATE`` (2021-2023) and
``__NEXT_DATA__`` (-2021); ``ssr_state`` finds whichever a page carries. ``parse_app_context`` reads
the device id (``wid``) and region from the home page, which is what a session needs
(``client.session``). ``parse_video_page`` reads the item a ``/@user/video/<id>`` page carries, or
raises the typed error its status code means; no route uses it today (single videos come from
``/api/item/detail/``), the parsing tests do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parsel import Selector

from tiktok_spiders.errors import STATUS_CODE_ERRORS, MalformedPayload, UpstreamError
from tiktok_spiders.items import Rejected, Video
from tiktok_spiders.parsing.items import TIKTOK_WEB, parse_item
from tiktok_spiders.parsing.values import as_id, as_int, as_text, mapping

SSR_SCRIPT_IDS = ("__UNIVERSAL_DATA_FOR_REHYDRATION__", "SIGI_STATE", "__NEXT_DATA__")


@dataclass(slots=True)
class AppContext:
    device_id: str | None
    region: str | None


def ssr_state(html: str) -> tuple[str, dict[str, Any]]:
    """The id and parsed JSON of the first state script the page carries."""
    selector = Selector(text=html)
    for script_id in SSR_SCRIPT_IDS:
        text = selector.css(f"script#{script_id}::text").get()
        if text is None:
            continue
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise MalformedPayload(f"{script_id} is not JSON") from exc
        if isinstance(state, dict):
            return script_id, state
    raise MalformedPayload("the page carries no state script")


def parse_app_context(html: str) -> AppContext:
    script_id, state = ssr_state(html)
    if script_id == "__UNIVERSAL_DATA_FOR_REHYDRATION__":
        context = mapping(mapping(state.get("__DEFAULT_SCOPE__")).get("webapp.app-context"))
    elif script_id == "SIGI_STATE":
        context = mapping(mapping(state.get("AppContext")).get("appContext"))
    else:
        context = mapping(mapping(state.get("props")).get("initialProps"))
    return AppContext(
        device_id=as_id(context.get("wid") or context.get("$wid")),
        region=as_text(context.get("region") or context.get("$region")),
    )


def parse_video_page(html: str, web_base: str = TIKTOK_WEB) -> Video | Rejected:
    """The video a ``/@user/video/<id>`` page shows; typed errors when the page says it has none."""
    script_id, state = ssr_state(html)
    if script_id == "__UNIVERSAL_DATA_FOR_REHYDRATION__":
        detail = mapping(mapping(state.get("__DEFAULT_SCOPE__")).get("webapp.video-detail"))
        _check_page_status(detail)
        item = mapping(detail.get("itemInfo")).get("itemStruct")
    elif script_id == "SIGI_STATE":
        modules = mapping(state.get("ItemModule"))
        item = next(iter(modules.values()), None)
    else:
        props = mapping(mapping(state.get("props")).get("pageProps"))
        _check_page_status(props)
        item = mapping(props.get("itemInfo")).get("itemStruct")
    if item is None:
        raise MalformedPayload(f"{script_id} carries no item")
    return parse_item(item, web_base)


def _check_page_status(section: Mapping[str, Any]) -> None:
    code = as_int(section.get("statusCode"))
    if code:
        error = STATUS_CODE_ERRORS.get(code, UpstreamError)
        raise error(f"statusCode {code}", status_code=code)
