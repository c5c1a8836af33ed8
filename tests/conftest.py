"""Database fixtures: every test that asks for `db_url` (or `engine`, `session_factory`)
runs twice, once on SQLite (`[sqlite]`) and once on PostgreSQL (`[postgresql]`), each time
on a fresh database migrated to head.

Fast: the migrations run once per session into a template (a SQLite file, a PostgreSQL
database); each test gets a copy (`shutil.copyfile`, `CREATE DATABASE ... TEMPLATE`).

PostgreSQL is the server of `PODPISKA_TEST_POSTGRES_URL` (default: postgres on
127.0.0.1:5432). When it cannot be reached:

- `PODPISKA_REQUIRE_POSTGRES=1` (CI): the `[postgresql]` tests fail, saying why;
- otherwise a throwaway cluster is started from the installed PostgreSQL binaries
  (`initdb`, `pg_ctl`, as the `postgres` user when running as root) and stopped at the end;
- if that is impossible too, the `[postgresql]` tests are skipped, loudly: the reason is
  on every skip and repeated at the end of the terminal summary.

`@pytest.mark.postgres_only` marks tests that only PostgreSQL can prove (locking,
concurrency): they take `db_url` as usual and are skipped on the `[sqlite]` run.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from podpiska.adapters.clock import FixedClock
from podpiska.core.db.session import make_engine, make_session_factory, normalize_url
from podpiska.migrate import upgrade
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.helpers import CRM_SHOP, START
from tests.seeded_demo import DemoSeeds

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")

_POSTGRES_NOTE = pytest.StashKey[tuple[str, str]]()  # (severity, text) for the summary


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres_only: proven on PostgreSQL only (locking, concurrency); "
        "the [sqlite] run of a test using db_url is skipped",
    )


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    note = config.stash.get(_POSTGRES_NOTE, None)
    if note is None:
        return
    severity, text = note
    if severity == "skipped":
        terminalreporter.write_sep(
            "!", "WARNING: PostgreSQL tests were SKIPPED", red=True, bold=True
        )
        terminalreporter.write_line(text, red=True, bold=True)
    else:
        terminalreporter.write_line(f"note: {text}", yellow=True)


# --- the PostgreSQL server -----------------------------------------------------------


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _unreachable(url: str) -> str | None:
    """None when PostgreSQL at `url` answers, else the reason in one line."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        lines = str(cause).strip().splitlines()
        return lines[0] if lines else type(cause).__name__
    finally:
        engine.dispose()
    return None


@dataclass
class PostgresServer:
    """A PostgreSQL server on which the tests may create and drop databases."""

    url: str  # of its maintenance database
    admin: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def url_for(self, database: str) -> str:
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        suffix = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.admin.dispose()


