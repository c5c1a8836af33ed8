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
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.backoffice.demo import DEMO_PEOPLE, create_demo, create_demo_people
from podpiska.config import Settings
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PROJECT = Path(__file__).resolve().parents[3]
CRM_SHOP = PROJECT / "catalogs" / "crm-shop.yaml"
NOON_IN_MOSCOW = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
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


# --- the application on a seeded database ----------------------------------------------


def _seeded_settings(db_url: str, tmp_path: Path, *, public_url: str) -> Settings:
    return Settings(
        env="test",
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        database_url=db_url,
        public_url=public_url,
        mailbox_dir=tmp_path / "mailbox",
        secret_key="web-tests-secret-key-of-at-least-32-chars",
    )


def seeded_context(db_url: str, tmp_path: Path, *, public_url: str) -> Context:
    """A context on `db_url` with the catalog, the demo accounts and the demo people, at
    noon in Moscow on 2026-11-22 (a fixed clock: the states are the same every run)."""
    settings = _seeded_settings(db_url, tmp_path, public_url=public_url)
    context = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    with context.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test:setup", clock=context.clock)
        create_demo(
            db,
            clock=context.clock,
            gateway=context.ports.gateway,
            pay_with_test_card=context.ports.pay_with_test_card,
        )
        create_demo_people(db, clock=context.clock)
    return context


# The files a seed writes beside its database, under the test's tmp_path (the mailbox, the
# catalog's cache, the sandbox gateway's state: tests/conftest.py points it there, and the
# license key).
_SEED_FILES = ("cache", "mailbox", "sandbox-gateway", "license-signing.pem")


@dataclass
class _Seed:
    database: str  # the SQLite file, or the PostgreSQL template database's name
    files: Path
    drop: Callable[[], None] | None = None  # the PostgreSQL template's, at the session's end


@pytest.fixture(scope="session")
def _seeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _Seed]]:
    """The demo seeded once per backend (`create_demo` replays 200 days: 13 s a test on a
    slow machine), copied for each test of the `client` fixture."""
    made: dict[str, _Seed] = {}
    yield made
    for seed in made.values():
        if seed.drop is not None:
            seed.drop()


def _copy_files(source: Path, target: Path) -> None:
    for name in _SEED_FILES:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        elif (source / name).exists():
            shutil.copy2(source / name, target / name)


def seeded_copy(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Context:
    """`seeded_context` at "http://testserver", from the session's seed of this backend
    (seeded by the first test that asks, then copied: the database and its files)."""
    seeds: dict[str, _Seed] = request.getfixturevalue("_seeds")
    databases = request.getfixturevalue("databases")
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    seed = seeds.get(backend)
    if seed is None:
        context = seeded_context(db_url, tmp_path, public_url="http://testserver")
        _dispose(context)
        files = request.getfixturevalue("tmp_path_factory").mktemp(f"seed-{backend}")
        _copy_files(tmp_path, files)
        if backend == "sqlite":
            database = str(files / "seed.db")
            shutil.copyfile(make_url(db_url).database or "", database)
        else:
            server = databases.clones.server
            database = f"podpiska_seed_{secrets.token_hex(6)}"
            server.create_database(database, template=make_url(db_url).database)
        drop = None if backend == "sqlite" else partial(server.drop_database, database)
        seeds[backend] = _Seed(database, files, drop)
    else:
        _copy_files(seed.files, tmp_path)
        if backend == "sqlite":
            shutil.copyfile(seed.database, make_url(db_url).database or "")
        else:
            server = databases.clones.server
            name = f"podpiska_test_{secrets.token_hex(6)}"
            db_url = server.create_database(name, template=seed.database)
            databases._created.append(name)
    settings = _seeded_settings(db_url, tmp_path, public_url="http://testserver")
    return build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))


def _dispose(context: Context) -> None:
    """Close the context's pooled connections (its database is dropped after the test)."""
    if "sessions" in context.__dict__:
        context.sessions.kw["bind"].dispose()


@pytest.fixture
def client(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The whole application (API and web) in-process, on a seeded database (a copy of the
    session's seed)."""
    context = seeded_copy(request, db_url, tmp_path)
    with TestClient(create_app(context), follow_redirects=False) as made:
        yield made
    _dispose(context)


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
        self.join(timeout=10)


@pytest.fixture
def web(db_url: str, tmp_path: Path) -> Iterator[WebServer]:
    """uvicorn serving the application on a free port of 127.0.0.1, on a seeded database."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    context = seeded_context(db_url, tmp_path, public_url=base)
    server = _Uvicorn(create_app(context), port)
    server.start_and_wait()
    try:
        yield WebServer(base, context)
    finally:
        server.stop()
        _dispose(context)


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
