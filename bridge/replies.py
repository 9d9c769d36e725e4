"""Replies as values: what a route answers (status, headers, body), built without touching a request.

``bridge.writer`` sends them. Building a reply decides everything a caller sees: the caching headers,
``304 Not Modified`` for a matching ``If-None-Match`` (RFC 9110 section 13.1.2), the caller's base URL
in the play links, and the problem document of a failure.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache, cached

from bridge.cache import CacheState
from tiktok_spiders.answer_keys import BASE_PLACEHOLDER

if TYPE_CHECKING:
    from bridge.cache import CachedAnswer
    from bridge.policy import Served
    from bridge.problems import Problem

JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: None for a reply with no body (304)
    content_type: str | None = JSON


def answer_reply(served: Served, link: str | None, base: str, if_none_match: str | None) -> Reply:
    """An answer from the cache or a crawl: 200 with the caller's play links, or 304."""
    answer = served.answer
    remaining = 0 if served.cache_state is CacheState.STALE else max(0, int(answer.ttl - answer.age()))
    body, etag = personalise(answer, base)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={remaining}", "X-Cache": served.cache_state}
    if link:
        headers["Link"] = link
    if none_match(if_none_match, etag):
        return Reply(304, b"", headers, content_type=None)
    return Reply(200, body, headers)


def problem_reply(problem: Problem, request_id: str | None = None) -> Reply:
    return Reply(
        problem.status,
        problem.body(request_id),
        {"Cache-Control": "no-store", **problem.headers},
        PROBLEM_JSON,
    )


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(document, ensure_ascii=False).encode("utf-8"), headers or {})


#: answers as personalised lately, by ETag (a hash of the body) and base, up to 8 MiB of bodies: a hit
#: answers the same bytes to many callers, and copying 30 to 120 KB for each was the hit's largest cost
_PERSONALISED: LRUCache[tuple[str, str], tuple[bytes, str]] = LRUCache(
    maxsize=8 << 20, getsizeof=lambda personalised: len(personalised[0])
)


@cached(_PERSONALISED, key=lambda answer, base: (answer.etag, base))
def personalise(answer: CachedAnswer, base: str) -> tuple[bytes, str]:
    """The body with this caller's base URL in its play links, and an ETag that covers it."""
    placeholder = BASE_PLACEHOLDER.encode()
    if placeholder not in answer.body:
        return answer.body, answer.etag
    digest = hashlib.blake2b(base.encode(), digest_size=4).hexdigest()
    return answer.body.replace(placeholder, base.encode()), f'{answer.etag[:-1]}-{digest}"'


#: one entity-tag of a list (RFC 9110 section 8.8.3): an optional W/, then the opaque tag, quotes
#: included (a comma may sit inside them), then the end of the list element
_ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?=,|$)')
#: white space and empty list elements, which a recipient accepts (RFC 9110 section 5.6.1)
_SEPARATORS = re.compile(r"[ \t,]*")


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag``: ``*``, or a list of tags compared weakly (RFC 9110
    section 13.1.2: ``W/"x"`` matches ``"x"``). A list that cannot be read matches nothing."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    tags: list[str] = []
    position = 0
    while True:
        separators = _SEPARATORS.match(if_none_match, position)
        position = separators.end() if separators else position
        if position == len(if_none_match):
            break
        match = _ENTITY_TAG.match(if_none_match, position)
        if match is None:
            return False
        tags.append(match.group(1))
        position = match.end()
    return etag.removeprefix("W/") in tags