def _find_postgres_bin() -> Path | None:
    def version(bin_dir: Path) -> int:
        return int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bin_dir in candidates:
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, on a free port of 127.0.0.1."""

    bin_dir: Path
    base: Path
    port: int
    as_postgres: bool  # we are root: run the binaries as the postgres user

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.base / "postgres.log")
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


def _start_throwaway_cluster() -> tuple[ThrowawayCluster | None, str]:
    """A started cluster, or None and why not."""
    bin_dir = _find_postgres_bin()
    if bin_dir is None:
        return None, "no initdb/pg_ctl found (looked in /usr/lib/postgresql/*/bin and PATH)"
    as_postgres = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="podpiska-pg-"))
    if as_postgres:  # initdb refuses root
        if shutil.which("runuser") is None:
            shutil.rmtree(base, ignore_errors=True)
            return None, "running as root and `runuser` is missing to switch to postgres"
        try:
            postgres = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            return None, "running as root and there is no `postgres` user to run initdb as"
        os.chown(base, postgres.pw_uid, postgres.pw_gid)
    cluster = ThrowawayCluster(bin_dir, base, _free_port(), as_postgres)
    try:
        cluster.start()
    except (subprocess.SubprocessError, OSError) as error:
        output = getattr(error, "stderr", None) or getattr(error, "stdout", None) or ""
        log = cluster.base / "postgres.log"
        if log.exists():
            output += log.read_text(errors="replace")
        cluster.stop()
        lines = output.strip().splitlines()
        errors = [line for line in lines if "FATAL" in line or "ERROR" in line]
        detail = (errors or lines or [str(error)])[0 if errors else -1]
        return None, f"starting a throwaway cluster from {bin_dir} failed: {detail}"
    return cluster, ""


@pytest.fixture(scope="session")
def _postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    url = normalize_url(os.environ.get("PODPISKA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    why = _unreachable(url)
    if why is None:
        server = PostgresServer(url)
        yield server
        server.close()
        return
    if os.environ.get("PODPISKA_REQUIRE_POSTGRES") == "1":
        pytest.fail(
            f"PODPISKA_REQUIRE_POSTGRES=1 but PostgreSQL at {_safe(url)} cannot be reached: "
            f"{why}. Start it or point PODPISKA_TEST_POSTGRES_URL at a server.",
            pytrace=False,
        )
    cluster, why_not = _start_throwaway_cluster()
    if cluster is None:
        text = (
            f"PostgreSQL at {_safe(url)} cannot be reached ({why}) and {why_not}. "
            "Every [postgresql] test was skipped: locking, concurrency and migrations on "
            "PostgreSQL are NOT tested. Set PODPISKA_TEST_POSTGRES_URL, or "
            "PODPISKA_REQUIRE_POSTGRES=1 to make this a failure."
        )
        request.config.stash[_POSTGRES_NOTE] = ("skipped", text)
        pytest.skip(text)
    request.config.stash[_POSTGRES_NOTE] = (
        "info",
        f"PostgreSQL at {_safe(url)} cannot be reached ({why}); the [postgresql] tests ran "
        f"on a throwaway cluster from {cluster.bin_dir} on port {cluster.port}.",
    )
    server = PostgresServer(cluster.url)
    try:
        yield server
    finally:
        server.close()
        cluster.stop()


# --- templates migrated once per session ---------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_template(_postgres_server: PostgresServer) -> Iterator[str]:
    name = f"podpiska_template_{secrets.token_hex(6)}"
    upgrade(_postgres_server.create_database(name))
    yield name
    _postgres_server.drop_database(name)


class PostgresClones:
    """Copies of the template, made ahead of need in the background and dropped in the
    background: CREATE DATABASE takes ~0.4 s on a server that fsyncs, and a few of them
    run well side by side while the tests run."""

    def __init__(self, server: PostgresServer, template: str, *, ahead: int = 3) -> None:
        self.server = server
        self.template = template
        self.ahead = ahead
        self._executor = ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="pg-clone")
        self._ready: deque[Future[str]] = deque()

    def _clone(self) -> str:
        name = f"podpiska_test_{secrets.token_hex(6)}"
        self.server.create_database(name, template=self.template)
        return name

    def take(self) -> str:
        """The name of a fresh database migrated to head, now the caller's to discard."""
        while len(self._ready) < self.ahead:
            self._ready.append(self._executor.submit(self._clone))
        name = self._ready.popleft().result()
        self._ready.append(self._executor.submit(self._clone))
        return name

    def discard(self, name: str) -> None:
        self._executor.submit(self.server.drop_database, name)

    def close(self) -> None:
        for future in self._ready:
            if not future.cancel() and future.exception() is None:
                self.discard(future.result())
        self._executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def _postgres_clones(
    _postgres_server: PostgresServer, _postgres_template: str
) -> Iterator[PostgresClones]:
    clones = PostgresClones(_postgres_server, _postgres_template)
    yield clones
    clones.close()


# --- per test -------------------------------------------------------------------------


