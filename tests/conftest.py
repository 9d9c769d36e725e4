"""Shared fixtures: one emulator process and one Chromium for the whole run, reset between tests.

- ``emulator_server`` (session): ``python -m emulator --port 0 --seed 1`` as a subprocess.
- ``emulator`` (function): the same process, with faults, counters and clock reset before the test.
- ``script_session`` (function): a browserless session on the emulator
  (``harness.script_session.ScriptSession``).
- ``browser`` (session): Debian's Chromium through Playwright's sync API (``tests.in_page``).
- ``page`` (function): a fresh context and page, closed after the test.
- ``emulator_page`` (function): ``page`` already on the emulator's ``/``, so a session is open.
- ``redis_server`` (function): ``redis-server`` on a free loopback port (``harness.deploy.RedisProcess``).
- ``service_server`` (session), ``service`` (function, its emulator reset): ``python -m bridge`` in
  front of the emulator, default settings but no rate limit and a 120 s deadline; tests that need
  other settings start their own ``ServiceProcess``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from harness.deploy import RedisProcess
from harness.emulator import EmulatorProcess
from harness.script_session import ScriptSession
from harness.service import ServiceProcess
from tests.in_page import launch_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorProcess]:
    server = EmulatorProcess("--seed", "1")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tls_emulator_server() -> Iterator[EmulatorProcess]:
    """The emulator over TLS (``--tls``): its ``certificate`` is the PEM file it serves."""
    server = EmulatorProcess("--seed", "1", tls=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tls_emulator(tls_emulator_server: EmulatorProcess) -> EmulatorProcess:
    """The TLS emulator, reset before this test."""
    tls_emulator_server.reset()
    return tls_emulator_server


@pytest.fixture
def emulator(emulator_server: EmulatorProcess) -> EmulatorProcess:
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def script_session(emulator: EmulatorProcess) -> ScriptSession:
    return ScriptSession(emulator.base_url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def emulator_page(page: Page, emulator: EmulatorProcess) -> Page:
    page.goto(emulator.base_url + "/")
    # The home page's own after-load API call is over, so it cannot land in the middle of a test.
    page.wait_for_function("document.body.dataset.afterLoad !== undefined")
    return page


@pytest.fixture(scope="session")
def service_server(emulator_server: EmulatorProcess) -> Iterator[ServiceProcess]:
    # Tests share this process, so nothing one test's faults teach it may carry into the next: no
    # remembered switch to pages, no breaker (both have tests of their own with their own service).
    # The deadline is far above what retries take (four new sessions took 18 s on a loaded machine,
    # past the default 10 s): an expected 502 must not become a 504 because the machine is slow.
    # The deadline itself has tests of their own, with their own service.
    server = ServiceProcess(
        emulator_server,
        TIKTOK_PAGE_STRATEGY_TTL="0",
        BREAKER_THRESHOLD="0",
        TIKTOK_RETRY_BACKOFF="0.05",
        UPSTREAM_TIMEOUT="120",
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def service(service_server: ServiceProcess, emulator: EmulatorProcess) -> ServiceProcess:
    """The shared service; ``emulator`` (reset for this test) is what it talks to."""
    return service_server


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """Debian's redis-server on a free loopback port, for one test."""
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
