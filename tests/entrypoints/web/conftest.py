"""The web application under test: a fresh migrated database (SQLite and PostgreSQL, from
`tests/conftest.py`) with the demo data and the demo people, served by a real uvicorn on a
free port, and a headless Chromium driven by Playwright.

How to write a browser test (tests/entrypoints/web/test_browser.py):

    def test_something(page: Page, web: WebServer) -> None:
        log_in(page, web, CUSTOMER)                 # e-mail and password of a demo person
        page.goto(web.url("/portal/1"))
        expect(page.get_by_test_id("plan")).to_contain_text("Стандартный")

Each test gets its own server and database (so it may change anything), a new browser
context (cookies of its own) and, when it ends, a full-page screenshot in
`test-artifacts/web/<test name>.png`. `@pytest.mark.viewport(390, 844)` gives a phone's
screen. Chromium is Debian's (`/usr/bin/chromium`, or `PODPISKA_CHROMIUM`), never one from
`playwright install`; when it is missing the browser tests are skipped loudly, and fail
under CI (`CI=true`) or `PODPISKA_REQUIRE_BROWSER=1`. `make test` installs it.

TestClient-level tests of the same application take `client` (no browser, no server).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.backoffice.demo import DEMO_PEOPLE
from podpiska.entrypoints.context import Context
from tests.seeded_demo import dispose, seeded_copy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PROJECT = Path(__file__).resolve().parents[3]
ARTIFACTS = PROJECT / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_BROWSER_NOTE = pytest.StashKey[str]()


@dataclass(frozen=True)
class Login:
    email: str
    password: str


VENDOR_ADMIN, VENDOR_OPERATOR, CUSTOMER = (Login(email, pw) for email, _, pw in DEMO_PEOPLE)
CUSTOMER_ACCOUNT = 1  # ООО «Ромашка», active (the demo's account of CUSTOMER)
GRACE_ACCOUNT = 3  # ООО «Вектор», in grace on the demo's day
SUSPENDED_ACCOUNT = 2  # ООО «Старт»


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "viewport(width, height): the browser page's size")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    note = config.stash.get(_BROWSER_NOTE, None)
    if note:
        terminalreporter.write_sep("!", "WARNING: browser tests were SKIPPED", red=True, bold=True)
        terminalreporter.write_line(note, red=True, bold=True)


# --- the application on a seeded database (tests/seeded_demo.py) ---------------------------


@pytest.fixture
def client(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The whole application (API and web) in-process, on a seeded database (a copy of the
    session's seed)."""
    context = seeded_copy(request, db_url, tmp_path)
    with TestClient(create_app(context), follow_redirects=False) as made:
        yield made
    dispose(context)


def csrf_of(html: str) -> str:
    """The CSRF token of a rendered page (its forms' hidden field)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def client_log_in(client: TestClient, who: Login) -> None:
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"email": who.email, "password": who.password, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text


# --- a real server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WebServer:
    base: str
    context: Context

    def url(self, path: str) -> str:
        return self.base + path


class _Uvicorn(threading.Thread):
    def __init__(self, app: FastAPI, port: int) -> None:
        super().__init__(name=f"uvicorn-{port}", daemon=True)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)

    def run(self) -> None:
        self.server.run()

    def start_and_wait(self, timeout: float = 20.0) -> None:
        self.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=30)
        if self.is_alive():  # the next test's server needs the port
            raise RuntimeError(f"uvicorn on {self.name} did not stop in 30 s")


@pytest.fixture(scope="session")
def _web_port() -> int:
    """The one port of the browser tests' servers: the session's seed is made for its URL
    (tests/seeded_demo.py), and each test's server listens on it after the last one left."""
    return _free_port()


@pytest.fixture
def web(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, _web_port: int
) -> Iterator[WebServer]:
    """uvicorn serving the application on 127.0.0.1, on a copy of the seeded database."""
    base = f"http://127.0.0.1:{_web_port}"
    context = seeded_copy(request, db_url, tmp_path, public_url=base)
    server = _Uvicorn(create_app(context), _web_port)
    server.start_and_wait()
    try:
        yield WebServer(base, context)
    finally:
        server.stop()
        dispose(context)


# --- the browser -----------------------------------------------------------------------------


def _chromium_path() -> Path:
    return Path(os.environ.get("PODPISKA_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    path = _chromium_path()
    if not path.is_file():
        text = (
            f"Chromium not found at {path}: the browser tests were skipped (install Debian's "
            "`chromium`, as `make test` does, or set PODPISKA_CHROMIUM)."
        )
        if os.environ.get("CI") == "true" or os.environ.get("PODPISKA_REQUIRE_BROWSER") == "1":
            pytest.fail(text, pytrace=False)
        request.config.stash[_BROWSER_NOTE] = text
        pytest.skip(text)
    from playwright.sync_api import expect, sync_playwright

    # expect()'s own wait (5 s by default) as long as the actions' (the page's default
    # below): on two loaded cores a page may take more than 5 s to answer in a full run
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _artifact_name(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name).strip("_") + ".png"


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a browser context of its own (Russian, Moscow time); a screenshot of it is
    saved when the test ends, passed or failed."""
    marker = request.node.get_closest_marker("viewport")
    width, height = marker.args if marker else (1280, 900)
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="ru-RU",
        timezone_id="Europe/Moscow",
    )
    context.set_default_timeout(10_000)
    # a page load waits longer: two CI runs saw /login take over 10 s on two loaded cores
    # (the PostgreSQL side, while the background clones and drops wrote); a page that
    # never answers still fails
    context.set_default_navigation_timeout(30_000)
    made = context.new_page()
    try:
        yield made
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            made.screenshot(path=str(ARTIFACTS / _artifact_name(request.node)), full_page=True)
        finally:
            context.close()


def log_in(page: Page, web: WebServer, who: Login) -> None:
    """Log in through the login form, as a person would."""
    page.goto(web.url("/login"))
    page.get_by_label("E-mail").fill(who.email)
    page.get_by_label("Пароль").fill(who.password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()
