"""A bare Twisted web server: the same bytes for every GET, nothing else (the throughput reference).

    python -m bench.bare_server BODY_FILE [--reactor asyncio|default]

Listens on a free loopback port and prints ``bare server listening on http://127.0.0.1:PORT``. With
``--reactor asyncio`` it runs on the reactor the service runs on (Twisted's asyncio reactor); ``default``
is Twisted's own choice (epoll on Linux).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, cast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("body", type=Path, help="the file whose bytes every answer carries")
    parser.add_argument("--reactor", choices=("asyncio", "default"), default="asyncio")
    options = parser.parse_args()
    body = options.body.read_bytes()
    if options.reactor == "asyncio":
        from twisted.internet import asyncioreactor  # noqa: PLC0415 (before anything imports the reactor)

        cast("Any", asyncioreactor).install()

    from twisted.internet import reactor  # noqa: PLC0415
    from twisted.web.resource import Resource  # noqa: PLC0415
    from twisted.web.server import Site  # noqa: PLC0415

    length = str(len(body)).encode()
    payload: bytes = body

    class Same(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
            request.setHeader(b"Content-Length", length)
            return payload

    site = cast("Any", Site)(cast("Any", Same)())
    site.log = lambda request: None  # as the service: no access log here
    twisted_reactor = cast("Any", reactor)
    port = twisted_reactor.listenTCP(0, site, interface="127.0.0.1")
    print(f"bare server listening on http://127.0.0.1:{port.getHost().port}", flush=True)
    twisted_reactor.run()


if __name__ == "__main__":
    main()
