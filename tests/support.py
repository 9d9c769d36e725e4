"""Helpers shared by the test files: run the emulator, talk HTTP to it, launch Chromium, sign calls.

Loopback only; every wait is bounded in time.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
LISTENING = re.compile(r"^emulator listening on (http://\S+)$")

# What TikTok's web app sends on every API call (TIKTOK_PROTOCOL.md); device_id is added per session.
COMMON_PARAMS: dict[str, str] = {
    "aid": "1988",
    "app_name": "tiktok_web",
    "channel": "tiktok_web",
    "device_platform": "web_pc",
    "region": "US",
    "os": "linux",
    "cookie_enabled": "true",
    "browser_language": "en-US",
    "browser_name": "Mozilla",
    "browser_online": "true",
    "app_language": "en",
    "language": "en",
    "tz_name": "Europe/Paris",
    "is_page_visible": "true",
    "focus_state": "true",
    "is_fullscreen": "false",
}


# --- plain HTTP ----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Answer:
    """One request over a fresh connection; any status is an answer, not an exception."""
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "tests talk to loopback only"
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, target or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies: dict[str, str] = {}
        for raw in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            cookies.update({name: morsel.value for name, morsel in jar.items()})
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, cookies)
    finally:
        conn.close()


def first_matching_line(
    proc: subprocess.Popen[str], pattern: re.Pattern[str], timeout: float
) -> re.Match[str] | None:
    """The first line of ``proc``'s stdout that ``pattern`` matches, within ``timeout`` seconds;
    None if the process exits or stays silent first."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:  # exited
                break
            match = pattern.match(line.strip())
            if match:
                return match
    return None


# --- the emulator as a subprocess ----------------------------------------------------------------


class EmulatorProcess:
    """``python -m emulator --port 0 ...`` in a subprocess, plus its admin API."""

    def __init__(self, *args: str, start_timeout: float = 20.0) -> None:
        self.args = ["--port", "0", *args]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", *self.args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._read_address(start_timeout)

    def _read_address(self, timeout: float) -> str:
        match = first_matching_line(self.proc, LISTENING, timeout)
        if match:
            return match.group(1)
        self.stop()
        raise RuntimeError(f"emulator did not start: {self.stderr_text()}")

    def stderr_text(self) -> str:
        return self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""

    def stop(self) -> None:
        terminate(self.proc)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    # admin API

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        body = json.dumps(payload).encode() if payload is not None else None
        answer = http_request(self.base_url + "/__emulator__/" + path, method=method, body=body)
        assert answer.status == 200, (answer.status, answer.body)
        return answer.json()

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("POST", "faults", faults)
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "faults")
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self.admin("POST", "stats/reset")

    def reset(self) -> None:
        """Faults, counters and clock back to how the process started."""
        self.admin("POST", "reset")

    def corpus(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "corpus")
        return result

    def set_clock_offset(self, seconds: float) -> None:
        self.admin("POST", "clock", {"offset_s": seconds})

    def expire_sessions(self) -> int:
        expired: int = self.admin("POST", "sessions/expire")["expired"]
        return expired

    def hashtag_id(self, title: str) -> str:
        for tag in self.corpus()["hashtags"]:
            if tag["title"] == title:
                return str(tag["id"])
        raise KeyError(title)


# --- a session without a browser (emulator tests only) -------------------------------------------


