"""``python -m emulator --tls``: HTTPS with a generated or given certificate, URLs, cookies and the
CDN's Referer following the scheme and host the client used."""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509

from emulator.tls import write_self_signed
from harness.emulator import EmulatorProcess, run_emulator
from harness.http import http_request
from harness.script_session import ScriptSession
from settings.env import DEFAULT_CHROMIUM
from tests.in_page import signed_fetch
from tests.items import play_address
from tiktok_spiders.client.browser import CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Browser

MP4 = (Path(__file__).parent.parent / "emulator" / "assets" / "sample.mp4").read_bytes()


def _certificate(server: EmulatorProcess) -> str:
    assert server.certificate is not None
    return server.certificate


@pytest.fixture
def tls_session(tls_emulator: EmulatorProcess) -> ScriptSession:
    return ScriptSession(tls_emulator.base_url, cafile=_certificate(tls_emulator))


def _item(server: EmulatorProcess, session: ScriptSession) -> dict[str, Any]:
    item_id = server.corpus()["playable_item_ids"][0]
    item: dict[str, Any] = session.api("/api/item/detail/", {"itemId": item_id})["itemInfo"]["itemStruct"]
    return item


def _urls(value: Any) -> Iterator[str]:
    """Every absolute URL in an answer."""
    if isinstance(value, dict):
        for each in value.values():
            yield from _urls(each)
    elif isinstance(value, list):
        for each in value:
            yield from _urls(each)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value


def _port(server: EmulatorProcess) -> int:
    port = urlsplit(server.base_url).port
    assert port is not None
    return port


def test_the_certificate_verifies_for_127_0_0_1(tls_emulator: EmulatorProcess) -> None:
    assert tls_emulator.base_url.startswith("https://127.0.0.1:")
    certificate = _certificate(tls_emulator)
    assert http_request(tls_emulator.base_url + "/", cafile=certificate).status == 200
    # Verification is on: without trusting the certificate, the handshake fails.
    with pytest.raises(ssl.SSLCertVerificationError):
        http_request(tls_emulator.base_url + "/")
    names = (
        x509.load_pem_x509_certificate(Path(certificate).read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "www.tiktok.com"}
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


def test_the_home_page_sets_secure_cookies(tls_emulator: EmulatorProcess) -> None:
    answer = http_request(tls_emulator.base_url + "/", cafile=_certificate(tls_emulator))
    assert answer.status == 200
    assert set(answer.cookies) == {"ttwid", "tt_chain_token"}
    assert len(answer.set_cookie) == 2
    for header in answer.set_cookie:
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"secure", "httponly", "samesite=none", "path=/"} <= attributes, header
    # The page script sets msToken with the same attributes when the page came over https.
    assert '"; Secure; SameSite=None"' in answer.body.decode()


def test_plain_http_cookies_are_unchanged(emulator: EmulatorProcess) -> None:
    answer = http_request(emulator.base_url + "/")
    assert emulator.base_url.startswith("http://")
    assert len(answer.set_cookie) == 2
    for header in answer.set_cookie:
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert "secure" not in attributes, header
        assert {"httponly", "samesite=lax"} <= attributes, header


def test_a_signed_call_over_https_answers_https_urls(
    tls_emulator: EmulatorProcess, tls_session: ScriptSession
) -> None:
    item = _item(tls_emulator, tls_session)
    assert play_address(item).startswith(tls_emulator.base_url + "/video/tos/")
    urls = list(_urls(item))
    assert urls
    assert all(url.startswith(tls_emulator.base_url + "/") for url in urls), urls
    assert tls_emulator.stats()["requests"]["/api/item/detail/"] == 1


def test_the_cdn_wants_the_referer_of_the_origin_used(
    tls_emulator: EmulatorProcess, tls_session: ScriptSession
) -> None:
    url = play_address(_item(tls_emulator, tls_session))
    cookie = f"tt_chain_token={tls_session.cookies['tt_chain_token']}"
    certificate = _certificate(tls_emulator)

    def fetch(referer: str) -> int:
        headers = {"Cookie": cookie, "Referer": referer}
        answer = http_request(url, headers=headers, cafile=certificate)
        assert answer.status != 200 or answer.body == MP4
        return answer.status

    assert fetch(tls_emulator.base_url + "/") == 200
    plain = tls_emulator.base_url.replace("https://", "http://", 1)
    assert fetch(plain + "/") == 403  # the right host, the wrong scheme
    assert fetch("https://example.com/") == 403
    assert tls_emulator.stats()["cdn_refused"] == {"bad_referer": 2}


