"""Processes the tests and the benchmarks both run, on loopback, each wait bounded in time.

One module per job (the model is Scrapy's ``tests/mockserver``):

- ``processes``: free ports, waiting for a port or a line, stopping a child, a process's descendants
  and the Playwright/Chromium processes among them;
- ``http``: one HTTP(S) request over a fresh connection, its answer whatever the status;
- ``emulator``: ``python -m emulator`` as a subprocess (over TLS on request), with its admin API;
- ``script_session``: a browser-less session on the emulator, signing in Python;
- ``service``: ``python -m bridge`` as a subprocess;
- ``crawls``: crawls in a separate process (``harness.crawl_runner``), their items and stats;
- ``deploy``: the deployment pieces, Redis, nginx and scrapyd.

Not part of the scrapyd egg (``pyproject.toml`` lists what is). ``ROOT`` is the repository root that
every process here is started in.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
