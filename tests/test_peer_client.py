"""TikTokApi 7.3.3 (the most used Python TikTok client, PyPI ``TikTokApi``), unmodified, accepts the
emulator as tiktok.com.

It runs in a process of its own (``harness.peer``), launched only with its documented options:
``executable_path`` (Debian's Chromium) and ``override_browser_args`` (``www.tiktok.com`` resolved to
the emulator's TLS port, every other name unresolvable; the emulator's certificate key trusted). Its
own HTTP calls (``requests``/``httpx``: a video's page and bytes) reach the same port through a
loopback-only resolver and trust store. Each call is asserted on the emulator's counters too, so a
call that "worked" from an answer of the wrong route would fail.

TikTokApi's own quirks, not the emulator's, and so not asserted here (emulator/PEER_CLIENT.md has the
source lines): its item search pages with ``cursor`` where TikTok's web app sends ``offset``, so its
second page repeats the first; ``video(id=...).info()`` needs a URL; ``Video.bytes()`` reads only
``downloadAddr``/``playAddr``, never ``bitrateInfo``, so the test picks a video that has one;
``comment.replies()`` sends the comment author's uid as ``item_id`` (the emulator keys replies by
``comment_id``); ``Sound.stats`` stays unset after ``info()`` (it looks at the top level, TikTok nests
it in ``musicInfo``); ``related_videos(count)`` loops until it has ``count``, so it is asked for 16.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from harness.peer import PeerProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

    from harness.emulator import EmulatorProcess


class Peer:
    def __init__(self, process: PeerProcess, opening: dict[str, Any]) -> None:
        self.process = process
        #: the emulator's counters for what create_sessions did
        self.opening = opening

    def call(self, call: str, **arguments: Any) -> dict[str, Any]:
        answer = self.process.call(call, **arguments)
        assert answer["ok"], (call, answer, self.process.log()[-2000:])
        return answer


@pytest.fixture(scope="module")
def peer(tls_emulator_server: EmulatorProcess) -> Iterator[Peer]:
    tls_emulator_server.reset()
    process = PeerProcess(tls_emulator_server)
    try:
        yield Peer(process, tls_emulator_server.stats())
    finally:
        log = process.log()
        process.stop()
    assert "Traceback" not in log, log[-3000:]


def ok_calls(emulator: EmulatorProcess, route: str) -> int:
    stats = emulator.stats()
    assert stats["api_refused"] == {}, stats["api_refused"]  # no call was refused as untrusted
    return int(stats["api_ok"].get(route, 0))


def test_it_opens_a_session_from_the_home_page(peer: Peer) -> None:
    opening = peer.opening
    assert opening["requests"]["/"] == 1  # its starting_url, https://www.tiktok.com
    # The page's own call after load: the request whose headers TikTokApi keeps for all its calls.
    assert opening["api_ok"]["/api/policy/notice/"] >= 1
    assert opening["sessions_opened"] >= 1


def test_trending_30(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    ids = peer.call("trending", count=30)["ids"]
    assert len(ids) == len(set(ids)) == 30
    assert ok_calls(tls_emulator, "/api/recommend/item_list/") >= 1


def test_hashtag_info_and_30_videos(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    info = peer.call("hashtag_info", name="food")
    assert info["title"] == "food"
    ids = peer.call("hashtag_videos", name="food", count=30)["ids"]
    assert len(ids) == len(set(ids)) >= 30
    assert ok_calls(tls_emulator, "/api/challenge/detail/") >= 1
    assert ok_calls(tls_emulator, "/api/challenge/item_list/") >= 1


def test_item_search(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    ids = peer.call("search", term="pasta", count=10)["ids"]
    assert len(ids) == len(set(ids)) >= 10
    assert ok_calls(tls_emulator, "/api/search/item/full/") == 1


def test_user_search(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    usernames = peer.call("user_search", term="chef", count=10)["usernames"]
    assert len(usernames) == 10
    assert all(usernames)
    assert ok_calls(tls_emulator, "/api/search/user/full/") >= 1


def downloadable_video(peer: Peer, emulator: EmulatorProcess) -> str:
    """The page URL of a video whose data has a ``playAddr`` or ``downloadAddr`` (see the docstring)."""
    for video_id in emulator.corpus()["playable_item_ids"][:20]:
        url = f"https://www.tiktok.com/@someone/video/{video_id}"
        if peer.call("video_info", url=url)["has_download_address"]:
            return url
    raise AssertionError("none of 20 playable videos has a playAddr or downloadAddr")


def test_a_video_by_url(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    video_id = tls_emulator.corpus()["playable_item_ids"][0]
    info = peer.call("video_info", url=f"https://www.tiktok.com/@someone/video/{video_id}")
    assert info["id"] == video_id
    assert info["author"]
    # Video(url=...) checks the URL with a HEAD, info() GETs the page: both plain Python requests
    assert tls_emulator.stats()["requests"]["/@<user>/video/<id>"] == 2


def test_video_bytes_are_an_mp4(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    url = downloadable_video(peer, tls_emulator)
    tls_emulator.reset()
    answer = peer.call("video_bytes", url=url)
    head = bytes.fromhex(answer["head"])
    assert head[4:8] == b"ftyp"
    assert answer["length"] > 1000
    stats = tls_emulator.stats()
    assert stats["requests"]["cdn"] == 1
    assert stats["cdn_refused"] == {}  # its cookies, https Referer and User-Agent all passed


def test_api_calls_still_work_after_a_video_page_replaced_the_cookies(
    peer: Peer, tls_emulator: EmulatorProcess
) -> None:
    """video.info() copies the page answer's cookies (a new ttwid) into the browser: TikTok does not
    bind msToken to ttwid as far as public evidence goes (emulator/README.md), and neither may we."""
    video_id = tls_emulator.corpus()["playable_item_ids"][2]
    peer.call("video_info", url=f"https://www.tiktok.com/@someone/video/{video_id}")
    ids = peer.call("trending", count=30)["ids"]
    assert len(ids) == 30
    assert ok_calls(tls_emulator, "/api/recommend/item_list/") >= 1


def test_a_creator_and_their_videos(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    creator = next(c for c in tls_emulator.corpus()["creators"] if c["uniqueId"] == "creator_6")
    user = peer.call("user_info", username="creator_6")
    assert (user["uniqueId"], user["secUid"]) == ("creator_6", creator["secUid"])
    ids = peer.call("user_videos", username="creator_6", count=60)["ids"]
    assert len(ids) == len(set(ids)) >= 60  # two pages, paged by its timestamp cursor
    assert ok_calls(tls_emulator, "/api/user/detail/") == 2  # videos() looks the secUid up first
    assert ok_calls(tls_emulator, "/api/post/item_list/") == 2


def test_an_unknown_creator_fails_as_on_tiktok(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    """TikTok answers an unknown user with ``statusCode`` 10221 beside ``status_code`` 0 and an empty
    ``userInfo``; TikTokApi reads only ``status_code`` and then fails on the missing ``user`` with a
    KeyError, as its users report (TikTok-Api issues #1124, #1158)."""
    answer = peer.process.call("user_info", username="nobody.here")
    assert (answer["ok"], answer["error"]) == (False, "KeyError"), answer
    stats = tls_emulator.stats()
    assert stats["api_refused"] == {}
    assert stats["api_ok"] == {"/api/user/detail/": 1}


def test_comments_and_their_replies(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    video_id = tls_emulator.corpus()["playable_item_ids"][3]
    comments = peer.call("comments", video_id=video_id, count=40)
    assert len(comments["ids"]) == len(set(comments["ids"])) >= 40
    assert all(comments["authors"])
    assert ok_calls(tls_emulator, "/api/comment/list/") >= 2
    parent = next(cid for cid, n in zip(comments["ids"], comments["reply_counts"], strict=True) if n > 1)
    replies = peer.call("replies", video_id=video_id, comment_id=parent, count=2)
    assert replies["parent_found"]
    assert len(replies["ids"]) >= 2
    assert ok_calls(tls_emulator, "/api/comment/list/reply/") >= 1


def test_a_sound_and_its_videos(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    sound_id = tls_emulator.corpus()["shared_sound_ids"][0]
    info = peer.call("sound_info", sound_id=sound_id)
    assert info["id"] == sound_id
    assert info["videoCount"] > 30
    ids = peer.call("sound_videos", sound_id=sound_id, count=30)["ids"]
    assert len(ids) == len(set(ids)) >= 30
    assert ok_calls(tls_emulator, "/api/music/detail/") == 1
    assert ok_calls(tls_emulator, "/api/music/item_list/") >= 1


def test_related_videos(peer: Peer, tls_emulator: EmulatorProcess) -> None:
    video_id = tls_emulator.corpus()["playable_item_ids"][4]
    ids = peer.call("related", video_id=video_id, count=16)["ids"]
    assert len(ids) == len(set(ids)) == 16
    assert video_id not in ids
    assert ok_calls(tls_emulator, "/api/related/item_list/") == 1
