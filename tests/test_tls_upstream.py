"""The service against a TikTok that speaks TLS (the emulator's ``--tls``): it trusts the one
certificate ``TIKTOK_CA_FILE`` names, in its browser and in the play proxy, and nothing else."""

from __future__ import annotations

from harness.emulator import EmulatorProcess
from harness.service import ServiceProcess


def test_feeds_and_plays_come_over_tls_from_the_trusted_certificate(tls_emulator: EmulatorProcess) -> None:
    assert tls_emulator.base_url.startswith("https://") and tls_emulator.certificate is not None
    service = ServiceProcess(tls_emulator, TIKTOK_CA_FILE=tls_emulator.certificate)
    try:
        answer = service.get("/trending?count=3", timeout=60)
        assert answer.status == 200, answer.body[:300]
        videos = answer.json()
        assert len(videos) == 3
        assert all(video["video"]["sourceUrl"].startswith(tls_emulator.base_url + "/") for video in videos)
        feeds_before = tls_emulator.stats()["requests"].get("cdn", 0)
        play = service.get(f"/videos/{videos[0]['id']}/play", timeout=60)
        assert play.status == 200, play.body[:300]
        assert play.body[4:8] == b"ftyp"  # an MP4, fetched over TLS by the play proxy
        assert tls_emulator.stats()["requests"].get("cdn", 0) == feeds_before + 1
        assert service.get("/health").json()["status"] == "ok"
    finally:
        service.stop()


def test_without_the_certificate_nothing_is_fetched_and_nothing_answers_500(
    tls_emulator: EmulatorProcess,
) -> None:
    pages_before = tls_emulator.stats()["requests"].get("/", 0)
    service = ServiceProcess(tls_emulator, UPSTREAM_TIMEOUT="5")
    try:
        answer = service.get("/trending?count=3", timeout=60)
        assert answer.status in (502, 503, 504), answer.body[:300]
        assert answer.headers["content-type"] == "application/problem+json"
        # Chromium refused the certificate: the page never reached the emulator
        assert tls_emulator.stats()["requests"].get("/", 0) == pages_before
    finally:
        service.stop()