def test_a_client_reaching_it_as_www_tiktok_com(
    tls_emulator: EmulatorProcess, tls_session: ScriptSession
) -> None:
    """As Chromium does with ``--host-resolver-rules=MAP www.tiktok.com 127.0.0.1:PORT``: the
    connection goes to loopback, the ``Host`` is www.tiktok.com."""
    certificate = _certificate(tls_emulator)
    item_id = tls_emulator.corpus()["playable_item_ids"][0]
    signed = tls_session.url("/api/item/detail/", {"itemId": item_id})
    as_tiktok = {
        "Host": "www.tiktok.com",
        "Cookie": tls_session.cookie_header(),
        "Referer": "https://www.tiktok.com/",
    }
    answer = http_request(signed, headers=as_tiktok, cafile=certificate)
    assert answer.status == 200
    play = play_address(answer.json()["itemInfo"]["itemStruct"])
    assert play.startswith("https://www.tiktok.com/video/tos/")
    on_loopback = tls_emulator.base_url + play.removeprefix("https://www.tiktok.com")
    video = http_request(on_loopback, headers=as_tiktok, cafile=certificate)
    assert video.status == 200
    assert video.body == MP4
    # Reached as www.tiktok.com, the CDN does not take the loopback origin as the Referer.
    elsewhere = {**as_tiktok, "Referer": tls_emulator.base_url + "/"}
    assert http_request(on_loopback, headers=elsewhere, cafile=certificate).status == 403


def test_the_generated_files_go_at_exit() -> None:
    server = EmulatorProcess(tls=True)
    certificate = Path(_certificate(server))
    try:
        assert certificate.is_file()
    finally:
        server.stop()
    assert not certificate.parent.exists()


def test_a_given_cert_and_key_are_served(tmp_path: Path) -> None:
    cert, key = write_self_signed(tmp_path)
    server = EmulatorProcess("--tls", "--cert", str(cert), "--key", str(key))
    try:
        assert server.certificate == str(cert.resolve())
        served = ssl.get_server_certificate(("127.0.0.1", _port(server)))
        assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(cert.read_text())
        assert http_request(server.base_url + "/", cafile=str(cert)).status == 200
    finally:
        server.stop()
    assert cert.is_file()  # a given certificate is the caller's: it stays


def test_a_bad_certificate_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    _, key = write_self_signed(tmp_path)
    result = run_emulator("--port", "0", "--tls", "--cert", str(missing), "--key", str(key))
    assert result.returncode == 2
    assert result.stderr == f"emulator: error: cannot read certificate {missing}: no such file or directory\n"
    assert result.stdout == ""


def test_a_file_that_is_no_certificate_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _, key = write_self_signed(tmp_path)
    result = run_emulator("--port", "0", "--tls", "--cert", str(key), "--key", str(key))
    assert result.returncode == 2
    assert result.stderr == f"emulator: error: cannot load certificate {key}: not a PEM certificate\n"


def test_cert_and_key_go_together_and_with_tls(tmp_path: Path) -> None:
    cert, key = write_self_signed(tmp_path)
    alone = run_emulator("--port", "0", "--tls", "--cert", str(cert))
    assert (alone.returncode, alone.stderr) == (2, "emulator: error: --cert and --key go together\n")
    without_tls = run_emulator("--port", "0", "--cert", str(cert), "--key", str(key))
    assert (without_tls.returncode, without_tls.stderr) == (
        2,
        "emulator: error: --cert and --key need --tls\n",
    )


def test_help_lists_the_tls_options() -> None:
    result = run_emulator("--help")
    assert result.returncode == 0
    for option in ("--tls", "--cert", "--key"):
        assert option in result.stdout


def test_chromium_takes_it_for_www_tiktok_com(browser: Browser, tls_emulator: EmulatorProcess) -> None:
    """The set-up of emulator/README.md's TLS section: www.tiktok.com mapped to the emulator, the
    certificate errors ignored. Every other name maps to nothing, so nothing is resolved."""
    rules = f"MAP www.tiktok.com 127.0.0.1:{_port(tls_emulator)},MAP * ~NOTFOUND"
    chromium = browser.browser_type.launch(
        executable_path=os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}", "--ignore-certificate-errors"],
    )
    try:
        page = chromium.new_page()
        page.set_default_timeout(15_000)
        assert page.goto("https://www.tiktok.com/").status == 200  # type: ignore[union-attr]
        cookies = {each["name"]: each for each in page.context.cookies()}
        assert {"ttwid", "tt_chain_token", "msToken"} <= set(cookies)
        for name in ("ttwid", "tt_chain_token", "msToken"):
            assert cookies[name]["secure"] is True, cookies[name]
            assert cookies[name]["sameSite"] == "None", cookies[name]
        item_id = tls_emulator.corpus()["playable_item_ids"][0]
        detail = signed_fetch(page, "/api/item/detail/", {"itemId": item_id})
        assert detail["status"] == 200
        play = play_address(json.loads(detail["body"])["itemInfo"]["itemStruct"])
        assert play.startswith("https://www.tiktok.com/video/tos/")
        status = page.evaluate("async (url) => (await fetch(url, {credentials: 'include'})).status", play)
        assert status == 200
    finally:
        chromium.close()
