"""`podpiska serve --workers N`: N processes on one port (a socket each, SO_REUSEPORT), on
PostgreSQL only; stopped together by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from podpiska.entrypoints.context import Context
from tests.entrypoints.conftest import CRM_SHOP
from tests.entrypoints.test_cli_admin import admin_context, bad_input


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_several_processes_need_postgresql(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    line = bad_input(context, capsys, "serve", "--workers", "2")
    assert "PostgreSQL" in line
    assert "--workers" in bad_input(context, capsys, "serve", "--workers", "0")


@pytest.mark.postgres_only
def test_serve_in_two_processes_on_one_port(db_url: str, tmp_path: Path) -> None:
    admin_context(db_url, tmp_path)  # the database is migrated; the catalog is loaded below
    port = _free_port()
    env = {
        **os.environ,
        "PODPISKA_DATABASE_URL": db_url,
        "PODPISKA_WORKER": "external",
        "PODPISKA_CATALOG": str(CRM_SHOP),
        "PODPISKA_CACHE_DIR": str(tmp_path / "cache"),
        "PODPISKA_SANDBOX_DIR": str(tmp_path / "sandbox"),
        "PODPISKA_LOG_FORMAT": "text",
    }
    command = [sys.executable, "-c", "from podpiska.app import main; main()", "serve",
               "--workers", "2", "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        answered = 0
        while answered < 20:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    answered += 1
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        serving = [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline")
                   .read_bytes()]  # fmt: skip
        assert len(serving) == 2, children
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0
