"""Catalog files are bounded: no YAML aliases (the issue's 55 KB file whose 400 plans alias
one list of 1 000 bad items took 10 s, 852 MB and printed 400 024 lines), a size, a depth
(libyaml's composer crashed the process on 100 000 nested brackets) and a number of values;
a file's problems are listed up to `MAX_PROBLEMS`, the rest counted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from podpiska.catalog.file import parse_catalog
from podpiska.catalog.file_yaml import MAX_CATALOG_BYTES, MAX_CATALOG_DEPTH, MAX_CATALOG_VALUES
from podpiska.catalog.loading import load_catalog
from podpiska.catalog.problems import MAX_PROBLEMS, CatalogFileError
from podpiska.entrypoints.cli.main import run
from tests.entrypoints.conftest import make_context

CRM_SHOP = Path(__file__).resolve().parents[2] / "catalogs" / "crm-shop.yaml"
PLAN = """      - code: p{n}
        name: {{ru: P, en: P}}
        monthly_price: 1
        users_included: 1
        max_users: 1
        disk_gb: 1
        features: {features}
"""


def with_plans(features: list[str]) -> str:
    """The shipped catalog with one more plan per item of `features` (its YAML text)."""
    text = CRM_SHOP.read_text(encoding="utf-8")
    plans = "".join(PLAN.format(n=n, features=f) for n, f in enumerate(features))
    return text.replace("    plans:\n", "    plans:\n" + plans, 1)


def refused(text: str) -> CatalogFileError:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(text, "bad.yaml")
    return caught.value


def test_the_issues_aliased_plans_are_refused_at_once() -> None:
    bad = "[" + ", ".join(["{x: 1}"] * 1000) + "]"
    text = with_plans(["&bad " + bad] + ["*bad"] * 399)
    assert len(text.encode()) < 100_000
    started = time.perf_counter()
    error = refused(text)
    assert time.perf_counter() - started < 2
    assert len(error.problems) == 1 and error.omitted == 0
    problem = error.problems[0]
    assert "uses the YAML alias *bad" in problem.message
    line = text.splitlines()[(problem.line or 0) - 1]
    assert line.strip() == "features: *bad"


def test_merge_keys_are_aliases_too() -> None:
    text = CRM_SHOP.read_text(encoding="utf-8")
    text = text.replace('name: {ru: "Базовый", en: "Basic"}', "name: &n {ru: B, en: B}", 1)
    text = text.replace('name: {ru: "Стандартный", en: "Standard"}', "name: {<<: *n}", 1)
    assert "uses the YAML alias *n" in refused(text).problems[0].message


def test_deep_nesting_is_refused_without_crashing() -> None:
    error = refused("[" * 100_000)
    assert f"nests deeper than {MAX_CATALOG_DEPTH} levels" in error.problems[0].message


def test_size_and_number_of_values_are_bounded(tmp_path: Path) -> None:
    padded = CRM_SHOP.read_text(encoding="utf-8") + "#" * MAX_CATALOG_BYTES
    assert f"at most {MAX_CATALOG_BYTES} bytes" in refused(padded).problems[0].message
    big = tmp_path / "big.yaml"
    big.write_text(padded, encoding="utf-8")
    with pytest.raises(CatalogFileError, match="at most"):
        load_catalog(big)
    values = with_plans(["[" + ", ".join(["a"] * 1000) + "]"] * (MAX_CATALOG_VALUES // 1000))
    assert f"more than {MAX_CATALOG_VALUES} values" in refused(values).problems[0].message


def test_thousands_of_problems_list_the_first_and_count_the_rest() -> None:
    text = with_plans(["[" + ", ".join(["{x: 1}"] * 60) + "]"] * 200)
    error = refused(text)
    assert len(error.problems) == MAX_PROBLEMS
    assert error.omitted == 200 * 60 - MAX_PROBLEMS  # every item is a problem
    assert f"(and {MAX_PROBLEMS - 1 + error.omitted} more" in error.summary()
    assert all(p.line is not None for p in error.problems)


def test_catalog_check_prints_the_first_problems_and_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "many.yaml"
    file.write_text(with_plans(["[" + ", ".join(["{x: 1}"] * 60) + "]"] * 200), encoding="utf-8")
    code = run(make_context(tmp_path / "cache"), ["catalog", "check", str(file)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == (
        f"podpiska: {file}: and {200 * 60 - MAX_PROBLEMS} more problems "
        f"(the first {MAX_PROBLEMS} above)"
    )
