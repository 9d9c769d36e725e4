"""The request parameters, each declared once with its parser, its limits and its documentation.

A ``Param`` is what the HTTP routes (query strings), the batch spiders (``-a name=value``) and the
OpenAPI document all read: the same bounds feed the parser and the schema. A bad value raises
``InvalidParameter`` naming the parameter. The feeds that take them are declared in
``tiktok_spiders.feeds``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

COUNT_DEFAULT, COUNT_MAX = 30, 100
#: batch crawls (``scrapy crawl hashtag -a count=...``) may ask for more than one HTTP answer holds
BATCH_COUNT_MAX = 10_000
CURSOR_MAX = 2**53  # the largest integer a JSON client can hold exactly
HASHTAG_MAX, QUERY_MAX = 100, 200
#: TikTok usernames: letters, digits, ``_`` and ``.``, at most 24 characters
UNIQUE_ID_MAX = 24
_UNIQUE_ID = re.compile(r"[A-Za-z0-9_.]+")
#: TikTok's own cursors (a creator's posts): a timestamp or a small number (digits), which the
#: service passes on unread, with ``.N`` where an answer stopped N entries into TikTok's page.
#: Only digits: whatever else a caller sends, TikTok refuses (10201), and the schema must say so.
TOKEN_MAX = 24
_CURSOR_PATTERN = r"[0-9]{1,20}(?:\.[0-9]{1,3})?"
_TOKEN = re.compile(_CURSOR_PATTERN)
_HASHTAG = re.compile(r"\w+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: a parameter's value once parsed
Value = int | str


class InvalidParameter(ValueError):
    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: how it is read (``parse(raw, batch)``), what the OpenAPI document says of it,
    and how it is written in a cache key."""

    name: str
    description: str
    #: the raw value (None when absent) to the value, or ``InvalidParameter``; ``batch`` for spider
    #: arguments, which may go beyond what one HTTP answer holds
    parse: Callable[[object, bool], Value]
    schema: Mapping[str, object]
    required: bool = False
    #: the value as a cache key writes it (TikTok's own equality: a hashtag is case-insensitive)
    key_form: Callable[[Any], str] = field(default=str)


def _integer_param(
    name: str, description: str, low: int, high: int, default: int, batch_high: int | None = None
) -> Param:
    def parse(raw: object, batch: bool) -> int:
        return _integer(name, raw, low, batch_high if batch and batch_high else high, default)

    schema = {"type": "integer", "minimum": low, "maximum": high, "default": default}
    return Param(name, description, parse, schema)


def _text_param(
    name: str, description: str, parse: Callable[[object], str], schema: Mapping[str, object], key_form: Any
) -> Param:
    return Param(name, description, lambda raw, _batch: parse(raw), schema, True, key_form)


def parse_hashtag(raw: object) -> str:
    """The hashtag as TikTok names it: NFC, without ``#``. Compare with ``hashtag_key``."""
    if raw is None:
        raise InvalidParameter("hashtag", "is required")
    if not isinstance(raw, str):
        raise InvalidParameter("hashtag", "must be text")
    name = unicodedata.normalize("NFC", raw.strip()).removeprefix("#")
    if not name:
        raise InvalidParameter("hashtag", "must not be empty")
    if len(name) > HASHTAG_MAX:
        raise InvalidParameter("hashtag", f"must be at most {HASHTAG_MAX} characters")
    if not _HASHTAG.fullmatch(name):
        raise InvalidParameter("hashtag", "may hold only letters, digits and _ (no spaces or punctuation)")
    return name


def hashtag_key(name: str) -> str:
    """Hashtags match case-insensitively: ``#Food`` and ``food`` are one hashtag."""
    return name.casefold()


def parse_query(raw: object) -> str:
    if raw is None:
        raise InvalidParameter("q", "is required")
    if not isinstance(raw, str):
        raise InvalidParameter("q", "must be text")
    query = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not query:
        raise InvalidParameter("q", "must not be empty")
    if len(query) > QUERY_MAX:
        raise InvalidParameter("q", f"must be at most {QUERY_MAX} characters")
    if _CONTROL.search(query):
        raise InvalidParameter("q", "must not contain control characters")
    return query


def parse_video_id(raw: object) -> str:
    """TikTok's numeric video id (1 to 19 digits, not all zeros)."""
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,19}", raw) or not raw.strip("0"):
        raise InvalidParameter("id", "must be TikTok's numeric video id (1 to 19 digits)")
    return raw


def parse_unique_id(raw: object) -> str:
    """A TikTok username, with or without its leading ``@``; compare with ``unique_id_key``."""
    if raw is None:
        raise InvalidParameter("uniqueId", "is required")
    if not isinstance(raw, str):
        raise InvalidParameter("uniqueId", "must be text")
    name = raw.strip().removeprefix("@")
    if not name:
        raise InvalidParameter("uniqueId", "must not be empty")
    if len(name) > UNIQUE_ID_MAX or not _UNIQUE_ID.fullmatch(name):
        raise InvalidParameter(
            "uniqueId", f"must be a TikTok username: letters, digits, _ and ., at most {UNIQUE_ID_MAX}"
        )
    return name


