"""``python -m emulator``: help, the address line, option errors."""

from __future__ import annotations

import socket

from harness.emulator import EmulatorProcess, run_emulator
from harness.script_session import ScriptSession


def test_help_lists_the_options() -> None:
    result = run_emulator("--help")
    assert result.returncode == 0
    for option in (
        "--host", "--port", "--seed", "--session-ttl", "--latency-ms", "--jitter-ms",
        "--fault", "--block-api", "--unknown-hashtag", "--faults-json",
    ):  # fmt: skip
        assert option in result.stdout


def test_bad_fault_option_exits_2() -> None:
    result = run_emulator("--port", "0", "--fault", "nonsense=1")
    assert result.returncode == 2
    assert "bad fault option" in result.stderr


def test_prints_one_line_and_honours_seed_and_ttl() -> None:
    server = EmulatorProcess("--seed", "9", "--session-ttl", "5", "--unknown-hashtag", "cats")
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.corpus()["seed"] == 9
        session = ScriptSession(server.base_url)
        params = {"challengeName": "cats"}
        assert session.api("/api/challenge/detail/", params)["statusCode"] == 10205
        server.set_clock_offset(6)
        assert session.get("/api/challenge/detail/", params).body == b""
    finally:
        server.stop()
    assert server.proc.returncode is not None


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_emulator("--port", str(port))
    assert result.returncode == 2
    assert result.stderr == f"emulator: error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert result.stdout == ""


def test_an_address_that_is_not_ours_is_one_line_and_exit_2() -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: bind refuses it locally, nothing is sent.
    result = run_emulator("--host", "192.0.2.1", "--port", "0")
    assert result.returncode == 2
    assert result.stderr == "emulator: error: cannot listen on 192.0.2.1:0: cannot assign requested address\n"