class ScriptSession:
    """Opens ``/`` over plain HTTP and signs calls in Python with the secret read from the page.

    This is what the public pure-Python signers do, and why they break: it relies on the
    emulator's page layout. It exists to test the emulator quickly; the service must sign in the
    page (``SIGNED_FETCH_JS``).
    """

    def __init__(self, base_url: str, home: str = "/") -> None:
        self.base_url = base_url
        page = http_request(base_url + home)
        assert page.status == 200, page.status
        self.cookies = dict(page.cookies)
        text = page.body.decode()
        self.secret = script_value(text, "SECRET")
        self.gnarly_secret = script_value(text, "GNARLY_SECRET")
        self.ms_token = script_value(text, "MS_TOKEN")
        self.cookies["msToken"] = self.ms_token  # as the page script does
        self.universal_data = universal_data(text)
        self.device_id: str = self.universal_data["__DEFAULT_SCOPE__"]["webapp.app-context"]["wid"]

    def url(
        self,
        path: str,
        params: dict[str, str],
        *,
        sign: bool = True,
        gnarly: bool = False,
        ms_token: str | None = None,
    ) -> str:
        from emulator import signing

        query = {**COMMON_PARAMS, "device_id": self.device_id, **params}
        query["msToken"] = self.ms_token if ms_token is None else ms_token
        url = f"{self.base_url}{path}?{urlencode(query)}"
        if sign:
            url += "&X-Bogus=" + signing.sign(self.secret, url)
        if gnarly:
            url += "&X-Gnarly=" + signing.sign(self.gnarly_secret, url)
        return url

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def get_url(self, url: str, **kwargs: Any) -> Answer:
        headers = {"Cookie": self.cookie_header(), "Referer": self.base_url + "/"}
        return http_request(url, headers=headers, **kwargs)

    def get(self, path: str, params: dict[str, str], **kwargs: Any) -> Answer:
        sign_kwargs = {k: kwargs.pop(k) for k in ("sign", "gnarly", "ms_token") if k in kwargs}
        return self.get_url(self.url(path, params, **sign_kwargs), **kwargs)

    def api(self, path: str, params: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        answer = self.get(path, params, **kwargs)
        assert answer.status == 200, answer.status
        assert answer.body, "empty body: the emulator refused the call"
        result: dict[str, Any] = answer.json()
        return result


def script_value(page: str, name: str) -> str:
    match = re.search(rf'var {name} = ("(?:[^"\\]|\\.)*");', page)
    assert match, f"{name} not found in the page script"
    value: str = json.loads(match.group(1))
    return value


def universal_data(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">(.*?)</script>',
        page,
        re.S,
    )
    assert match, "no __UNIVERSAL_DATA_FOR_REHYDRATION__"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


# --- items ---------------------------------------------------------------------------------------


def play_address(item: dict[str, Any]) -> str:
    """The first play address of an item, wherever TikTok put it ('' when none)."""
    video = item.get("video") or {}
    for info in video.get("bitrateInfo") or []:
        urls = (info.get("PlayAddr") or {}).get("UrlList") or []
        if urls:
            return str(urls[0])
    return str(video.get("playAddr") or video.get("downloadAddr") or "")


def is_playable(item: dict[str, Any]) -> bool:
    return not item.get("isAd") and "imagePost" not in item and bool(play_address(item))


# --- the browser ---------------------------------------------------------------------------------


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        headless=True,
        args=CHROMIUM_ARGS,
    )


# How the service calls the API: in the page, common params + msToken, frontierSign, fetch.
SIGNED_FETCH_JS = """
async ({path, params, common}) => {
  const scope = JSON.parse(
    document.getElementById("__UNIVERSAL_DATA_FOR_REHYDRATION__").textContent).__DEFAULT_SCOPE__;
  const msToken = document.cookie.split("; ").find((c) => c.startsWith("msToken=")).slice(8);
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(common)) u.searchParams.set(k, v);
  u.searchParams.set("device_id", scope["webapp.app-context"].wid);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  u.searchParams.set("msToken", msToken);
  const url = u.toString();
  const signed = url + "&X-Bogus=" +
    encodeURIComponent(window.byted_acrawler.frontierSign(url)["X-Bogus"]);
  const response = await fetch(signed, {credentials: "include"});
  return {url: signed, status: response.status, body: await response.text()};
}
"""


def signed_fetch(page: Page, path: str, params: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        SIGNED_FETCH_JS, {"path": path, "params": params, "common": COMMON_PARAMS}
    )
    return result


# --- crawls in a separate process (tests.crawl_runner) -------------------------------------------


