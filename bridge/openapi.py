"""The OpenAPI 3.1 document of the service: the feeds' paths (``/trending``, ``/users/{uniqueId}``, ...)
built from the feed catalogue (``tiktok_spiders.feeds``), with their parameters' own schemas and the
schema of what they answer (Video, Creator, Comment, Sound), beside the fixed routes."""

from __future__ import annotations

from typing import Any

from bridge.cache import CacheState
from bridge.health import HealthStatus
from settings.env import Strategy
from tiktok_spiders.feeds import FEEDS, Feed
from tiktok_spiders.params import VIDEO_ID

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_COUNT = {"type": ["integer", "null"], "minimum": 0}

VIDEO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "description",
        "createTime",
        "webUrl",
        "author",
        "stats",
        "hashtags",
        "video",
        "music",
        "pinned",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "TikTok's video id"},
        "description": {"type": "string"},
        "createTime": {"type": ["integer", "null"], "description": "Unix time the video was posted"},
        "webUrl": {"type": "string", "format": "uri", "description": "the video's page on tiktok.com"},
        "author": {
            "type": "object",
            "required": ["id", "uniqueId", "nickname", "avatar", "verified"],
            "additionalProperties": False,
            "properties": {
                "id": NULLABLE_STRING,
                "uniqueId": NULLABLE_STRING,
                "nickname": NULLABLE_STRING,
                "avatar": NULLABLE_STRING,
                "verified": {"type": "boolean"},
            },
        },
        "stats": {
            "type": "object",
            "description": "exact counts (TikTok's statsV2) where TikTok gives them; null where it gives none",
            "required": ["playCount", "diggCount", "commentCount", "shareCount", "collectCount"],
            "additionalProperties": False,
            "properties": dict.fromkeys(
                ("playCount", "diggCount", "commentCount", "shareCount", "collectCount"), NULLABLE_COUNT
            ),
        },
        "hashtags": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title"],
                "additionalProperties": False,
                "properties": {"id": NULLABLE_STRING, "title": {"type": "string"}},
            },
        },
        "video": {
            "type": "object",
            "required": ["url", "sourceUrl", "cover", "width", "height", "duration"],
            "additionalProperties": False,
            "properties": {
                "url": {"type": "string", "description": "a URL that plays"},
                "sourceUrl": {"type": "string", "description": "TikTok's own expiring CDN URL"},
                "cover": NULLABLE_STRING,
                "width": NULLABLE_COUNT,
                "height": NULLABLE_COUNT,
                "duration": NULLABLE_COUNT,
            },
        },
        "music": {
            "type": ["object", "null"],
            "required": ["id", "title", "authorName"],
            "additionalProperties": False,
            "description": "the sound: its id is what /music/{id} takes",
            "properties": {"id": NULLABLE_STRING, "title": NULLABLE_STRING, "authorName": NULLABLE_STRING},
        },
        "pinned": {
            "type": ["boolean", "null"],
            "description": "pinned to the top of its creator's profile; null where the feed does not say",
        },
    },
}
NULLABLE_BOOLEAN = {"type": ["boolean", "null"]}
_CREATOR_COUNTS = ("followerCount", "followingCount", "heartCount", "videoCount", "diggCount", "friendCount")
CREATOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "a TikTok account; user search gives only some fields (null for the rest)",
    "required": [
        "id",
        "uniqueId",
        "nickname",
        "secUid",
        "signature",
        "avatar",
        "verified",
        "privateAccount",
        "createTime",
        "stats",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "uniqueId": {"type": "string", "description": "the @name: what /users/{uniqueId} takes"},
        "nickname": NULLABLE_STRING,
        "secUid": NULLABLE_STRING,
        "signature": NULLABLE_STRING,
        "avatar": NULLABLE_STRING,
        "verified": NULLABLE_BOOLEAN,
        "privateAccount": NULLABLE_BOOLEAN,
        "createTime": {"type": ["integer", "null"], "description": "Unix time the account was made"},
        "stats": {
            "type": "object",
            "description": "exact counts (TikTok's statsV2) where TikTok gives them; null where it gives none",
            "required": list(_CREATOR_COUNTS),
            "additionalProperties": False,
            "properties": dict.fromkeys(_CREATOR_COUNTS, NULLABLE_COUNT),
        },
    },
}
COMMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "a comment on a video, or a reply to one",
    "required": [
        "id",
        "videoId",
        "text",
        "createTime",
        "diggCount",
        "replyCount",
        "pinnedByAuthor",
        "language",
        "author",
        "images",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "what the replies route takes"},
        "videoId": NULLABLE_STRING,
        "text": {"type": "string", "description": "empty for an image-only comment"},
        "createTime": {"type": ["integer", "null"]},
        "diggCount": NULLABLE_COUNT,
        "replyCount": NULLABLE_COUNT,
        "pinnedByAuthor": {"type": "boolean"},
        "language": NULLABLE_STRING,
        "author": {
            "type": "object",
            "required": ["id", "uniqueId", "nickname", "avatar"],
            "additionalProperties": False,
            "properties": dict.fromkeys(("id", "uniqueId", "nickname", "avatar"), NULLABLE_STRING),
        },
        "images": {"type": "array", "items": {"type": "string"}, "description": "image URLs"},
    },
}
SOUND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "a sound (TikTok's music)",
    "required": ["id", "title", "authorName", "original", "duration", "cover", "videoCount"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "title": NULLABLE_STRING,
        "authorName": NULLABLE_STRING,
        "original": {**NULLABLE_BOOLEAN, "description": "the creator's own sound, not a licensed track"},
        "duration": {**NULLABLE_COUNT, "description": "seconds"},
        "cover": NULLABLE_STRING,
        "videoCount": NULLABLE_COUNT,
    },
}
_WHAT = {
    "Video": "distinct playable videos",
    "Creator": "creators",
    "Comment": "comments",
    "Sound": "the sound",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "enum": [
                "invalid_parameter",
                "bad_request",
                "not_found",
                "private",
                "method_not_allowed",
                "rate_limited",
                "upstream_error",
                "upstream_blocked",
                "overloaded",
                "upstream_timeout",
                "upstream_paused",
                "browser_unavailable",
                "internal_error",
            ],
        },
        "parameter": {"type": "string", "description": "the parameter a 400 is about"},
        "requestId": {"type": "string", "description": "the answer's X-Request-ID"},
    },
}

