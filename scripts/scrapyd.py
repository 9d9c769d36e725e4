#!/usr/bin/env python3
"""scrapyd for scheduled crawls: start it on loopback, deploy the spiders, schedule a crawl, stop it.

    scripts/scrapyd.py start [--dir var/scrapyd] [--port 6800]   # what `make scrapyd` runs first
    scripts/scrapyd.py deploy [--url http://127.0.0.1:6800/]       # then this
    scripts/scrapyd.py schedule hashtag hashtag=food count=30     # `make schedule SPIDER=... ARGS=...`
    scripts/scrapyd.py stop [--dir var/scrapyd]

``start`` copies ``deploy/scrapyd.conf`` into ``--dir`` and runs scrapyd there in the background (its
log in ``scrapyd.log``, its pid in ``scrapyd.pid``), with this process's environment: the crawls it
runs read ``TIKTOK_BASE_URL``, ``CACHE_URL``, ``CACHE_WARM`` ... from it. ``deploy`` builds the egg
(``setup.py bdist_egg``) and posts it to ``addversion.json``; the URL and project default to
``scrapy.cfg``'s ``[deploy]`` section. ``schedule`` first checks the spider and its arguments as
``scrapy crawl`` does (``tiktok_spiders.commands.crawl.check_crawl``, on this checkout's spiders): a
bad one is one line, ``error: ...``, and exit status 2, and scrapyd is not contacted. Every wait is
bounded.

Run by any Python (``python3 scripts/scrapyd.py``, or the script itself), it re-executes itself under
the repository's ``.venv/bin/python`` when that exists and is not the one running: scrapyd, Scrapy and
the spiders are installed there, and ``start`` runs scrapyd with the same interpreter.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
#: set in the environment of the re-executed script, so it never re-executes twice
REEXECUTED = "TFS_SCRAPYD_REEXECUTED"
#: names scrapyd's schedule.json takes for itself
RESERVED = ("project", "spider", "setting", "jobid", "_version")
EXIT_USAGE = 2
START_TIMEOUT = 20.0
HTTP_TIMEOUT = 60.0


def use_project_venv() -> None:
    """Re-execute under ``.venv/bin/python`` unless it is already the interpreter (or absent)."""
    python = VENV / "bin" / "python"
    if os.environ.get(REEXECUTED) or not python.exists():
        return
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    os.environ[REEXECUTED] = "1"
    os.execv(python, [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606


def scrapy_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "scrapy.cfg")
    return config


def deploy_target() -> tuple[str, str]:
    config = scrapy_cfg()
    return config.get("deploy", "url").rstrip("/") + "/", config.get("deploy", "project")


def usage_error(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def call(url: str, data: bytes | None = None, content_type: str | None = None) -> dict[str, Any]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise SystemExit(f"error: not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")  # noqa: S310
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310 - checked above
        answer: dict[str, Any] = json.loads(response.read())
    if answer.get("status") != "ok":
        raise SystemExit(f"error: scrapyd: {answer.get('message', answer)}")
    return answer


def answering(url: str) -> bool:
    try:
        call(url + "daemonstatus.json")
    except (OSError, SystemExit, ValueError):
        return False
    return True


def start(directory: Path, port: int | None) -> None:
    url = f"http://127.0.0.1:{port or 6800}/"
    if answering(url):
        print(f"scrapyd already answers on {url}")
        return
    config = configparser.ConfigParser()
    config.read(ROOT / "deploy" / "scrapyd.conf")
    if port is not None:
        config.set("scrapyd", "http_port", str(port))
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "scrapyd.conf").open("w", encoding="utf-8") as conf:
        conf.write("# written by scripts/scrapyd.py from deploy/scrapyd.conf\n")
        config.write(conf)
    with (directory / "scrapyd.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapyd"],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `make scrapyd`
        )
    (directory / "scrapyd.pid").write_text(str(proc.pid), encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: scrapyd exited ({proc.returncode}); see {directory / 'scrapyd.log'}")
        if answering(url):
            print(f"scrapyd on {url} (pid {proc.pid}, directory {directory})")
            return
        time.sleep(0.1)  # poll interval of a bounded wait
    proc.terminate()
    raise SystemExit(
        f"error: scrapyd did not answer within {START_TIMEOUT:.0f}s; see {directory / 'scrapyd.log'}"
    )


def stop(directory: Path) -> None:
    pid_file = directory / "scrapyd.pid"
    if not pid_file.exists():
        print("scrapyd is not running (no pid file)")
        return
    pid = int(pid_file.read_text(encoding="utf-8"))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)  # poll interval of a bounded wait
    else:
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink()
    print(f"scrapyd stopped (pid {pid})")


def build_egg(out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "bdist_egg", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    eggs = sorted(out.glob("*.egg"))
    if done.returncode != 0 or not eggs:
        raise SystemExit(f"error: could not build the egg:\n{done.stderr[-2000:]}")
    return eggs[0]


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def deploy(url: str, project: str) -> None:
    version = str(int(time.time()))  # later deploys sort after earlier ones; scrapyd runs the latest
    with tempfile.TemporaryDirectory(prefix="tfs-egg-") as out:
        egg = build_egg(Path(out))
        body, content_type = multipart(
            {"project": project, "version": version}, {"egg": (egg.name, egg.read_bytes())}
        )
    answer = call(url + "addversion.json", body, content_type)
    print(f"deployed {project} version {version} to {url}: {answer['spiders']} spiders")


def checked_arguments(spider: str, arguments: list[str]) -> dict[str, str]:
    """``name=value`` arguments as ``scrapy crawl`` would take them, or exit 2 with one line."""
    pairs: list[tuple[str, str]] = []
    for argument in arguments:
        name, equals, value = argument.partition("=")
        if not equals or not name or name in RESERVED:
            usage_error(f"spider arguments are name=value, not {argument!r}")
        pairs.append((name, value))
    # Imported here: start, stop and deploy need none of the project's packages.
    sys.path.insert(0, str(ROOT))
    try:
        from scrapy.settings import Settings  # noqa: PLC0415
        from scrapy.spiderloader import get_spider_loader  # noqa: PLC0415

        from tiktok_spiders.commands.crawl import BadCrawl, check_crawl  # noqa: PLC0415
    except ImportError as error:
        raise SystemExit(f"error: cannot check the spider arguments ({error}); run make install") from None
    settings = Settings()
    settings.setmodule(scrapy_cfg().get("settings", "default"), priority="project")
    try:
        return check_crawl(get_spider_loader(settings), spider, pairs)
    except BadCrawl as error:
        usage_error(str(error))


def schedule(url: str, project: str, spider: str, arguments: list[str]) -> None:
    fields = {"project": project, "spider": spider, **checked_arguments(spider, arguments)}
    answer = call(url + "schedule.json", urlencode(fields).encode(), "application/x-www-form-urlencoded")
    print(f"scheduled {spider}: job {answer['jobid']}")


def main() -> None:
    use_project_venv()
    default_url, default_project = deploy_target()
    parser = argparse.ArgumentParser(prog="scripts/scrapyd.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop"):
        command = commands.add_parser(name)
        command.add_argument("--dir", type=Path, default=ROOT / "var" / "scrapyd")
        if name == "start":
            command.add_argument("--port", type=int, default=None)
    for name in ("deploy", "schedule"):
        command = commands.add_parser(name)
        command.add_argument("--url", default=default_url)
        command.add_argument("--project", default=default_project)
        if name == "schedule":
            command.add_argument("spider")
            command.add_argument("arguments", nargs="*", metavar="name=value")
    args = parser.parse_args()
    try:
        if args.command == "start":
            start(args.dir.resolve(), args.port)
        elif args.command == "stop":
            stop(args.dir.resolve())
        else:
            url = args.url.rstrip("/") + "/"
            if args.command == "deploy":
                deploy(url, args.project)
            else:
                schedule(url, args.project, args.spider, args.arguments)
    except urllib.error.URLError as error:
        raise SystemExit(f"error: scrapyd unreachable: {error.reason}") from None


if __name__ == "__main__":
    main()