@dataclass
class CrawlResult:
    elapsed: float
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    browser_launches: int
    sessions_opened: int

    @property
    def ids(self) -> list[str]:
        return [str(item["id"]) for item in self.items]

    def dropped(self, reason: str) -> int:
        return int(self.stats.get(f"videos/dropped/{reason}", 0))


#: fast recovery for tests: the backoff schedule is the same, only shorter
TEST_CRAWL_SETTINGS = {"TIKTOK_RETRY_BACKOFF": "0.02", "TIKTOK_RETRY_BACKOFF_MAX": "0.1"}


def run_crawls(
    emulator: EmulatorProcess,
    crawls: list[dict[str, Any]],
    settings: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> list[CrawlResult]:
    """Run ``crawls`` one after another in one fresh process against ``emulator``."""
    overrides = [f"-s{name}={value}" for name, value in {**TEST_CRAWL_SETTINGS, **(settings or {})}.items()]
    env = {**os.environ, "TIKTOK_BASE_URL": emulator.base_url}
    done = subprocess.run(
        [sys.executable, "-m", "tests.crawl_runner", json.dumps(crawls), *overrides],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [CrawlResult(**json.loads(line)) for line in done.stdout.splitlines() if line.startswith("{")]


def run_crawl(
    emulator: EmulatorProcess, spider: str, settings: dict[str, str] | None = None, **args: Any
) -> CrawlResult:
    (result,) = run_crawls(emulator, [{"spider": spider, "args": args}], settings)
    return result


# --- the HTTP service (python -m bridge) as a subprocess -----------------------------------------

SERVING = re.compile(r"^serving on (http://\S+)$")


class ServiceProcess:
    """``python -m bridge`` on a free loopback port, in front of ``emulator``; its stderr is kept."""

    def __init__(self, emulator: EmulatorProcess, start_timeout: float = 30.0, **env: str) -> None:
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bridge-{os.getpid()}-{id(self)}.log"
        self._log = self.log_path.open("w+", encoding="utf-8")
        environment = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": "0",
            "TIKTOK_BASE_URL": emulator.base_url,
            "RATE_LIMIT": "off",
            **env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.base_url = self._read_address(start_timeout)

    def _read_address(self, timeout: float) -> str:
        match = first_matching_line(self.proc, SERVING, timeout)
        if match:
            return match.group(1)
        log = self.log()
        self.stop()
        raise RuntimeError(f"service did not start (exit {self.proc.returncode}): {log[-2000:]}")

    def get(self, path: str, **kwargs: Any) -> Answer:
        return http_request(self.base_url + path, **kwargs)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8")

    def stop(self) -> None:
        terminate(self.proc, grace=15)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


# --- the deployment pieces: Redis, nginx, scrapyd (README "Deploying") ---------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # poll interval of a bounded wait
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def terminate(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, ``grace`` seconds to exit, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class RedisProcess:
    """Debian's ``redis-server`` on a free loopback port, no persistence, in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for_port(self.port, self.proc)
        except RuntimeError:
            terminate(self.proc)
            raise

    def flush(self) -> None:
        import redis

        with redis.Redis.from_url(self.url) as client:
            client.flushall()

    def stop(self) -> None:
        terminate(self.proc)


class NginxProcess:
    """nginx (not the system service) on a free loopback port in front of ``upstreams``, its
    configuration made from the repository's ``deploy/nginx.conf`` with only the addresses changed."""

    def __init__(self, prefix: Path, upstreams: list[str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        template = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+[^;]*;\n", template, re.M)
        assert len(servers) >= 2, "deploy/nginx.conf: expected the upstream servers of two instances"
        upstream_lines = "".join(f"        server {urlsplit(url).netloc} max_fails=1;\n" for url in upstreams)
        conf = template.replace("".join(servers), upstream_lines)
        assert "listen 127.0.0.1:8080;" in conf, "deploy/nginx.conf: expected listen 127.0.0.1:8080"
        conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        for sub in ("logs", "temp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
        self.proc = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
             "-g", f"daemon off; pid {prefix / 'nginx.pid'}; error_log {prefix / 'logs' / 'error.log'} warn;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            wait_for_port(self.port, self.proc)
        except RuntimeError as error:
            terminate(self.proc)
            stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"nginx did not start: {stderr[-2000:]}") from error

    def get(self, path: str, **kwargs: Any) -> Answer:
        return http_request(self.base_url + path, **kwargs)

    def stop(self) -> None:
        terminate(self.proc)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


SCRAPYD_SCRIPT = ROOT / "scripts" / "scrapyd.py"


class ScrapydProcess:
    """scrapyd started by ``scripts/scrapyd.py start`` (what ``make scrapyd`` runs) in ``directory``,
    on a free loopback port, with ``env`` added to its environment (the crawls inherit it)."""

    def __init__(self, directory: Path, **env: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = {**os.environ, **env}
        self.run("start", "--dir", str(directory), "--port", str(self.port))

    def run(self, *args: str, timeout: float = 120.0) -> str:
        done = subprocess.run(
            [sys.executable, str(SCRAPYD_SCRIPT), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def deploy(self) -> str:
        return self.run("deploy", "--url", self.url)

    def schedule(self, spider: str, *arguments: str) -> str:
        output = self.run("schedule", "--url", self.url, spider, *arguments)
        match = re.search(r"job (\w+)", output)
        assert match, output
        return match.group(1)

    def job(self, job_id: str) -> tuple[str, dict[str, Any]]:
        jobs = http_request(self.url + "listjobs.json?project=tiktok_spiders").json()
        for state in ("pending", "running", "finished"):
            for job in jobs[state]:
                if job["id"] == job_id:
                    return state, job
        raise AssertionError(f"no job {job_id}: {jobs}")

    def wait_finished(self, job_id: str, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state, job = self.job(job_id)
            if state == "finished":
                return job
            time.sleep(0.2)  # poll interval of a bounded wait
        raise AssertionError(f"job {job_id} not finished after {timeout}s")

    def items(self, spider: str, job_id: str) -> list[dict[str, Any]]:
        path = self.directory / "items" / "tiktok_spiders" / spider / f"{job_id}.jl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def log(self, spider: str, job_id: str) -> str:
        path = self.directory / "logs" / "tiktok_spiders" / spider / f"{job_id}.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def stop(self) -> None:
        self.run("stop", "--dir", str(self.directory), timeout=30)


# --- the service's browser processes (chaos tests, the soak) -------------------------------------


def descendants(pid: int) -> list[tuple[int, list[str]]]:
    """Every process below ``pid`` with its argv, read from /proc (bounded to 10,000)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry))
    found: list[tuple[int, list[str]]] = []
    todo = list(children.get(pid, []))
    while todo and len(found) < 10_000:
        current = todo.pop()
        try:
            raw = Path(f"/proc/{current}/cmdline").read_bytes().decode("utf-8", "replace")
            # Chromium rewrites its command line as one space-separated string (its process title).
            argv = [arg for arg in raw.replace("\0", " ").split(" ") if arg]
        except OSError:
            continue
        todo.extend(children.get(current, []))
        if argv:  # a zombie, or a process exiting right now, has no command line any more
            found.append((current, argv))
    return found


@dataclass
class BrowserProcesses:
    """The Playwright driver, Chromium's browser process and its renderers under one process."""

    driver: list[int]
    browser: list[int]
    renderers: list[int]


def browser_processes(pid: int) -> BrowserProcesses:
    tree = descendants(pid)
    driver = [
        each for each, argv in tree if "playwright" in " ".join(argv[:2]) and "driver" in " ".join(argv[:2])
    ]
    chromium = [(each, argv) for each, argv in tree if "chrom" in Path(argv[0]).name]
    return BrowserProcesses(
        driver=driver,
        browser=[each for each, argv in chromium if not any(arg.startswith("--type=") for arg in argv)],
        renderers=[each for each, argv in chromium if "--type=renderer" in argv],
    )
