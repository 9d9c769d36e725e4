"""``python -m emulator``: parse the options, listen (over TLS with ``--tls``), print the address,
serve until stopped."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

from twisted.internet import reactor as _reactor
from twisted.internet import ssl
from twisted.internet.error import CannotListenError

from emulator.app import App
from emulator.faults import FAULT_NAMES, FaultConfig, parse_cli_fault
from emulator.server import make_site
from emulator.tls import TlsError, server_options, write_self_signed

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local stand-in for tiktok.com: TikTok's web protocol, defences and faults "
        "on loopback. Prints 'emulator listening on http://HOST:PORT' (https with --tls) once listening; an address it cannot "
        "listen on is one line on stderr and exit status 2. With --tls it serves HTTPS and first prints "
        "'emulator certificate PATH', the PEM file of the certificate it serves.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8900, help="port to bind; 0 picks a free one (default 8900)"
    )
    parser.add_argument("--seed", type=int, default=1, help="corpus and fault seed (default 1)")
    parser.add_argument(
        "--session-ttl",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="seconds a session (ttwid) stays valid (default 3600)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added delay of pages and API calls")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="extra random delay, 0..N ms")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=RATE|NAME=next:N",
        help=f"inject a fault into API calls; NAME is one of {', '.join(FAULT_NAMES)} "
        "(repeatable; e.g. --fault empty_body=0.5 --fault captcha=next:2)",
    )
    parser.add_argument(
        "--block-api",
        action="store_true",
        help="require X-Gnarly, which only the pages' own scripts compute (forces the "
        "rendered-page fallback)",
    )
    parser.add_argument(
        "--unknown-hashtag",
        action="append",
        default=[],
        metavar="NAME",
        help="answer 10205 (hashtag not found) for this corpus hashtag (repeatable)",
    )
    parser.add_argument(
        "--faults-json",
        metavar="JSON",
        help="a full fault configuration, as POST /__emulator__/faults takes; "
        "the options above are applied on top",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS, with a self-signed certificate made at start (for localhost, 127.0.0.1, ::1 "
        "and www.tiktok.com) unless --cert and --key are given",
    )
    parser.add_argument("--cert", type=Path, metavar="FILE", help="with --tls: the PEM certificate to serve")
    parser.add_argument("--key", type=Path, metavar="FILE", help="with --tls: the PEM private key of --cert")
    return parser.parse_args(argv)


def fault_config(args: argparse.Namespace) -> FaultConfig:
    data: dict[str, Any] = json.loads(args.faults_json) if args.faults_json else {}
    if args.latency_ms:
        data["latency_ms"] = args.latency_ms
    if args.jitter_ms:
        data["jitter_ms"] = args.jitter_ms
    if args.block_api:
        data["block_api"] = True
    if args.unknown_hashtag:
        data["unknown_hashtags"] = list(args.unknown_hashtag)
    for text in args.fault:
        name, rule = parse_cli_fault(text)
        data[name] = rule
    return FaultConfig.from_json(data)


def cannot_listen(error: CannotListenError) -> str:
    """One line for a port in use, an address that is not ours, a host name that does not resolve."""
    host = f"[{error.interface}]" if ":" in str(error.interface) else error.interface
    reason = getattr(error.socketError, "strerror", None) or str(error.socketError)
    return f"cannot listen on {host}:{error.port}: {reason[:1].lower()}{reason[1:]}"


def tls_error(args: argparse.Namespace) -> str | None:
    """Why the TLS options do not go together, or None."""
    if (args.cert is None) != (args.key is None):
        return "--cert and --key go together"
    if args.cert is not None and not args.tls:
        return "--cert and --key need --tls"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        faults = fault_config(args)
    except ValueError as error:  # json.JSONDecodeError is a ValueError too
        print(f"emulator: bad fault option: {error}", file=sys.stderr)
        return 2
    problem = tls_error(args)
    if problem:
        print(f"emulator: error: {problem}", file=sys.stderr)
        return 2
    if not args.tls:
        return serve(args, faults, None)
    # The generated certificate and key live only as long as the process: a SIGTERM that comes
    # before the reactor runs (and installs its own handler) must unwind through this ``with`` too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="emulator-tls-") as directory:
        if args.cert is None:
            args.cert, args.key = write_self_signed(Path(directory))
        try:
            options = server_options(args.cert, args.key)
        except TlsError as error:
            print(f"emulator: error: {error}", file=sys.stderr)
            return 2
        return serve(args, faults, (options, args.cert.resolve()))


def _exit_on_sigterm(_signal: int, _frame: object) -> None:
    reactor = cast(Any, _reactor)
    if getattr(reactor, "_started", False):
        # The reactor has begun but not yet installed its own handler: an exception raised here
        # would land in its main loop, which logs it and runs on (until SIGKILL, leaving the TLS
        # files behind). Stop it the way its own handler would.
        reactor.callFromThread(reactor.stop)
        return
    raise SystemExit(0)


def serve(
    args: argparse.Namespace, faults: FaultConfig, tls: tuple[ssl.CertificateOptions, Path] | None
) -> int:
    """Listen (over TLS when ``tls`` gives the options and the certificate's path), print the
    address line, run until stopped."""
    # Twisted's reactor is typed through zope interfaces, which mypy cannot follow without a plugin.
    reactor = cast(Any, _reactor)
    app = App(reactor=reactor, seed=args.seed, session_ttl=args.session_ttl)
    app.configure_faults(FaultConfig.from_json(faults.to_json()))
    site = make_site(app, faults)
    try:
        if tls is None:
            port = reactor.listenTCP(args.port, site, interface=args.host)
        else:
            port = reactor.listenSSL(args.port, site, tls[0], interface=args.host)
    except CannotListenError as error:
        print(f"emulator: error: {cannot_listen(error)}", file=sys.stderr)
        return 2
    if args.host not in LOOPBACK:
        print(f"emulator: warning: listening on {args.host}, not loopback", file=sys.stderr)
    address = port.getHost()
    host = f"[{address.host}]" if ":" in address.host else address.host
    if tls is not None:
        print(f"emulator certificate {tls[1]}", flush=True)
    scheme = "http" if tls is None else "https"
    print(f"emulator listening on {scheme}://{host}:{address.port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
