"""The demo seeded once per backend and test session, and copied for each test that asks
(the web tests and the portal's services): `create_demo` replays 200 days of lifecycle, 13 s
a test on a slow machine, and a copy takes a fraction of a second.

A copy is the seed's database (SQLite: the file; PostgreSQL: CREATE DATABASE … TEMPLATE)
with the files written beside it (the mailbox, the catalog's cache, the sandbox gateway's
state, the license key). A seed is made for one public URL: the sandbox gateway writes it
into the payment attempts' confirmation links, so the browser tests' servers all listen on
the session's one port.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.backoffice.demo import create_demo, create_demo_people
from podpiska.config import Settings
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document

if TYPE_CHECKING:
    from tests.conftest import Databases

PROJECT = Path(__file__).resolve().parents[1]
CRM_SHOP = PROJECT / "catalogs" / "crm-shop.yaml"
NOON_IN_MOSCOW = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))

# The files a seed writes beside its database, under the test's tmp_path (tests/conftest.py
# points the sandbox gateway's state there).
_SEED_FILES = ("cache", "mailbox", "sandbox-gateway", "license-signing.pem")


def seeded_settings(db_url: str, tmp_path: Path, *, public_url: str) -> Settings:
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
    settings = seeded_settings(db_url, tmp_path, public_url=public_url)
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


def dispose(context: Context) -> None:
    """Close the context's pooled connections (its database is dropped after the test)."""
    if "sessions" in context.__dict__:
        context.sessions.kw["bind"].dispose()


@dataclass
class DemoSeed:
    database: str  # the SQLite file, or the PostgreSQL template database's name
    files: Path


@dataclass
class DemoSeeds:
    """The session's seeds, by backend and public URL (the `demo_seeds` fixture)."""

    root: Path
    made: dict[tuple[str, str], DemoSeed] = field(default_factory=dict)
    drops: list[Callable[[], None]] = field(default_factory=list)  # the PostgreSQL templates

    def drop(self) -> None:
        for drop in self.drops:
            drop()


def _copy_files(source: Path, target: Path) -> None:
    for name in _SEED_FILES:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        elif (source / name).exists():
            shutil.copy2(source / name, target / name)


def seeded_copy(
    request: pytest.FixtureRequest,
    db_url: str,
    tmp_path: Path,
    *,
    public_url: str = "http://testserver",
) -> Context:
    """`seeded_context` from the session's seed of this backend and URL: the first test that
    asks seeds `db_url` and keeps a copy of it; the next ones get a copy of that."""
    seeds: DemoSeeds = request.getfixturevalue("demo_seeds")
    databases: Databases = request.getfixturevalue("databases")
    key = (databases.backend, public_url)
    seed = seeds.made.get(key)
    if seed is None:
        dispose(seeded_context(db_url, tmp_path, public_url=public_url))
        files = Path(seeds.root / f"seed-{len(seeds.made)}")
        files.mkdir()
        _copy_files(tmp_path, files)
        if databases.clones is None:
            database = str(files / "seed.db")
            shutil.copyfile(make_url(db_url).database or "", database)
        else:
            database = f"podpiska_seed_{secrets.token_hex(6)}"
            server = databases.clones.server
            server.create_database(database, template=make_url(db_url).database)
            seeds.drops.append(partial(server.drop_database, database))
        seeds.made[key] = DemoSeed(database, files)
    else:
        _copy_files(seed.files, tmp_path)
        db_url = databases.copy_of(seed.database)
    settings = seeded_settings(db_url, tmp_path, public_url=public_url)
    return build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
