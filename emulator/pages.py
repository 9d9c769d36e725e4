"""HTML pages: ``/``, ``/foryou``, ``/tag/<name>``, ``/@<user>``, ``/@<user>/video/<id>``.

Every page opens (or continues) the session: it sets the ``ttwid`` and ``tt_chain_token`` cookies,
carries ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` with ``webapp.app-context.wid``, and its script sets the
``msToken`` cookie and defines ``window.byted_acrawler.frontierSign``. The script's request layer,
private to its closure, also computes ``X-Gnarly``; the feed pages load their items through it, so
they keep working when "block every API call" is on.

As the real ones do, ``/``, ``/foryou``, ``/tag/<name>`` and ``/@<user>`` keep calling the API after load: once
loaded, they call ``/api/policy/notice/`` through the same layer (TikTokApi copies the headers of the
first request a page makes after load, and has none to copy without one). That route is counted
under its own name, and faults reach it only when they name it, so the counters of the data routes
still only show calls a client asked for. The video page makes no API calls.
"""

from __future__ import annotations

import html
import json
import time
from typing import TYPE_CHECKING, Any

from emulator import around, signing, webutil
from emulator.api import urls_for

if TYPE_CHECKING:
    from twisted.web.server import Request

    from emulator.app import App
    from emulator.sessions import Session

COOKIE_MAX_AGE = 365 * 86_400
#: How long after ``load`` a page makes its own call: long enough that a client that starts listening
#: when navigation returns (TikTokApi) sees it, short enough to fall inside its wait for network idle.
AFTER_LOAD_DELAY_MS = 200
NOTICE_ROUTE = "/api/policy/notice/"

