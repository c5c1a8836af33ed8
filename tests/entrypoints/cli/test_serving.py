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
from typing import Any

import pytest

from podpiska.entrypoints.context import Context
from tests.entrypoints.cli.test_admin import admin_context, bad_input, ok
from tests.entrypoints.conftest import CRM_SHOP


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
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    said = server.stdout.read().decode(errors="replace")[-4000:] if server.stdout else ""
    assert len(serving) == 2, f"{children}: {said}"  # what a process that died printed
    assert code == 0, said


def _serve(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from podpiska.app import main; main()", "serve", *argv]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _call(method: str, url: str, key: str, body: dict[str, object] | None = None) -> Any:
    import json

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_public_url_follows_the_served_port(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`podpiska serve --port P` with no PODPISKA_PUBLIC_URL: the payer is sent to the
    sandbox on port P and the sandbox's notification reaches port P, so the invoice is
    paid (before: both went to the default port 8000 and the attempt stayed pending)."""
    import http.cookiejar
    import urllib.parse

    from podpiska.accounts.apikeys import create_api_key

    context = admin_context(db_url, tmp_path)
    ok(context, capsys, "init")  # migrated, the catalog loaded
    with context.session() as db:
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPISKA_")} | {
        "PODPISKA_DATABASE_URL": db_url,
        "PODPISKA_CATALOG": str(CRM_SHOP),
        "PODPISKA_CACHE_DIR": str(tmp_path / "cache"),
        "PODPISKA_SANDBOX_DIR": str(tmp_path / "sandbox"),
        "PODPISKA_MAILBOX_DIR": str(tmp_path / "mail"),
        "PODPISKA_LOG_FORMAT": "text",
        "PODPISKA_WORKER": "external",
    }
    server = _serve(["--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        account = _call("POST", f"{base}/api/v1/accounts", key,
                        {"name": "ООО «Порт»", "admin_email": "admin@port.ru"})  # fmt: skip
        ordered = _call("POST", f"{base}/api/v1/accounts/{account['id']}/subscriptions", key,
                        {"plan": "standard", "months": 12})  # fmt: skip
        invoice_id = ordered["invoice"]["id"]
        attempt = _call("POST", f"{base}/api/v1/invoices/{invoice_id}/checkout", key,
                        {"method_type": "bank_card"})  # fmt: skip
        assert attempt["confirmation_url"].startswith(f"{base}/sandbox/")

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *_args: Any, **_kw: Any) -> None:
                return None  # the payer is sent back to the return URL: not followed

        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Stay()
        )
        form = urllib.parse.urlencode({"card": "4242 4242 4242 4242"}).encode()
        with opener.open(attempt["confirmation_url"], timeout=10) as page:
            assert page.status == 200
        try:
            opener.open(attempt["confirmation_url"], data=form, timeout=10).close()
        except urllib.error.HTTPError as redirected:
            assert redirected.code in (302, 303), redirected.code
            assert redirected.headers["Location"].startswith(base)
        while _call("GET", f"{base}/api/v1/invoices/{invoice_id}", key)["status"] != "paid":
            assert time.monotonic() < deadline + 30, "the sandbox's notification never came"
            time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_a_busy_port_is_said_in_one_line(db_url: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PODPISKA_")} | {
            "PODPISKA_DATABASE_URL": db_url,
            "PODPISKA_CATALOG": str(CRM_SHOP),
            "PODPISKA_CACHE_DIR": str(tmp_path / "cache"),
        }
        server = _serve(["--port", str(port)], env)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 2, err
    assert out == b""
    lines = err.decode().splitlines()
    assert lines == [
        f"podpiska: port {port} is already in use on 127.0.0.1 (another server is listening "
        "there): stop it or choose another port with --port or PODPISKA_PORT"
    ]
