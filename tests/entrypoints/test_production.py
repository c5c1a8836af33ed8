"""Production refuses what is only safe in development: the sandbox gateway (test cards),
the public development secret or a weak one, `podpiska init --demo`, and a database holding
the demo's people (published passwords) or keys. Each refusal is one line at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from podpiska.accounts.apikeys import create_api_key, revoke_api_key
from podpiska.accounts.models import ApiKey, WebUser
from podpiska.accounts.people import change_password, log_in
from podpiska.app import create_app
from podpiska.backoffice.demo import DEMO_KEY_NAME, DEMO_PEOPLE, create_demo_people
from podpiska.config import DEVELOPMENT_SECRET, Settings
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.production import unsafe_production

STRONG = "k3J9-qX2vLm8ZpT4wR7yN1cB6dF0hGsA"
PRODUCTION: dict[str, Any] = {
    "env": "production",
    "secret_key": STRONG,
    "gateway": "yookassa",
    "yookassa_shop_id": "123456",
    "yookassa_secret_key": "live_not_a_real_key",
}


def _refused(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)
    return str(caught.value.errors()[0]["msg"])


def test_production_refuses_the_sandbox_gateway() -> None:
    assert "PODPISKA_GATEWAY=sandbox" in _refused(**{**PRODUCTION, "gateway": "sandbox"})
    assert Settings(**PRODUCTION).gateway == "yookassa"


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        (None, "must be set"),
        (DEVELOPMENT_SECRET, "development secret"),
        ("s" * 40, "repeats 1 character"),
        ("ab" * 20, "repeats 2 character"),
        ("Sh0rt-but-random", "at least 32 characters"),
    ],
)
def test_production_refuses_a_missing_development_or_weak_secret(
    secret: str | None, why: str
) -> None:
    values = (
        {**PRODUCTION, "secret_key": secret}
        if secret
        else {k: v for k, v in PRODUCTION.items() if k != "secret_key"}
    )
    assert why in _refused(**values)


def test_only_development_takes_the_development_secret() -> None:
    assert "development secret" in _refused(env="test", secret_key=DEVELOPMENT_SECRET)
    assert "repeats 1 character" in _refused(env="test", secret_key="x" * 64)
    assert Settings(env="development").secret_key == DEVELOPMENT_SECRET
    made = Settings(env="test").secret_key  # the tests: a random secret of this process
    assert made != DEVELOPMENT_SECRET and len(made) >= 32
    assert Settings(env="test").secret_key == made


def test_the_console_script_says_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPISKA_")}
    env.update(PODPISKA_ENV="production", PODPISKA_SECRET_KEY=STRONG, PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "from podpiska.app import main; main()", "serve"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "podpiska: PODPISKA_GATEWAY=sandbox takes test cards: production needs "
        "PODPISKA_GATEWAY=yookassa"
    ]
    assert STRONG not in result.stderr


def test_sandbox_pages_are_not_served_in_production(db_contexts: Callable[..., Context]) -> None:
    def sandbox_page(context: Context) -> str:
        return TestClient(create_app(context)).get("/sandbox/checkout/p-1").text

    assert "Платёж не найден" in sandbox_page(db_contexts())  # the sandbox answers
    assert "Платёж не найден" not in sandbox_page(db_contexts(**PRODUCTION))


def _one_line(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = run(context, list(argv))
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_init_demo_is_refused_in_production(
    db_contexts: Callable[..., Context], capsys: pytest.CaptureFixture[str]
) -> None:
    production = db_contexts(**PRODUCTION)
    line = _one_line(production, capsys, "init", "--demo")
    assert "--demo is refused in production" in line
    with production.session() as db, db.begin():  # nothing was written
        assert db.scalar(select(func.count()).select_from(WebUser)) == 0
        assert db.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_production_refuses_to_serve_a_database_with_demo_credentials(
    db_contexts: Callable[..., Context], capsys: pytest.CaptureFixture[str]
) -> None:
    development = db_contexts(load_catalog=True)
    with development.session() as db:  # what `podpiska init --demo` leaves
        create_demo_people(db, clock=development.clock)
        create_api_key(
            db, role="vendor_admin", name=DEMO_KEY_NAME, actor="cli", clock=development.clock
        )
    production = db_contexts(**PRODUCTION)
    line = _one_line(production, capsys, "serve", "--port", "1")
    assert line.startswith("podpiska: production refuses to start")
    assert "admin@podpiska.example logs in with its demo password" in line
    assert "demo API key" in line
    assert unsafe_production(development) is None  # development keeps its demo

    with production.session() as db:  # the operator closes each door
        for email, _, password in DEMO_PEOPLE:
            try:
                person = log_in(db, email=email, password=password, clock=production.clock)
            except Exception:
                continue
            change_password(
                db,
                person_id=person.id,
                current_password=password,
                new_password="a new and long password 7",
                actor="test",
                clock=production.clock,
            )
        with db.begin():
            prefixes = list(db.scalars(select(ApiKey.prefix)))
        for prefix in prefixes:
            revoke_api_key(db, prefix=prefix, actor="test", clock=production.clock)
    assert unsafe_production(production) is None
