"""The deployment pieces (README "Deploying") as subprocesses on free loopback ports: Debian's
redis-server, nginx configured from ``deploy/nginx.conf``, and scrapyd run by ``scripts/scrapyd.py``."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import ROOT
from harness.http import Answer, http_request
from harness.processes import free_port, terminate, wait_for_port

SCRAPYD_SCRIPT = ROOT / "scripts" / "scrapyd.py"


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
        listen = re.search(r"listen 127\.0\.0\.1:\d+;", conf)
        assert listen, "deploy/nginx.conf: expected a listen 127.0.0.1:PORT line"
        conf = conf.replace(listen.group(0), f"listen 127.0.0.1:{self.port};")
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


def scrapyd_project() -> str:
    """The project name ``scripts/scrapyd.py`` deploys under: scrapy.cfg's ``[deploy] project``."""
    config = configparser.ConfigParser()
    config.read(ROOT / "scrapy.cfg", encoding="utf-8")
    return config.get("deploy", "project")


class ScrapydProcess:
    """scrapyd started by ``scripts/scrapyd.py start`` (what ``make scrapyd`` runs) in ``directory``,
    on a free loopback port, with ``env`` added to its environment (the crawls inherit it)."""

    def __init__(self, directory: Path, **env: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.project = scrapyd_project()
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
        jobs = http_request(f"{self.url}listjobs.json?project={self.project}").json()
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
        path = self.directory / "items" / self.project / spider / f"{job_id}.jl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def log(self, spider: str, job_id: str) -> str:
        path = self.directory / "logs" / self.project / spider / f"{job_id}.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def stop(self) -> None:
        self.run("stop", "--dir", str(self.directory), timeout=30)