HEALTH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "status",
        "reasons",
        "strategy",
        "browser",
        "sessions",
        "breaker",
        "cache",
        "crawls",
        "upstream",
    ],
    "properties": {
        "status": {
            "type": "string",
            "enum": [status.value for status in HealthStatus],
            "description": "ok: a session answers and the last calls worked; degraded: answers may be "
            "stale or rendered, or calls failed in the last five minutes; down (HTTP 503): nothing can "
            "be fetched (no browser, or no TikTok session could be opened)",
        },
        "reasons": {"type": "array", "items": {"type": "string"}, "description": "why not ok"},
        "uptime_s": {"type": "number"},
        # the strategy in use now: "auto" is a setting, never a state
        "strategy": {"type": "string", "enum": [s.value for s in Strategy if s is not Strategy.AUTO]},
        "browser": {"type": "object"},
        "sessions": {"type": "object"},
        "breaker": {"type": "object"},
        "cache": {"type": "object"},
        "crawls": {"type": "object"},
        "upstream": {"type": "object"},
    },
}


def _header(description: str, schema_type: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": schema_type}}


FEED_HEADERS = {
    "ETag": _header("the answer's validator; send it back as If-None-Match to get 304"),
    "Cache-Control": _header("public, max-age=seconds the answer stays fresh"),
    "X-Cache": {
        "description": "HIT, MISS or STALE",
        "schema": {"type": "string", "enum": [state.value for state in CacheState]},
    },
    "RateLimit-Limit": _header("requests allowed per window", "integer"),
    "RateLimit-Remaining": _header("requests left in the window", "integer"),
    "RateLimit-Reset": _header("seconds until the window frees a request", "integer"),
}


_ID_PARAMETER: dict[str, Any] = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": VIDEO_ID.description,
    "schema": dict(VIDEO_ID.schema),
}