def unique_id_key(name: str) -> str:
    """Usernames match case-insensitively: ``@Chef_Tony`` and ``chef_tony`` are one account."""
    return name.casefold()


def _numeric_id(name: str, what: str) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        if raw is None:
            raise InvalidParameter(name, "is required")
        if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,19}", raw) or not raw.strip("0"):
            raise InvalidParameter(name, f"must be TikTok's numeric {what} id (1 to 19 digits)")
        return raw

    return parse


def _token_cursor(raw: object, _batch: bool) -> str:
    if raw is None:
        return "0"
    if not isinstance(raw, str) or len(raw) > TOKEN_MAX or not _TOKEN.fullmatch(raw):
        raise InvalidParameter("cursor", "must be the cursor of a previous answer's Link rel=next")
    return raw


def _integer(name: str, raw: object, low: int, high: int, default: int) -> int:
    """``raw`` as an integer in ``low..high``; absent (None) is ``default``, empty text is an error
    (``count=`` is a mistake as surely as ``hashtag=`` is)."""
    if raw is None:
        return default
    if isinstance(raw, str) and not raw.strip():
        raise InvalidParameter(name, "must not be empty")
    if isinstance(raw, bool):
        raise InvalidParameter(name, f"must be an integer from {low} to {high}")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"[0-9]{1,20}", raw.strip()):
        value = int(raw.strip())
    else:
        raise InvalidParameter(name, f"must be an integer from {low} to {high}")
    if not low <= value <= high:
        raise InvalidParameter(name, f"must be an integer from {low} to {high}")
    return value


COUNT = _integer_param(
    "count", "How many distinct playable videos to return.", 1, COUNT_MAX, COUNT_DEFAULT, BATCH_COUNT_MAX
)
CURSOR = _integer_param(
    "cursor", "Where to continue: the cursor of a previous answer's Link rel=next.", 0, CURSOR_MAX, 0
)
HASHTAG = _text_param(
    "hashtag",
    "A hashtag, with or without its leading #: Unicode letters, digits and _; case-insensitive.",
    parse_hashtag,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": HASHTAG_MAX + 1,
        "pattern": r"^#?[\w]+$",
        "examples": ["food", "美食", "café"],
    },
    key_form=hashtag_key,
)
QUERY = _text_param(
    "q",
    "Free text to search for, in any language.",
    parse_query,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": QUERY_MAX,
        # some text that is not white space, and no control characters
        "pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
        "examples": ["pasta", "street food"],
    },
    # TikTok's search is case-insensitive: "Pasta" and "pasta  " are one key (whitespace is folded).
    key_form=str.casefold,
)
VIDEO_ID = _text_param(
    "id",
    "TikTok's numeric video id.",
    parse_video_id,
    {"type": "string", "minLength": 1, "maxLength": 19, "pattern": "^[0-9]*[1-9][0-9]*$"},
    key_form=str,
)


_NUMERIC_ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 19, "pattern": "^[0-9]*[1-9][0-9]*$"}


def count_param(what: str, default: int, high: int = COUNT_MAX) -> Param:
    """``count`` of a route that returns ``what`` (up to ``high`` per answer, 10,000 in a batch)."""
    return _integer_param("count", f"How many {what} to return.", 1, high, default, BATCH_COUNT_MAX)


UNIQUE_ID = _text_param(
    "uniqueId",
    "A creator's username (the @name), with or without its @; case-insensitive.",
    parse_unique_id,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": UNIQUE_ID_MAX + 1,
        "pattern": r"^@?[A-Za-z0-9_.]+$",
        "examples": ["chef_tony"],
    },
    key_form=unique_id_key,
)
MUSIC_ID = _text_param(
    "id", "TikTok's numeric sound (music) id.", _numeric_id("id", "sound"), _NUMERIC_ID_SCHEMA, key_form=str
)
#: the video a comment, reply or related feed belongs to (``-a video=ID`` in a batch crawl)
OF_VIDEO = _text_param(
    "video", "TikTok's numeric video id.", _numeric_id("video", "video"), _NUMERIC_ID_SCHEMA, key_form=str
)
COMMENT_ID = _text_param(
    "comment",
    "TikTok's numeric comment id (a Comment's id).",
    _numeric_id("comment", "comment"),
    _NUMERIC_ID_SCHEMA,
    key_form=str,
)
#: a cursor TikTok chose and only TikTok reads (a creator's posts)
TOKEN_CURSOR = Param(
    "cursor",
    "Where to continue: the cursor of a previous answer's Link rel=next (TikTok's own: pass it back"
    " as given).",
    _token_cursor,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": TOKEN_MAX,
        "pattern": f"^{_CURSOR_PATTERN}$",
        "default": "0",
    },
)


def parse_arguments(
    params: tuple[Param, ...], raw: Mapping[str, object], *, batch: bool = False
) -> dict[str, Value]:
    """Every parameter of ``params`` parsed from ``raw`` (absent ones get their default), in the
    declared order; names ``raw`` has beyond ``params`` are the caller's to refuse."""
    return {param.name: param.parse(raw.get(param.name), batch) for param in params}