@dataclass
class Databases:
    """The databases of one test on one backend: `new()` makes one, migrated to head
    (a copy of the session's template) or empty; they are dropped after the test."""

    backend: str
    tmp_path: Path
    sqlite_template: Path | None = None
    clones: PostgresClones | None = None
    _created: list[str] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new(self, *, migrated: bool = True) -> str:
        if self.clones is None:
            path = self.tmp_path / f"podpiska-{next(self._numbers)}.db"
            if migrated:
                assert self.sqlite_template is not None
                shutil.copyfile(self.sqlite_template, path)
            return f"sqlite:///{path}"
        if migrated:
            name = self.clones.take()
        else:
            name = f"podpiska_test_{secrets.token_hex(6)}"
            self.clones.server.create_database(name)
        self._created.append(name)
        return self.clones.server.url_for(name)

    def copy_of(self, database: str) -> str:
        """A new database copied from `database` (a SQLite file's path, or the name of a
        PostgreSQL database nobody is connected to), dropped after the test."""
        if self.clones is None:
            path = self.tmp_path / f"podpiska-{next(self._numbers)}.db"
            shutil.copyfile(database, path)
            return f"sqlite:///{path}"
        name = f"podpiska_test_{secrets.token_hex(6)}"
        self.clones.server.create_database(name, template=database)
        self._created.append(name)
        return self.clones.server.url_for(name)

    def drop_all(self) -> None:
        if self.clones is not None:
            for name in self._created:
                self.clones.discard(name)


@pytest.fixture(params=[pytest.param(backend, id=backend) for backend in BACKENDS])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    backend: str = request.param
    if backend == "sqlite":
        if request.node.get_closest_marker("postgres_only"):
            pytest.skip("postgres_only: SQLite has no row locks; proven on PostgreSQL")
        made = Databases(
            backend, tmp_path, sqlite_template=request.getfixturevalue("_sqlite_template")
        )
    else:
        request.getfixturevalue("_postgres_server")  # fails or skips here, not in the test
        made = Databases(backend, tmp_path, clones=request.getfixturevalue("_postgres_clones"))
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture
def db_url(databases: Databases) -> str:
    """A fresh database migrated to head, on SQLite and on PostgreSQL."""
    return databases.new()


@pytest.fixture
def empty_db_url(databases: Databases) -> str:
    """A fresh database with no tables at all (on the same backend as `db_url`)."""
    return databases.new(migrated=False)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    made = make_engine(db_url)
    yield made
    made.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(autouse=True)
def _sandbox_state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox gateway keeps its state in a file: each test gets its own, never the
    checkout's `var/sandbox`."""
    monkeypatch.setenv("PODPISKA_SANDBOX_DIR", str(tmp_path / "sandbox-gateway"))


@pytest.fixture(autouse=True)
def _license_key_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`podpiska init` and the worker create the license signing key when it is missing:
    each test gets its own, never the checkout's `var/license-signing.pem`."""
    monkeypatch.setenv("PODPISKA_LICENSE_KEY", str(tmp_path / "license-signing.pem"))


# The use-case tests' set-up: a clock moved by hand (the one fake: the Clock port) and a
# session on a fresh database with the shipped crm-shop catalog loaded.
@pytest.fixture
def clock() -> FixedClock:
    """Noon in Moscow on 2026-11-22; tests move it with `helpers.move_to`."""
    return FixedClock(START)


@pytest.fixture
def db(session_factory: sessionmaker[Session], clock: FixedClock) -> Iterator[Session]:
    """A session on a fresh database with the crm-shop catalog loaded."""
    with session_factory() as session:
        load_catalog_document(session, path=CRM_SHOP, actor="test:setup", clock=clock)
        yield session


@pytest.fixture(scope="session")
def demo_seeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSeeds]:
    """The demo seeded once per backend and session (tests/seeded_demo.py)."""
    seeds = DemoSeeds(tmp_path_factory.mktemp("demo-seeds"))
    yield seeds
    seeds.drop()
