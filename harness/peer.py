"""TikTokApi 7.3.3 (PyPI ``TikTokApi``, the most used Python TikTok client), unmodified, against the
emulator over TLS, in a process of its own::

    python -m harness.peer --port PORT --cert PEM [--chromium PATH]

It reads one JSON command per line on stdin (``{"call": "trending", "count": 30}``) and answers each
with one JSON line on stdout: ``{"ok": true, "ms": 31.5, "ids": [...], ...}`` or ``{"ok": false,
"error": "EmptyResponseException", "detail": "..."}``. One process, one browser and one session for
all its calls, as a user of the library would hold them; the bench alternates its calls with ours.

What points TikTokApi at the emulator is the network, never the client: Chromium resolves
``www.tiktok.com`` to the emulator's loopback port (``--host-resolver-rules``, every other name
unresolvable) and trusts the emulator's key alone (``--ignore-certificate-errors-spki-list``), both
through ``override_browser_args``, a documented launch option; in Python, where TikTokApi fetches a
video's page and bytes with ``requests``/``httpx``, ``socket.getaddrinfo`` answers the same for TikTok's
names and refuses every other, and ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE`` name the emulator's
certificate. Nothing this process sends can leave loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness import ROOT
from harness.processes import JsonLinesChild
from settings.env import DEFAULT_CHROMIUM

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from harness.emulator import EmulatorProcess

#: the host TikTokApi hard-codes (every API call, the starting page, the Referer it sends)
TIKTOK_HOST = "www.tiktok.com"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: the calls this process answers (see ``Peer``); each one's arguments are the command's other keys
CALLS = (
    "trending",
    "hashtag_info",
    "hashtag_videos",
    "search",
    "user_search",
    "video_info",
    "video_bytes",
    "user_info",
    "user_videos",
    "comments",
    "replies",
    "sound_info",
    "sound_videos",
    "related",
)


def pin_python_to_loopback(port: int) -> None:
    """TikTok's names resolve to the emulator's port on loopback; anything else does not resolve."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, service: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name == TIKTOK_HOST or name.endswith(".tiktok.com") or name == "tiktok.com":
            return original("127.0.0.1", port, *args, **kwargs)
        if name in LOOPBACK:
            return original(name, service, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: not on loopback, refused by harness.peer")

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def browser_args(port: int, certificate: str) -> list[str]:
    """Chromium's flags: www.tiktok.com is the emulator, its certificate's key the only one trusted."""
    from tiktok_spiders.client.browser import chromium_trust_args  # noqa: PLC0415

    rules = f"MAP {TIKTOK_HOST} 127.0.0.1:{port}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
    return [f"--host-resolver-rules={rules}", *chromium_trust_args(certificate)]


class Peer:
    """One ``TikTokApi`` with one session; each method is one call a user of the library makes."""

    def __init__(self, api: Any) -> None:
        self.api = api

    async def trending(self, count: int = 30) -> dict[str, Any]:
        return {"ids": [video.id async for video in self.api.trending.videos(count=count)]}

    async def hashtag_info(self, name: str) -> dict[str, Any]:
        info = await self.api.hashtag(name=name).info()
        challenge = info["challengeInfo"]["challenge"]
        return {"id": challenge["id"], "title": challenge["title"]}

    async def hashtag_videos(self, name: str, count: int = 30) -> dict[str, Any]:
        hashtag = self.api.hashtag(name=name)
        return {"ids": [video.id async for video in hashtag.videos(count=count)]}

    async def search(self, term: str, count: int = 10) -> dict[str, Any]:
        # 7.3.3 has no search.videos: item search is search_type(term, "item")
        return {"ids": [video.id async for video in self.api.search.search_type(term, "item", count=count)]}

    async def user_search(self, term: str, count: int = 10) -> dict[str, Any]:
        return {"usernames": [user.username async for user in self.api.search.users(term, count=count)]}

    async def video_info(self, url: str) -> dict[str, Any]:
        info = await self.api.video(url=url).info()
        video = info.get("video", {})
        return {
            "id": info["id"],
            "author": info["author"]["uniqueId"],
            # what bytes() downloads; it looks nowhere else (not in bitrateInfo)
            "has_download_address": bool(video.get("downloadAddr") or video.get("playAddr")),
        }

    async def user_info(self, username: str) -> dict[str, Any]:
        user = (await self.api.user(username=username).info())["userInfo"]["user"]
        return {"id": user["id"], "uniqueId": user["uniqueId"], "secUid": user["secUid"]}

    async def user_videos(self, username: str, count: int = 30) -> dict[str, Any]:
        user = self.api.user(username=username)  # videos() looks the secUid up with info() first
        return {"ids": [video.id async for video in user.videos(count=count)]}

    async def comments(self, video_id: str, count: int = 20) -> dict[str, Any]:
        found = [comment async for comment in self.api.video(id=video_id).comments(count=count)]
        return {
            "ids": [comment.id for comment in found],
            "authors": [comment.author.username for comment in found],
            "reply_counts": [comment.as_dict["reply_comment_total"] for comment in found],
        }

    async def replies(self, video_id: str, comment_id: str, count: int = 20) -> dict[str, Any]:
        # a Comment comes from a video's comments (replies() needs its data): find the one asked for
        async for parent in self.api.video(id=video_id).comments(count=200):
            if parent.id == comment_id:
                return {
                    "ids": [reply.id async for reply in parent.replies(count=count)],
                    "parent_found": True,
                }
        return {"ids": [], "parent_found": False}

    async def sound_info(self, sound_id: str) -> dict[str, Any]:
        sound = self.api.sound(id=sound_id)
        info = await sound.info()  # it reads ``stats`` only at the top level; TikTok nests it
        return {"id": sound.id, "title": sound.title, "videoCount": info["musicInfo"]["stats"]["videoCount"]}

    async def sound_videos(self, sound_id: str, count: int = 30) -> dict[str, Any]:
        return {"ids": [video.id async for video in self.api.sound(id=sound_id).videos(count=count)]}

    async def related(self, video_id: str, count: int = 16) -> dict[str, Any]:
        # related_videos() loops until it has ``count``: ask for what one page holds (16)
        return {"ids": [video.id async for video in self.api.video(id=video_id).related_videos(count=count)]}

    async def video_bytes(self, url: str) -> dict[str, Any]:
        video = self.api.video(url=url)
        await video.info()  # bytes() reads the play address from the video's data
        data = await video.bytes()
        return {"length": len(data), "head": data[:12].hex()}


async def answer(peer: Peer, command: dict[str, Any]) -> dict[str, Any]:
    name = command.pop("call", None)
    if name not in CALLS:
        return {"ok": False, "error": "UnknownCall", "detail": f"call must be one of {', '.join(CALLS)}"}
    method: Callable[..., Coroutine[Any, Any, dict[str, Any]]] = getattr(peer, name)
    timeout = float(command.pop("timeout", 60))
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(method(**command), timeout)
    except Exception as error:  # the library's failure is the answer, reported, never fatal
        return {"ok": False, "error": type(error).__name__, "detail": str(error)[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2), **result}


async def serve(port: int, certificate: str, chromium: str, sessions: int, out: TextIO) -> None:
    from TikTokApi import TikTokApi  # noqa: PLC0415 - after the resolver and the trust store are set

    api = TikTokApi(logging_level=logging.ERROR)
    try:
        started = time.perf_counter()
        await api.create_sessions(
            num_sessions=sessions,
            headless=True,
            executable_path=chromium,
            override_browser_args=browser_args(port, certificate),
        )
        ready = {"ok": True, "ready": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
        print(json.dumps(ready), file=out, flush=True)
        peer = Peer(api)
        loop = asyncio.get_running_loop()
        for _ in range(1_000_000):  # bounded; the driver ends it by closing stdin
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            try:
                command = json.loads(line)
                if not isinstance(command, dict):
                    raise ValueError("a command is a JSON object")
            except ValueError as error:
                bad = {"ok": False, "error": "BadCommand", "detail": str(error)}
                print(json.dumps(bad), file=out, flush=True)
                continue
            print(json.dumps(await answer(peer, command)), file=out, flush=True)
    finally:
        await api.close_sessions()
        await api.stop_playwright()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="the emulator's TLS port on 127.0.0.1")
    parser.add_argument("--cert", required=True, help="the PEM certificate the emulator serves")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM)
    parser.add_argument("--sessions", type=int, default=1)
    options = parser.parse_args()
    os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = options.cert
    pin_python_to_loopback(options.port)
    # stdout carries the answers alone: whatever else prints (the library's logging) goes to stderr
    out, sys.stdout = sys.stdout, sys.stderr
    asyncio.run(serve(options.port, options.cert, options.chromium, options.sessions, out))


