"""The `podpiska` command line: quotes for people and for scripts, catalog commands, and
bad input that exits 2 with one line on stderr and never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from podpiska import __version__
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from tests.entrypoints.conftest import CRM_SHOP, PROJECT, SITE_PLATFORM, make_context

QUOTE_KEYS = {"currency", "catalog_version", "lines", "subtotal", "discount", "total", "vat"}
LINE_KEYS = {
    "code",
    "description",
    "quantity",
    "months",
    "unit_price",
    "discount_percent",
    "amount",
    "explain",
}


def cli(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(context, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def quote_json(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = cli(context, capsys, "quote", *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def assert_bad_input(code: int, out: str, err: str) -> str:
    """Exit 2, exactly one non-empty line on stderr, nothing on stdout, no traceback."""
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "Traceback" not in out
    assert out == ""
    assert lines[0].startswith("podpiska: ")
    return lines[0]


def two_decimals(value: str) -> bool:
    return Decimal(value).as_tuple().exponent == -2 and "." in value


# --- quote --json ---------------------------------------------------------------------------


def test_quote_json_has_exactly_the_documented_shape(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    data = quote_json(context, capsys, "--plan", "standard", "--months", "12")
    assert set(data) == QUOTE_KEYS
    assert data["currency"] == "RUB"
    assert data["catalog_version"] == "2026.1"
    assert set(data["vat"]) == {"mode", "rate", "amount"}
    (line,) = data["lines"]
    assert set(line) == LINE_KEYS
    assert line == {
        "code": "standard",
        "description": "Тариф «Стандартный»",
        "quantity": 1,
        "months": 12,
        "unit_price": "3990.00",
        "discount_percent": "10",
        "amount": "43092.00",
        "explain": "3 990,00 ₽ × 12 мес. − 10 % за 12 мес. = 43 092,00 ₽",
    }
    assert data["subtotal"] == "47880.00"
    assert data["discount"] == "4788.00"
    assert data["total"] == "43092.00"
    assert data["vat"] == {"mode": "included", "rate": "22", "amount": "7770.69"}


@pytest.mark.parametrize(
    "argv",
    [
        ["--plan", "standard", "--months", "12"],
        ["--plan", "basic", "--months", "6", "--addon", "marketplace", "--promo", "MARKETPLACE50"],
        ["--plan", "enterprise", "--months", "24", "--addon", "marketplace",
         "--addon", "market_plus"],
        ["--plan", "business", "--months", "3", "--users", "37", "--addon", "api_access",
         "--catalog", str(SITE_PLATFORM)],
        ["--plan", "corporate", "--months", "12", "--users", "1000",
         "--catalog", str(SITE_PLATFORM), "--at", "2027-03-01"],
    ],
    ids=["plan", "add-on+promo", "two-add-ons", "per-user", "per-user-2027"],
)  # fmt: skip
def test_quote_json_amounts_are_strings_that_add_up(
    context: Context, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    data = quote_json(context, capsys, *argv)
    amounts = [data["subtotal"], data["discount"], data["total"], data["vat"]["amount"]]
    amounts += [line["amount"] for line in data["lines"]]
    amounts += [line["unit_price"] for line in data["lines"]]
    for value in amounts:
        assert isinstance(value, str)
        assert two_decimals(value), value
    total = Decimal(data["total"])
    assert sum(Decimal(line["amount"]) for line in data["lines"]) == total
    assert Decimal(data["subtotal"]) - Decimal(data["discount"]) == total
    for line in data["lines"]:
        assert line["explain"].endswith(" ₽")
        shown = line["explain"].rsplit("= ", 1)[1].removesuffix(" ₽")
        assert Decimal(shown.replace(" ", "").replace(",", ".")) == Decimal(line["amount"])


def test_quote_json_for_a_per_user_plan(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    data = quote_json(
        context, capsys, "--catalog", str(SITE_PLATFORM), "--plan", "start", "--months", "12",
        "--users", "5",
    )  # fmt: skip
    plan, users = data["lines"]
    assert plan["amount"] == "15198.00"  # 1490 × 12 × 0.85
    assert users["code"] == "start.extra_users"
    assert users["quantity"] == 2
    assert users["unit_price"] == "380.00"
    assert users["amount"] == "7752.00"  # 380 × 2 × 12 × 0.85
    assert users["explain"] == "380,00 ₽ × 2 польз. × 12 мес. − 15 % за 12 мес. = 7 752,00 ₽"
    assert data["total"] == "22950.00"
    assert data["vat"] == {"mode": "exempt", "rate": "0", "amount": "0.00"}


def test_quote_uses_the_clock_to_pick_the_version(
    context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # the clock says 2026-11-22: still 2026.1; --at moves to 2027.1
    args = ("--catalog", str(SITE_PLATFORM), "--plan", "start", "--months", "1")
    today = quote_json(context, capsys, *args)
    later = quote_json(context, capsys, *args, "--at", "2027-03-01")
    assert (today["catalog_version"], today["total"]) == ("2026.1", "1490.00")
    assert (later["catalog_version"], later["total"]) == ("2027.1", "1690.00")


def test_quote_in_english(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    data = quote_json(context, capsys, "--plan", "standard", "--months", "12", "--lang", "en")
    (line,) = data["lines"]
    assert line["description"] == "Plan “Standard”"
    assert line["explain"] == "3,990.00 ₽ × 12 mo. − 10% for 12 months = 43,092.00 ₽"
    assert data["total"] == "43092.00"  # JSON amounts do not depend on the language


def test_settings_language_is_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    english = make_context(tmp_path, language="en")
    data = quote_json(english, capsys, "--plan", "standard", "--months", "12")
    assert data["lines"][0]["description"] == "Plan “Standard”"
    code, out, err = cli(english, capsys, "quote", "--plan", "gold", "--months", "12")
    assert "Unknown plan 'gold'" in assert_bad_input(code, out, err)


# --- quote for people -----------------------------------------------------------------------


def test_quote_table(
    context: Context, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(context, capsys, "quote", "--plan", "standard", "--months", "12")
    assert (code, err) == (0, "")
    assert "43 092,00 ₽" in out
    assert "7 770,69" in out
    assert "Стандартный" in out
    assert "3 990,00 ₽ × 12 мес. − 10 % за 12 мес. = 43 092,00 ₽" in out
    assert "47 880,00 ₽" in out  # the list price
    assert "в т.ч. НДС 22 %" in out
    assert "22.11.2026" in out  # the clock's day, in Moscow


def test_quote_table_in_english(
    context: Context, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(
        context, capsys, "quote", "--plan", "standard", "--months", "12", "--lang", "en"
    )
    assert (code, err) == (0, "")
    assert "43,092.00 ₽" in out
    assert "incl. VAT 22%" in out
    assert "Total" in out


# --- bad input: exit 2, one line ------------------------------------------------------------


def test_unknown_plan_lists_the_plans(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_bad_input(*cli(context, capsys, "quote", "--plan", "gold", "--months", "12"))
    assert "gold" in line
    assert "basic, standard, professional, enterprise" in line


def test_unknown_add_on(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_bad_input(
        *cli(context, capsys, "quote", "--plan", "basic", "--months", "12", "--addon", "crm_plus")
    )
    assert "crm_plus" in line
    assert "marketplace" in line


def test_period_not_offered_lists_the_periods(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    line = assert_bad_input(*cli(context, capsys, "quote", "--plan", "basic", "--months", "5"))
    assert "5" in line
    assert "1, 3, 6, 12, 24" in line


def test_too_many_users_on_basic_suggests_standard(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    line = assert_bad_input(
        *cli(context, capsys, "quote", "--plan", "basic", "--months", "12", "--users", "6")
    )
    assert "5" in line
    assert "Стандартный" in line
    assert "standard" in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--plan", "basic", "--months", "12", "--users", "0"], "0"),
        (["--plan", "basic", "--months", "12", "--users", "-3"], "-3"),
        (["--plan", "basic", "--months", "0"], "1, 3, 6, 12, 24"),
        (["--plan", "basic", "--months", "-1"], "1, 3, 6, 12, 24"),
        (["--plan", "basic", "--months", "abc"], "--months"),
        (["--plan", "basic", "--months", "12", "--users", "many"], "--users"),
        (["--plan", "basic", "--months", "12", "--at", "2026-13-01"], "2026-13-01"),
        (["--plan", "basic", "--months", "12", "--at", "yesterday"], "YYYY-MM-DD"),
        (["--plan", "basic", "--months", "12", "--at", "2025-06-01"], "2026-01-01"),
        (["--plan", "basic", "--months", "12", "--lang", "xx"], "--lang"),
        (["--plan", "basic", "--months", "12", "--promo", "FREE"], "FREE"),
        (["--plan", "basic", "--months", "12", "--addon", "marketplace", "--addon", "marketplace"],
         "marketplace"),
        (["--plan", "basic"], "--months"),
        (["--plan", "basic", "--months", "12", "--bogus"], "--bogus"),
    ],
    ids=[
        "users-0", "users-negative", "months-0", "months-negative", "months-abc", "users-abc",
        "at-month-13", "at-word", "at-before-catalog", "lang-xx", "unknown-promo",
        "add-on-twice", "months-missing", "unknown-option",
    ],
)  # fmt: skip
def test_bad_quote_input(
    context: Context, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    line = assert_bad_input(*cli(context, capsys, "quote", *argv))
    assert expected in line


def test_bad_input_in_english(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        ("--plan", "gold", "--months", "12"): "Unknown plan 'gold'. Allowed: basic",
        ("--plan", "basic", "--months", "5"): "Allowed periods (months): 1, 3, 6, 12, 24.",
        ("--plan", "basic", "--months", "12", "--users", "6"): "Upgrade to Standard (standard).",
        ("--plan", "basic", "--months", "12", "--addon", "x"): "Unknown add-on 'x'",
    }
    for argv, expected in cases.items():
        line = assert_bad_input(*cli(context, capsys, "quote", *argv, "--lang", "en"))
        assert expected in line
        assert not any("а" <= ch <= "я" for ch in line.lower()), line  # no Cyrillic


def test_a_broken_catalog_file(
    context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        CRM_SHOP.read_text(encoding="utf-8").replace("monthly_price: 7990", "monthly_price: -5"),
        encoding="utf-8",
    )
    line = assert_bad_input(
        *cli(
            context, capsys, "quote", "--plan", "basic", "--months", "12", "--catalog", str(broken)
        )
    )
    assert str(broken) in line
    assert "versions[0].plans[2].monthly_price" in line
    assert 'must be a positive amount, got "-5"' in line


def test_a_catalog_file_with_many_problems_still_gives_one_line(
    context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    text = CRM_SHOP.read_text(encoding="utf-8")
    for price in ("1990", "3990", "7990"):
        text = text.replace(f"monthly_price: {price}", "monthly_price: -5")
    broken.write_text(text, encoding="utf-8")
    line = assert_bad_input(
        *cli(
            context, capsys, "quote", "--plan", "basic", "--months", "12", "--catalog", str(broken)
        )
    )
    assert "and 2 more" in line
    assert "podpiska catalog check" in line


def test_broken_yaml(context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: x\nversions: [\n", encoding="utf-8")
    line = assert_bad_input(
        *cli(context, capsys, "quote", "--plan", "basic", "--months", "1", "--catalog", str(broken))
    )
    assert "not valid YAML" in line


def test_a_missing_catalog_file(
    context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    line = assert_bad_input(
        *cli(
            context, capsys, "quote", "--plan", "basic", "--months", "1", "--catalog", str(missing)
        )
    )
    assert str(missing) in line
    assert "no such file" in line


def test_a_missing_catalog_from_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = make_context(tmp_path / "cache", catalog=tmp_path / "gone.yaml")
    line = assert_bad_input(*cli(context, capsys, "quote", "--plan", "basic", "--months", "1"))
    assert "gone.yaml: no such file" in line


def test_an_unknown_command(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_bad_input(*cli(context, capsys, "qoute"))
    assert "qoute" in line


# --- catalog commands -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [CRM_SHOP, SITE_PLATFORM], ids=lambda p: p.name)
def test_catalog_check_accepts_the_shipped_catalogs(
    context: Context, capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    code, out, err = cli(context, capsys, "catalog", "check", str(path))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"{path}: OK"
    assert "version 2026.1 from 2026-01-01" in out


def test_catalog_check_defaults_to_the_settings_catalog(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(context, capsys, "catalog", "check")
    assert (code, err) == (0, "")
    assert "4 plans, 2 add-ons, 1 promotion, periods 1, 3, 6, 12, 24 months" in out
    assert out.splitlines()[-1] == f"{CRM_SHOP}: OK"


def test_catalog_check_prints_every_problem(
    context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    text = CRM_SHOP.read_text(encoding="utf-8")
    text = text.replace("monthly_price: 1990", "monthly_price: -1")
    text = text.replace("monthly_price: 7990", "monthly_prise: 7990")
    text = text.replace("{months: 24, discount: 15}", "{months: 24, discount: 150}")
    broken.write_text(text, encoding="utf-8")
    code, out, err = cli(context, capsys, "catalog", "check", str(broken))
    assert code == 2
    assert "Traceback" not in err
    assert "OK" not in out
    lines = err.splitlines()
    assert len(lines) == 3, err
    joined = "\n".join(lines)
    assert "versions[0].plans[0].monthly_price" in joined
    assert "did you mean 'monthly_price'" in joined
    assert "versions[0].periods[4].discount" in joined
    assert all(str(broken) in line for line in lines)


def test_catalog_check_of_a_missing_file(
    context: Context, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    line = assert_bad_input(*cli(context, capsys, "catalog", "check", str(tmp_path / "x.yaml")))
    assert "no such file" in line


def test_catalog_show_json_has_every_plan_and_period(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(context, capsys, "catalog", "show", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["catalog"] == "crm-shop"
    assert data["catalog_version"] == "2026.1"
    assert data["at"] == "2026-11-22"
    assert data["currency"] == "RUB"
    assert [p["code"] for p in data["plans"]] == ["basic", "standard", "professional", "enterprise"]
    for plan in data["plans"]:
        assert [p["months"] for p in plan["periods"]] == [1, 3, 6, 12, 24]
        for period in plan["periods"]:
            assert two_decimals(period["total"])
            assert two_decimals(period["per_month"])
    standard = data["plans"][1]
    assert standard["users_included"] == 50
    assert standard["max_users"] == 50
    assert standard["disk_gb"] == 100
    assert standard["periods"][3] == {"months": 12, "total": "43092.00", "per_month": "3591.00"}


def test_catalog_show_json_per_user_catalog_at_a_later_date(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        context, capsys, "catalog", "show", "--json", "--catalog", str(SITE_PLATFORM),
        "--at", "2027-03-01", "--lang", "en",
    )  # fmt: skip
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["catalog_version"] == "2027.1"
    assert [p["name"] for p in data["plans"]] == ["Start", "Business", "Corporate"]
    assert {p["extra_user_price"] for p in data["plans"]} == {"420.00"}
    assert data["plans"][2]["max_users"] is None
    for plan in data["plans"]:
        assert [p["months"] for p in plan["periods"]] == [1, 3, 6, 12]


def test_catalog_show_table_on_a_wide_terminal(
    context: Context, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = cli(context, capsys, "catalog", "show")
    assert (code, err) == (0, "")
    for name in ("Базовый", "Стандартный", "Профессиональный", "Энтерпрайз"):
        assert name in out
    assert re.search(r"12 мес\. │ +10 % │ +43 092,00 ₽ │ +3 591,00 ₽ │", out)


def test_catalog_show_table_never_splits_an_amount(
    context: Context, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(context, capsys, "catalog", "show")
    assert (code, err) == (0, "")
    for amount in ("21 492,00 ₽", "43 092,00 ₽", "151 092,00 ₽", "285 396,00 ₽"):
        assert amount in out


def test_quote_table_never_splits_an_amount(
    context: Context, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(
        context, capsys, "quote", "--plan", "enterprise", "--months", "24",
        "--addon", "marketplace", "--promo", "MARKETPLACE50",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "= 25 398,00 ₽" in out


def test_catalog_schema_is_json(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(context, capsys, "catalog", "schema")
    assert (code, err) == (0, "")
    assert "versions" in json.loads(out)["properties"]


def test_version(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(context, capsys, "version") == (0, f"{__version__}\n", "")


def test_no_arguments_shows_the_help(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(context, capsys)
    assert "quote" in out
    assert "catalog" in out
    assert err == ""
    assert code == 2  # click's convention for a bare group that shows its help


# --- the installed console script -----------------------------------------------------------


def _script_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPISKA_")}
    env.update(
        PODPISKA_CATALOG=str(CRM_SHOP),
        PODPISKA_CACHE_DIR=str(tmp_path / "cache"),
        PODPISKA_LANGUAGE="ru",
        PYTHONIOENCODING="utf-8",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def test_the_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "podpiska"
    assert script.exists(), f"{script} is not installed: run `make install`"
    env = _script_env(tmp_path)
    good = subprocess.run(
        [str(script), "quote", "--plan", "standard", "--months", "12", "--json",
         "--at", "2026-11-22"],
        cwd=PROJECT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60,
        check=False,
    )  # fmt: skip
    assert (good.returncode, good.stderr) == (0, "")
    data = json.loads(good.stdout)
    assert data["total"] == "43092.00"
    assert data["vat"]["amount"] == "7770.69"
    assert list((tmp_path / "cache").glob("catalog-*.pickle")), "the script used its cache"

    bad = subprocess.run(
        [str(script), "quote", "--plan", "gold", "--months", "12"],
        cwd=PROJECT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60,
        check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stdout == ""
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, bad.stderr
    assert "Traceback" not in bad.stderr
    assert "gold" in lines[0]


def _run_script(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "podpiska"
    return subprocess.run(
        [str(script), *argv],
        cwd=PROJECT, env={**_script_env(tmp_path), **env}, capture_output=True, text=True,
        encoding="utf-8", timeout=60, check=False,
    )  # fmt: skip


def test_unusable_settings_give_one_line_and_code_2(tmp_path: Path) -> None:
    result = _run_script(tmp_path, "version", PODPISKA_LANGUAGE="xx")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_unusable_settings_name_the_setting(tmp_path: Path) -> None:
    result = _run_script(tmp_path, "version", PODPISKA_LANGUAGE="xx")
    assert result.returncode == 2
    assert "language" in result.stderr.lower()


def test_a_quote_imports_no_database_or_web_code(tmp_path: Path) -> None:
    # `podpiska quote` must start fast (bench/quote.py measures it): it never loads
    # SQLAlchemy, FastAPI or the YAML parser once the catalog is cached.
    script = (
        "import sys\n"
        "from podpiska.entrypoints.cli.main import run\n"
        "from podpiska.app import build_context\n"
        "code = run(build_context(), ['quote', '--plan', 'standard', '--months', '12',"
        " '--json'])\n"
        "assert code == 0\n"
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'yaml') if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "PODPISKA_CACHE_DIR": str(tmp_path / "cache"),
        "PODPISKA_CATALOG": str(CRM_SHOP),
    }
    for _ in range(2):  # the first run validates the catalog and caches it
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("argv", [["catalog", "check"], ["catalog", "show"], ["--help"]])
def test_a_reader_that_stops_early_is_no_error(argv: list[str], tmp_path: Path) -> None:
    """`podpiska mailbox | head` ended with "internal error (BrokenPipeError)": any command
    whose reader closes the pipe stops quietly (nothing on stderr, status 1)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPISKA_")} | {
        "PODPISKA_CATALOG": str(CRM_SHOP),
        "PODPISKA_CACHE_DIR": str(tmp_path / "cache"),
        "PODPISKA_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
    }
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from podpiska.app import main; main()", *argv],
            check=False,
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.stderr == b""
    assert done.returncode in (0, 1)