# The page runtime. Placeholders are @@NAME@@; the values are JSON literals (escaped for <script>).
PAGE_SCRIPT = (
    r"""
(function () {
  "use strict";
  var SECRET = @@SECRET@@;
  var GNARLY_SECRET = @@GNARLY@@;
  var MS_TOKEN = @@MS_TOKEN@@;
  var FEED = @@FEED@@;
  document.cookie = "msToken=" + MS_TOKEN + "; path=/; max-age=86400" +
    (location.protocol === "https:" ? "; Secure; SameSite=None" : "; SameSite=Lax");
"""
    + signing.JS_SIGNING
    + r"""
  window.byted_acrawler = Object.freeze({
    frontierSign: function (url) { return {"X-Bogus": keyedSign(SECRET, url)}; }
  });

  var scope = JSON.parse(
    document.getElementById("__UNIVERSAL_DATA_FOR_REHYDRATION__").textContent
  ).__DEFAULT_SCOPE__;
  var wid = scope["webapp.app-context"].wid;

  function readCookie(name) {
    var found = document.cookie.split("; ").filter(function (c) {
      return c.indexOf(name + "=") === 0;
    })[0];
    return found ? found.slice(name.length + 1) : "";
  }

  // The page's own request layer: common parameters, msToken, X-Bogus, then X-Gnarly.
  function apiGet(path, params) {
    var u = new URL(path, location.origin);
    var common = {
      aid: "1988", app_name: "tiktok_web", channel: "tiktok_web", device_platform: "web_pc",
      device_id: wid, region: "US", priority_region: "", os: "linux", cookie_enabled: "true",
      screen_width: String(screen.width), screen_height: String(screen.height),
      browser_language: navigator.language, browser_platform: navigator.platform,
      browser_name: "Mozilla", browser_version: navigator.userAgent.replace(/^Mozilla\//, ""),
      browser_online: "true", app_language: "en", language: "en", tz_name: "UTC",
      is_page_visible: "true", focus_state: "true", is_fullscreen: "false",
      history_len: String(history.length)
    };
    Object.keys(common).forEach(function (k) { u.searchParams.set(k, common[k]); });
    Object.keys(params).forEach(function (k) { u.searchParams.set(k, params[k]); });
    u.searchParams.set("msToken", readCookie("msToken") || MS_TOKEN);
    var url = u.toString();
    url += "&X-Bogus=" + encodeURIComponent(window.byted_acrawler.frontierSign(url)["X-Bogus"]);
    url += "&X-Gnarly=" + encodeURIComponent(keyedSign(GNARLY_SECRET, url));
    return fetch(url, {credentials: "include"}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (text) {
      if (!text) throw new Error("empty body");
      var data = JSON.parse(text);
      if (data.statusCode !== 0) throw new Error("statusCode " + data.statusCode);
      return data;
    });
  }

  // What the real pages keep doing once loaded (notices, settings, ...), through the same layer.
  // ``data-after-load`` says when it is over, for tests that must not race it.
  var AFTER_LOAD = @@AFTER_LOAD@@;
  if (AFTER_LOAD) {
    window.addEventListener("load", function () {
      setTimeout(function () {
        apiGet(AFTER_LOAD.path, AFTER_LOAD.params).then(function () {
          document.body.dataset.afterLoad = "done";
        }, function (error) {
          document.body.dataset.afterLoad = "error";
        });
      }, AFTER_LOAD.delayMs);
    });
  }

  if (!FEED) return;
  var list = document.getElementById("feed");
  var body = document.body;
  var state = {loading: false, done: false, cursor: 0, challengeId: null, pages: 0};

  function setState(name, detail) {
    body.dataset.feedState = name;
    body.dataset.feedPages = String(state.pages);
    if (detail) body.dataset.feedError = detail;
  }

  function render(items) {
    items.forEach(function (item) {
      var div = document.createElement("div");
      div.setAttribute("data-e2e", FEED.kind === "tag" ? "challenge-item" : "recommend-list-item");
      div.dataset.id = item.id;
      div.style.height = "240px";
      var link = document.createElement("a");
      var user = (item.author && item.author.uniqueId) || "user";
      link.href = "/@" + user + "/video/" + item.id;
      link.textContent = "@" + user;
      var desc = document.createElement("p");
      desc.textContent = item.desc || "";
      div.appendChild(link);
      div.appendChild(desc);
      list.appendChild(div);
    });
  }

  function nextPage() {
    if (FEED.kind === "foryou") {
      return apiGet("/api/recommend/item_list/", {from_page: "fyp", count: "30"});
    }
    var id = state.challengeId
      ? Promise.resolve(state.challengeId)
      : apiGet("/api/challenge/detail/", {challengeName: FEED.name}).then(function (d) {
          state.challengeId = d.challengeInfo.challenge.id;
          return state.challengeId;
        });
    return id.then(function (challengeId) {
      return apiGet("/api/challenge/item_list/",
                    {challengeID: challengeId, count: "30", cursor: String(state.cursor)});
    });
  }

  function loadMore() {
    if (state.loading || state.done) return;
    state.loading = true;
    setState("loading");
    nextPage().then(function (data) {
      state.loading = false;
      state.pages += 1;
      render(data.itemList || []);
      if (FEED.kind === "tag") {
        state.cursor = Number(data.cursor);
        state.done = !data.hasMore;
      }
      setState(state.done ? "end" : "idle");
    }).catch(function (error) {
      // A failed page is retried on the next scroll, as TikTok's own page does.
      state.loading = false;
      setState("error", String(error && error.message || error));
    });
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 600;
  }
  window.addEventListener("scroll", function () { if (nearBottom()) loadMore(); }, {passive: true});
  loadMore();
})();
"""
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
</head>
<body data-feed-state="none">
<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{data}</script>
<h1>{heading}</h1>
{content}
<script>{script}</script>
</body>
</html>
"""


def script_json(value: Any) -> str:
    """JSON that is safe inside <script>: no ``</`` can end the element early."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("</", "<\\/")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class Page(webutil.Leaf):
    """Base of every page: session handling, SSR data and the script."""

    route = "/"

    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app

    def session_for(self, request: Request) -> Session:
        sessions = self.app.sessions
        session = sessions.live(webutil.cookie(request, "ttwid"))
        if session is None:
            session = sessions.open()
            self.app.stats.sessions_opened += 1
            for name, value in (("ttwid", session.ttwid), ("tt_chain_token", session.chain_token)):
                webutil.add_cookie(request, name, value, COOKIE_MAX_AGE)
        return session

    def app_context(self, session: Session) -> dict[str, Any]:
        return {
            "language": "en",
            "region": "US",
            "appId": 1988,
            "appType": "m",
            "wid": session.device_id,
            "webIdCreatedTime": str(int(session.created)),
            "odinId": str(int(session.device_id) - 1),
            "nonce": session.ttwid[-12:],
            "botType": "others",
            "requestId": time.strftime("%Y%m%d%H%M%S", time.gmtime()) + session.device_id[-6:],
            "clusterRegion": "US-TTP",
            "user": {},
        }

    # Subclasses fill these in.
    def title(self, request: Request) -> str:
        return "TikTok - Make Your Day"

    def feed(self, request: Request) -> dict[str, str] | None:
        return None

    def after_load(self, request: Request) -> dict[str, Any] | None:
        """The call this page makes on its own once loaded, or None."""
        return None

    def scope(self, request: Request, session: Session) -> dict[str, Any]:
        return {}

    def content(self, request: Request, scope: dict[str, Any]) -> str:
        return ""

    def render_GET(self, request: Request) -> bytes:
        session = self.session_for(request)
        scope: dict[str, Any] = {
            "webapp.app-context": self.app_context(session),
            "webapp.biz-context": {"isMobile": False},
            "seo.abtest": {},
        }
        scope.update(self.scope(request, session))
        script = (
            PAGE_SCRIPT.replace("@@SECRET@@", script_json(session.secret))
            .replace("@@GNARLY@@", script_json(session.gnarly_secret))
            .replace("@@MS_TOKEN@@", script_json(session.ms_token))
            .replace("@@FEED@@", script_json(self.feed(request)))
            .replace("@@AFTER_LOAD@@", script_json(self.after_load(request)))
        )
        title = self.title(request)
        page = PAGE.format(
            title=html.escape(title),
            heading=html.escape(title),
            data=script_json({"__DEFAULT_SCOPE__": scope}),
            content=self.content(request, scope),
            script=script,
        )
        webutil.set_header(request, "content-type", "text/html; charset=utf-8")
        webutil.set_header(request, "cache-control", "no-store")
        return page.encode("utf-8")


def notice_call(from_page: str) -> dict[str, Any]:
    """The after-load call of the home and feed pages (captured as ``/api/policy/notice/?...&from_page=fyp``)."""
    return {"path": NOTICE_ROUTE, "params": {"from_page": from_page}, "delayMs": AFTER_LOAD_DELAY_MS}


class HomePage(Page):
    route = "/"

    def after_load(self, request: Request) -> dict[str, Any] | None:
        return notice_call("fyp")


class ForYouPage(Page):
    route = "/foryou"

    def after_load(self, request: Request) -> dict[str, Any] | None:
        return notice_call("fyp")

    def title(self, request: Request) -> str:
        return "For You | TikTok"

    def feed(self, request: Request) -> dict[str, str] | None:
        return {"kind": "foryou"}

    def content(self, request: Request, scope: dict[str, Any]) -> str:
        return '<div id="feed" data-e2e="recommend-list"></div>'


class TagPage(Page):
    route = "/tag/<name>"

    @staticmethod
    def tag_name(request: Request) -> str:
        return webutil.path(request).removeprefix("/tag/").strip("/")

    def title(self, request: Request) -> str:
        return f"#{self.tag_name(request)} | TikTok"

    def feed(self, request: Request) -> dict[str, str] | None:
        return {"kind": "tag", "name": self.tag_name(request)}

    def after_load(self, request: Request) -> dict[str, Any] | None:
        return notice_call("hashtag")

    def content(self, request: Request, scope: dict[str, Any]) -> str:
        return '<div id="feed" data-e2e="challenge-item-list"></div>'


class ProfilePage(Page):
    """``/@<uniqueId>``: the creator's profile in ``webapp.user-detail`` (as yt-dlp reads it), and
    the profile's own after-load call, as on the other pages."""

    route = "/@<user>"

    @staticmethod
    def unique_id(request: Request) -> str:
        return webutil.path(request).strip("/").removeprefix("@")

    def title(self, request: Request) -> str:
        return f"@{self.unique_id(request)} | TikTok"

    def after_load(self, request: Request) -> dict[str, Any] | None:
        return notice_call("user")

    def scope(self, request: Request, session: Session) -> dict[str, Any]:
        creator = self.app.corpus.creator(self.unique_id(request))
        if creator is None:
            webutil.set_status(request, 404)
            return {
                "webapp.user-detail": {"statusCode": 10221, "statusMsg": "user doesn't exist", "userInfo": {}}
            }
        return {
            "webapp.user-detail": {
                "userInfo": around.user_info(creator, urls_for(self.app, request)),
                "shareMeta": around.share_meta(creator),
                "statusCode": 0,
                "statusMsg": "",
            }
        }

    def content(self, request: Request, scope: dict[str, Any]) -> str:
        user = scope["webapp.user-detail"].get("userInfo", {}).get("user")
        if not user:
            return '<p data-e2e="user-unavailable">Couldn&#39;t find this account</p>'
        return f'<h2 data-e2e="user-title">{html.escape(user["uniqueId"])}</h2>'


class VideoPage(Page):
    route = "/@<user>/video/<id>"

    @staticmethod
    def item_id(request: Request) -> str:
        return webutil.path(request).rstrip("/").rpartition("/")[2]

    def title(self, request: Request) -> str:
        return f"TikTok video {self.item_id(request)}"

    def scope(self, request: Request, session: Session) -> dict[str, Any]:
        corpus = self.app.corpus
        index = corpus.index_of(self.item_id(request))
        if index is None:
            webutil.set_status(request, 404)
            return {"webapp.video-detail": {"statusCode": 10202, "statusMsg": "item doesn't exist"}}
        if corpus.is_private(index):
            return {"webapp.video-detail": {"statusCode": 10216, "statusMsg": "author secret"}}
        item = corpus.item(index, urls_for(self.app, request))
        return {
            "webapp.video-detail": {
                "itemInfo": {"itemStruct": item},
                "shareMeta": {"title": "TikTok video", "desc": item.get("desc", "")},
                "statusCode": 0,
                "statusMsg": "",
            }
        }

    def content(self, request: Request, scope: dict[str, Any]) -> str:
        item = scope["webapp.video-detail"].get("itemInfo", {}).get("itemStruct")
        if item is None:
            return '<p data-e2e="video-unavailable">Video currently unavailable</p>'
        video = item.get("video") or {}
        src = (
            video.get("playAddr")
            or video.get("downloadAddr")
            or next(iter((video.get("bitrateInfo") or [{}])[0].get("PlayAddr", {}).get("UrlList", [])), "")
        )
        desc = html.escape(item.get("desc", ""))
        if not src:
            return f'<p data-e2e="browse-video-desc">{desc}</p>'
        return (
            f'<video id="video" data-e2e="browse-video" src="{html.escape(src)}" '
            f'controls muted playsinline preload="auto"></video>\n'
            f'<p data-e2e="browse-video-desc">{desc}</p>'
        )
