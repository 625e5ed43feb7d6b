"""Defect 9 (mock parts): plain bad input to the mock gives a clear error, not a
traceback. A scenario that is not UTF-8, not JSON or a directory (including
through `BRIDLE_MOCK_SCENARIO`), and `mock serve` on a port in use, out of range
or a host it cannot bind each name the problem and the fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.core.errors import ConfigError
from bridle.mock import load_scenario


def bridle(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_scenario_not_utf8_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"name": "x",\n "say": "caf\xe9"}')
    with pytest.raises(ConfigError) as info:
        load_scenario(bad)
    assert str(info.value) == (
        f"{bad}: not UTF-8 text (line 2, column 13: byte 0xe9); save the scenario as UTF-8"
    )


def test_scenario_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: is a directory; pass the path of a scenario JSON file inside it"
    )


def test_scenario_unreadable_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    p = tmp_path / "s.json"
    p.write_text("{}")
    p.chmod(0)
    with pytest.raises(ConfigError, match="cannot read the scenario"):
        load_scenario(p)


def test_mock_check_not_utf8_and_not_json_exit_1_without_traceback(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.json"
    latin.write_bytes(b'{"turns": [\xff]}')
    broken = tmp_path / "broken.json"
    broken.write_text('{"turns": [}')
    r = bridle("mock", "check", str(latin))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        f"bridle: {latin}: not UTF-8 text (line 1, column 12: byte 0xff); "
        "save the scenario as UTF-8\n"
    )
    r = bridle("mock", "check", str(broken))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == f"bridle: {broken}: not valid JSON (line 1, column 12: Expecting value)\n"


def test_bridle_mock_scenario_pointing_at_a_directory(tmp_path: Path) -> None:
    r = bridle(
        "-p",
        "hi",
        "--model",
        "mock/anthropic",
        env={"BRIDLE_MOCK_SCENARIO": str(tmp_path)},
        cwd=tmp_path,
    )
    assert "Traceback" not in r.stderr
    assert r.returncode == 1
    assert f"{tmp_path}: is a directory; pass the path of a scenario JSON file" in r.stderr


def _scenario(tmp_path: Path) -> Path:
    p = tmp_path / "ok.json"
    p.write_text('{"turns": []}')
    return p


def test_serve_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    r = bridle("mock", "serve", "--scenario", str(_scenario(tmp_path)), "--port", "70000")
    assert r.returncode == 64
    assert "Traceback" not in r.stderr
    assert "Invalid value for '--port': 70000 is not in the range 0<=x<=65535." in r.stderr


def test_serve_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = bridle("mock", "serve", "--scenario", str(_scenario(tmp_path)), "--port", str(port))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        f"bridle: cannot listen on 127.0.0.1:{port}: the port is already in use; "
        "pick another with --port, or --port 0 for a free one\n"
    )


def test_serve_host_it_cannot_bind_says_so(tmp_path: Path) -> None:
    # 203.0.113.0/24 is TEST-NET-3: never assigned to a local interface.
    r = bridle("mock", "serve", "--scenario", str(_scenario(tmp_path)), "--host", "203.0.113.1")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        "bridle: cannot listen on 203.0.113.1:0: no local interface has this address; "
        "use --host 127.0.0.1 (or another address of this machine)\n"
    )


def test_serve_log_in_a_missing_directory_fails_at_start(tmp_path: Path) -> None:
    log = tmp_path / "no" / "such" / "dir" / "requests.jsonl"
    r = bridle("mock", "serve", "--scenario", str(_scenario(tmp_path)), "--log", str(log))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        f"bridle: cannot write the request log {log} (No such file or directory); "
        "pass a --log path in a writable directory\n"
    )
