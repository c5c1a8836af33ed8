"""`podpiska license` through `cli.run`, on SQLite and PostgreSQL: the signing key (keygen,
public-key, made by init), issue, list and verify with their exit codes: 0 valid (in
grace too), 1 not valid with one line on stderr, 2 for bad input; never a traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from podpiska.accounts import accounts
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.config import Settings
from podpiska.entitlements.license_files.signing import key_id, load_private_key, public_key_pem
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from podpiska.subscriptions import billing, settlement
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW

MADE: list[Context] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        made = MADE.pop()
        if "sessions" in made.__dict__:
            made.sessions.kw["bind"].dispose()


# What production starts with: a random secret and a real gateway (never the sandbox).
PRODUCTION: dict[str, object] = {
    "env": "production",
    "secret_key": "k3J9-qX2vLm8ZpT4wR7yN1cB6dF0hGsA",
    "gateway": "yookassa",
    "yookassa_shop_id": "123456",
    "yookassa_secret_key": "live_not_a_real_key",
}


def make(db_url: str, tmp_path: Path, **settings: object) -> Context:
    values: dict[str, object] = {
        "env": "test",
        "database_url": db_url,
        "catalog": CRM_SHOP,
        "cache_dir": tmp_path / "cache",
        "mailbox_dir": tmp_path / "mail",
        "log_format": "text",
        "license_key": tmp_path / "keys" / "signing.pem",
        **settings,
    }
    made = build_context(settings=Settings(**values), clock=FixedClock(NOON_IN_MOSCOW))  # type: ignore[arg-type]
    MADE.append(made)
    return made


def cli(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(context, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, (argv, out, err)
    return code, out, err


def ok(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = cli(context, capsys, *argv)
    assert code == 0, (argv, out, err)
    return out


def bad_input(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Exit 2, exactly one line on stderr starting `podpiska: `, nothing on stdout."""
    code, out, err = cli(context, capsys, *argv)
    assert code == 2, (argv, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("podpiska: ")
    return lines[0]


def invalid(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    """Exit 1 and one line on stderr; returns (stdout, the line)."""
    code, out, err = cli(context, capsys, *argv)
    assert code == 1, (argv, out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("podpiska: ")
    return out, lines[0]


@pytest.fixture
def context(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Context:
    made = make(db_url, tmp_path)
    out = ok(made, capsys, "init")  # migrated, the catalog loaded, the key made
    assert f"license key: {made.settings.license_key} created" in out
    return made


def paid_account(context: Context, edition: str = "on_premise") -> int:
    with context.session() as db:
        account = accounts.open_account(
            db,
            name="ООО «Ромашка»",
            admin_email=f"it-{edition}@romashka.example",
            edition=edition,
            inn="7707083893",
            actor="test",
            clock=context.clock,
        )
        ordered = billing.order_subscription(
            db, account_id=account.id, plan="basic", months=12, actor="test", clock=context.clock
        )
        settlement.register_payment(
            db,
            invoice_id=ordered.invoice.id,
            amount=ordered.invoice.total,
            method="bank_transfer",
            actor="test",
            clock=context.clock,
        )
    return account.id


def test_keygen_makes_a_private_key_once_and_public_key_prints_it(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make(db_url, tmp_path, license_key=tmp_path / "new" / "signing.pem")
    path = made.settings.license_key

    out = ok(made, capsys, "license", "keygen")

    assert path.stat().st_mode & 0o777 == 0o600
    key = load_private_key(path.read_bytes())
    assert out.splitlines()[0] == f"license signing key: {path} (key id {key_id(key)})"
    refused = bad_input(made, capsys, "license", "keygen")
    assert "exists" in refused
    assert "--force" in refused
    assert load_private_key(path.read_bytes()).private_bytes_raw() == key.private_bytes_raw()
    assert ok(made, capsys, "license", "public-key") == public_key_pem(key)

    ok(made, capsys, "license", "keygen", "--force")
    replaced = load_private_key(path.read_bytes())
    assert key_id(replaced) != key_id(key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_production_never_makes_the_key_on_the_fly(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make(db_url, tmp_path, **PRODUCTION)
    out = ok(made, capsys, "init")
    assert "production never creates one" in out
    assert not made.settings.license_key.exists()
    account = paid_account(made)
    line = bad_input(made, capsys, "license", "issue", str(account))
    assert "does not exist (production never creates one)" in line
    assert "podpiska license keygen" in line
    assert "does not exist" in bad_input(made, capsys, "license", "public-key")
    ok(made, capsys, "license", "keygen")  # the deliberate way
    assert made.settings.license_key.exists()


def test_issue_list_and_verify(
    context: Context,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = paid_account(context)
    monkeypatch.chdir(tmp_path)

    out = ok(context, capsys, "license", "issue", str(account))

    path = tmp_path / "LIC-2026-000001.lic"
    assert out.startswith(f"LIC-2026-000001: {path.name} (paid through 2027-11-21, ")
    assert path.read_text().startswith("Podpiska license file")
    into = tmp_path / "out"
    into.mkdir()
    ok(context, capsys, "license", "issue", str(account), "-o", str(into))
    assert (into / "LIC-2026-000002.lic").exists()

    listed = ok(context, capsys, "license", "list", str(account))
    assert listed.index("LIC-2026-000002") < listed.index("LIC-2026-000001")
    rows = json.loads(ok(context, capsys, "license", "list", str(account), "--json"))
    assert [row["serial"] for row in rows] == ["LIC-2026-000002", "LIC-2026-000001"]
    assert rows[0]["license"]["users"] == 5

    shown = ok(context, capsys, "license", "verify", str(path), "--lang", "en")
    assert "LIC-2026-000001" in shown
    assert "ООО «Ромашка»" in shown
    assert "2027-11-21" in shown
    assert shown.splitlines()[-1] == (
        "License LIC-2026-000001 is valid: plan basic, 5 users, paid through 2027-11-21."
    )
    grace = ok(context, capsys, "license", "verify", str(path), "--today", "2027-12-01")
    assert "режиме чтения" in grace.splitlines()[-1]
    verdict = json.loads(
        ok(context, capsys, "license", "verify", str(path), "--today", "2027-12-01", "--json")
    )
    assert (verdict["valid"], verdict["read_only"], verdict["code"]) == (
        True,
        True,
        "license_grace",
    )

    table, line = invalid(
        context, capsys, "license", "verify", str(path), "--today", "2028-01-01", "--lang", "en"
    )
    assert "LIC-2026-000001" in table  # what it was is still shown
    assert line.startswith("podpiska: License LIC-2026-000001 has expired")
    expired = json.loads(
        cli(context, capsys, "license", "verify", str(path), "--today", "2028-01-01", "--json")[1]
    )
    assert (expired["valid"], expired["code"]) == (False, "license_expired")


def test_verify_tells_tampered_wrong_key_and_garbage_apart(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = paid_account(context)
    path = tmp_path / "license.lic"
    ok(context, capsys, "license", "issue", str(account), "-o", str(path))
    text = path.read_text()

    public = tmp_path / "vendor.pub"
    public.write_text(ok(context, capsys, "license", "public-key"))
    ok(context, capsys, "license", "verify", str(path), "--public-key", str(public))

    other = tmp_path / "other.pub"
    other.write_text(public_key_pem(Ed25519PrivateKey.generate()))
    out, line = invalid(
        context, capsys, "license", "verify", str(path), "--public-key", str(other), "--lang", "en"
    )
    assert out == ""
    assert "signed with another key" in line

    lines = text.splitlines()
    body = lines.index("-----BEGIN PODPISKA LICENSE-----") + 4  # the first base64 line
    changed = lines[body][:10] + ("A" if lines[body][10] != "A" else "B") + lines[body][11:]
    tampered = tmp_path / "tampered.lic"
    tampered.write_text("\n".join([*lines[:body], changed, *lines[body + 1 :]]))
    out, line = invalid(context, capsys, "license", "verify", str(tampered), "--lang", "en")
    assert out == ""
    assert "changed after it was signed" in line

    garbage = tmp_path / "garbage.lic"
    garbage.write_bytes(b"\x00\xffnot a license")
    out, line = invalid(context, capsys, "license", "verify", str(garbage), "--lang", "en")
    assert line == "podpiska: This is not a Podpiska license file: the LICENSE block is missing."

    # Bad input: exit 2, one line.
    assert "No such file" in bad_input(
        context, capsys, "license", "verify", str(tmp_path / "missing.lic")
    )
    assert "--today must be a date" in bad_input(
        context, capsys, "license", "verify", str(path), "--today", "tomorrow"
    )
    assert "No such file" in bad_input(
        context, capsys, "license", "verify", str(path), "--public-key", str(tmp_path / "x.pub")
    )
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    assert re.search(
        r"not-a-key|public key",
        bad_input(context, capsys, "license", "verify", str(path), "--public-key", str(not_a_key)),
    )


def test_issue_refuses_cloud_accounts_and_bad_input(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = paid_account(context, "cloud")
    line = bad_input(context, capsys, "license", "issue", str(cloud), "--lang", "en")
    assert line == (
        f"podpiska: Account {cloud} is a cloud account: license files are issued to on-premise "
        "accounts only."
    )
    assert "не найдено" in bad_input(context, capsys, "license", "list", "999").lower()
    assert "ACCOUNT" in bad_input(context, capsys, "license", "issue", "first")
    assert "no license files" in ok(context, capsys, "license", "list", str(cloud))