def _problem(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": _header("seconds to wait", "integer")}
    return response


#: the groups operations are listed under (each one module of a generated client), in this order
TAGS: dict[str, str] = {
    "feeds": "Videos of the For You feed, a hashtag, a search",
    "creators": "Creators: a profile, their videos, creator search",
    "comments": "Comments on a video and replies to a comment",
    "sounds": "Sounds (TikTok's music) and the videos that use them",
    "videos": "One video, its bytes, the videos shown next to it",
    "service": "The page, the health check and this document",
}
#: the play route's bytes: ``video/mp4`` as TikTok's CDN labels them; the same bytes under
#: ``application/octet-stream`` too, the binary type every generator reads (openapi-python-client
#: skips an answer whose only type is ``video/mp4``)
_BYTES: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
MP4: dict[str, Any] = {"video/mp4": _BYTES, "application/octet-stream": _BYTES}


def _head(get: dict[str, Any]) -> dict[str, Any]:
    """The HEAD operation of a GET one: the same parameters, statuses and headers, and no body."""
    responses = {
        status: {name: value for name, value in response.items() if name != "content"}
        for status, response in get["responses"].items()
    }
    return {
        **get,
        "operationId": "head" + get["operationId"].removeprefix("get"),
        "summary": f"{get['summary']}: the headers of the GET answer, without its body",
        "responses": responses,
    }


def _path_item(get: dict[str, Any]) -> dict[str, Any]:
    return {"get": get, "head": _head(get)}


def _feed(feed: Feed) -> dict[str, Any]:
    headers = dict(FEED_HEADERS)
    if feed.paged:
        headers["Link"] = _header('<...&cursor=N>; rel="next" when there is a next page')
    item: dict[str, Any] = {"$ref": f"#/components/schemas/{feed.kind}"}
    schema: dict[str, Any]
    if feed.shape == "object":
        what, schema = f"the {feed.kind}", item
    else:
        what, schema = f"{_WHAT[feed.kind]}, at most count", {"type": "array", "items": item}
    responses: dict[str, Any] = {
        "200": {
            "description": "; ".join(filter(None, [what, feed.answer_note])),
            "headers": headers,
            "content": {"application/json": {"schema": schema}},
        },
        "304": {"description": "not modified (If-None-Match matched the ETag)"},
        "400": _problem("a bad or unknown parameter"),
        "405": _problem("a method other than GET or HEAD"),
        "429": _problem("this client is over its rate limit", retry_after=True),
        "502": _problem("TikTok refused or answered garbage after retries"),
        "503": _problem(
            "too many crawls in flight (overloaded), calls to TikTok paused after repeated failures "
            "(upstream_paused), or the service's browser failed and is being restarted "
            "(browser_unavailable)",
            retry_after=True,
        ),
        "504": _problem("TikTok did not answer within the deadline"),
    }
    if feed.may_be_missing:
        responses["404"] = _problem(f"TikTok knows no such {feed.subject}")
    if feed.may_be_private:
        responses["403"] = _problem(f"the {feed.subject} is private (code private)")
    in_path = feed.path_names
    return {
        "operationId": f"get{feed.operation_name}",
        "tags": [feed.tag],
        "summary": feed.summary,
        "parameters": [
            {
                "name": param.name,
                "in": "path" if param.name in in_path else "query",
                "required": param.required or param.name in in_path,
                "description": param.description,
                "schema": dict(param.schema),
            }
            for param in sorted(feed.params, key=lambda param: param.name not in in_path)
        ],
        "responses": responses,
    }


REQUEST_ID_HEADER = _header(
    "the request's id: the caller's X-Request-ID when it is a sane token (1 to 128 of A-Z a-z 0-9 . _ : -),"
    " else one made for it; also the problem's requestId and in every log line about the request"
)


def openapi_document(feeds: tuple[Feed, ...] = FEEDS) -> dict[str, Any]:
    document = _document(feeds)
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for response in operation["responses"].values():
                response["headers"] = {**response.get("headers", {}), "X-Request-ID": REQUEST_ID_HEADER}
    return document


def _document(feeds: tuple[Feed, ...]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tiktok-fetch-service",
            "version": "0.1.0",
            "description": "TikTok videos in real time, as JSON, with URLs that play.",
        },
        "tags": [{"name": name, "description": description} for name, description in TAGS.items()],
        "paths": {
            **{feed.route: _path_item(_feed(feed)) for feed in feeds},
            "/videos/{id}": _path_item(
                {
                    "operationId": "getVideo",
                    "tags": ["videos"],
                    "summary": "One video: from what the service has answered, else looked up at TikTok",
                    "parameters": [_ID_PARAMETER],
                    "responses": {
                        "200": {
                            "description": "the Video",
                            "headers": dict(FEED_HEADERS),  # with the feeds' rate limit
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Video"}}
                            },
                        },
                        "304": {"description": "not modified (If-None-Match matched the ETag)"},
                        "400": _problem("the id is not TikTok's numeric video id"),
                        "404": _problem("TikTok knows no such video, or it is private"),
                        "405": _problem("a method other than GET or HEAD"),
                        "429": _problem("this client is over its rate limit", retry_after=True),
                        "502": _problem("TikTok refused or answered garbage after retries"),
                        "503": _problem(
                            "too many crawls in flight (overloaded), calls to TikTok paused after "
                            "repeated failures (upstream_paused), or the service's browser failed and "
                            "is being restarted (browser_unavailable)",
                            retry_after=True,
                        ),
                        "504": _problem("TikTok did not answer within the deadline"),
                    },
                }
            ),
            "/videos/{id}/play": _path_item(
                {
                    "operationId": "getVideoPlay",
                    "tags": ["videos"],
                    "summary": "The video's bytes, streamed from TikTok's CDN with the session's cookies",
                    "parameters": [
                        _ID_PARAMETER,
                        {
                            "name": "Range",
                            "in": "header",
                            "required": False,
                            "description": "bytes=START-END, passed to the CDN",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "If-Range",
                            "in": "header",
                            "required": False,
                            "description": "the ETag or Last-Modified of an earlier answer: the Range only if "
                            "the video is still that one, else the whole file (200); passed to the CDN",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the whole MP4",
                            "headers": {
                                "Accept-Ranges": _header("bytes"),
                                "Content-Length": _header("size", "integer"),
                            },
                            "content": MP4,
                        },
                        "206": {
                            "description": "the requested range",
                            "headers": {"Content-Range": _header("bytes START-END/SIZE")},
                            "content": MP4,
                        },
                        "400": _problem("the id is not TikTok's numeric video id"),
                        "404": _problem("TikTok knows no such video, or it is private"),
                        "405": _problem("a method other than GET or HEAD"),
                        "416": {"description": "the range lies outside the file"},
                        "429": _problem(
                            "this client is over its rate limit, and the play must ask TikTok for the video "
                            "or a fresh address (a play from a known, unexpired address is not counted)",
                            retry_after=True,
                        ),
                        "502": _problem("the CDN or TikTok refused, after one fresh play address"),
                        "503": _problem(
                            "the play must ask TikTok, and too many crawls are in flight (overloaded) or "
                            "calls to TikTok are paused (upstream_paused); or the service's browser "
                            "failed and is being restarted (browser_unavailable)",
                            retry_after=True,
                        ),
                        "504": _problem("TikTok did not answer within the deadline"),
                    },
                }
            ),
            "/": _path_item(
                {
                    "operationId": "getPage",
                    "tags": ["service"],
                    "summary": "A page that shows the feeds playing, with creators, sounds and comments",
                    "responses": {
                        "200": {
                            "description": "HTML",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        }
                    },
                }
            ),
            "/health": _path_item(
                {
                    "operationId": "getHealth",
                    "tags": ["service"],
                    "summary": "Browser, session, cache and upstream state",
                    "responses": {
                        "200": {
                            "description": "ok, or degraded (stale or rendered answers, recent failures)",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Health"}}
                            },
                        },
                        "503": {
                            "description": "down: the service cannot fetch from TikTok at all (no browser, "
                            "or no session could be opened); take the instance out of rotation",
                            "headers": {"Retry-After": _header("seconds before asking again", "integer")},
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Health"}}
                            },
                        },
                        "400": _problem("a query parameter (this route takes none)"),
                        "405": _problem("a method other than GET or HEAD"),
                    },
                }
            ),
            "/metrics": _path_item(
                {
                    "operationId": "getMetrics",
                    "tags": ["service"],
                    "summary": "Counters, gauges and latency histograms in Prometheus' text format (README "
                    '"Metrics"); not rate-limited; 404 with METRICS=off',
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format 0.0.4; no label holds a value "
                            "a caller chose",
                            "content": {
                                "text/plain; version=0.0.4; charset=utf-8": {"schema": {"type": "string"}}
                            },
                        },
                        "400": _problem("a query parameter (this route takes none)"),
                        "404": _problem("METRICS=off: the service exports no metrics"),
                        "405": _problem("a method other than GET or HEAD"),
                    },
                }
            ),
            "/openapi.json": _path_item(
                {
                    "operationId": "getOpenapi",
                    "tags": ["service"],
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": _problem("a query parameter (this route takes none)"),
                        "405": _problem("a method other than GET or HEAD"),
                    },
                }
            ),
        },
        "components": {
            "schemas": {
                "Video": VIDEO_SCHEMA,
                "Creator": CREATOR_SCHEMA,
                "Comment": COMMENT_SCHEMA,
                "Sound": SOUND_SCHEMA,
                "Problem": PROBLEM_SCHEMA,
                "Health": HEALTH_SCHEMA,
            }
        },
    }
