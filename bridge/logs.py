"""The service's log lines (``LOG_FORMAT``): ``plain`` (the default) or ``json``, one line per record
either way, on stderr.

- ``plain``: ``2026-12-03 12:44:36,123 bridge.access INFO [4bf92f35...] GET /trending?count=5 200 1.3ms
  MISS``; the bracketed request id is there only in lines about a request.
- ``json``: one object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
  ``requestId`` (null outside a request), ``exception`` when there is a traceback; an access line adds
  ``method``, ``route`` (the route's template, ``/videos/{id}``, never the caller's path; null off the
  routes), ``target``
  (the request target, up to 200 characters), ``status``, ``ms`` and ``cache`` (``HIT``, ``MISS``,
  ``STALE`` or null).

The root logger's one handler has the ``RequestIds`` filter, which names the request a record is
about: the one given with the record (the access line), else the one being served as it was made
(``bridge.request_ids.current``), which a crawl's task inherits from its request's. Scrapy's records
reach the same handler: the bridge never installs Scrapy's root handler (``scrapy.utils.log``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from bridge import request_ids

if TYPE_CHECKING:
    from settings.env import LogFormat

PLAIN = "%(asctime)s %(name)s %(levelname)s %(request_tag)s%(message)s"
#: what an access line carries besides its message, in its record's ``access`` tuple
#: (``bridge.writer.log_when_finished``)
ACCESS_FIELDS = ("method", "route", "target", "status", "ms", "cache")


class RequestIds(logging.Filter):
    """Gives each record the id of the request it is about (``request_id``, None if none) and the
    plain format's ``request_tag`` (``"[id] "`` or nothing)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = record.__dict__.get("request_id") or request_ids.current.get()
        record.request_id = request_id
        record.request_tag = f"[{request_id}] " if request_id else ""
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (a traceback is a member, its newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.gmtime(record.created)
        document: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": getattr(record, "request_id", None),
        }
        access = getattr(record, "access", None)
        if access is not None:
            document.update(zip(ACCESS_FIELDS, access, strict=True))
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def configure(log_format: LogFormat) -> None:
    """The root logger's one handler, on stderr, in ``log_format``, at INFO."""
    # One access line per request: a record without what the format never shows (the caller's file
    # and line, the thread, the process) costs 8 us where a full one costs 28 (the logging HOWTO's
    # "Optimization" section names these switches).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(PLAIN))
    handler.addFilter(RequestIds())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    if log_format == "json":
        # Python's warnings are lines of their own on stderr (two, with the source line); as records
        # they are JSON lines too.
        logging.captureWarnings(True)
