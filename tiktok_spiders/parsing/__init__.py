"""Pure functions from TikTok's JSON and HTML to the items (``Video``, ``Creator``, ``Comment``,
``Sound``): no network, no Scrapy.

Every function here either returns a value or raises an ``errors.UpstreamError``; an odd item becomes a
``Rejected`` with a reason, never an exception.
"""

from tiktok_spiders.parsing.around import (
    parse_comment,
    parse_comment_list,
    parse_music_detail,
    parse_posts,
    parse_search_user,
    parse_user_detail,
    parse_user_search,
)
from tiktok_spiders.parsing.envelopes import (
    Challenge,
    FeedPage,
    check_status,
    load_json,
    parse_challenge_detail,
    parse_discover_hashtags,
    parse_feed,
    parse_item_detail,
    parse_search,
)
from tiktok_spiders.parsing.items import TIKTOK_WEB, parse_item
from tiktok_spiders.parsing.pages import AppContext, parse_app_context, parse_video_page, ssr_state

__all__ = [
    "TIKTOK_WEB",
    "AppContext",
    "Challenge",
    "FeedPage",
    "check_status",
    "load_json",
    "parse_app_context",
    "parse_challenge_detail",
    "parse_comment",
    "parse_comment_list",
    "parse_discover_hashtags",
    "parse_feed",
    "parse_item",
    "parse_item_detail",
    "parse_music_detail",
    "parse_posts",
    "parse_search",
    "parse_search_user",
    "parse_user_detail",
    "parse_user_search",
    "parse_video_page",
    "ssr_state",
]