class PeerProcess:
    """``python -m harness.peer`` against ``emulator`` (which must serve TLS), driven line by line;
    its stderr (the library's own logging) is kept in a log file."""

    def __init__(self, emulator: EmulatorProcess, start_timeout: float = 90.0, sessions: int = 1) -> None:
        assert emulator.certificate is not None, "TikTokApi reaches https://www.tiktok.com only"
        port = emulator.base_url.rsplit(":", 1)[1]
        self.log_path = Path(tempfile.gettempdir()) / f"peer-{os.getpid()}-{id(self)}.log"
        self._log = self.log_path.open("w+", encoding="utf-8")
        command = [sys.executable, "-m", "harness.peer", "--port", port, "--cert", emulator.certificate]
        self.child = JsonLinesChild([*command, "--sessions", str(sessions)], cwd=ROOT, stderr=self._log)
        self.proc = self.child.proc
        ready = self._next(start_timeout)
        if not ready.get("ready"):
            self.stop()
            raise RuntimeError(f"TikTokApi did not start: {ready} {self.log()[-2000:]}")
        #: milliseconds its create_sessions took (the browser launch and one session)
        self.start_ms: float = ready["ms"]

    def _next(self, timeout: float) -> dict[str, Any]:
        answer = self.child.answer(timeout)
        if answer is None:
            return {"ok": False, "error": "NoAnswer", "detail": f"nothing within {timeout:g} s"}
        return answer

    def call(self, call: str, timeout: float = 90.0, **arguments: Any) -> dict[str, Any]:
        """One call of the library (see ``CALLS``); its answer, ``ok`` false when it raised."""
        self.child.send({"call": call, **arguments, "timeout": timeout})
        return self._next(timeout + 10)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8")

    def stop(self) -> None:
        self.child.stop()  # the end of its commands: it closes its sessions and exits
        self._log.close()
        self.log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
