"""Importing 1C statements through the API and the CLI, on SQLite and PostgreSQL: a bank's
statement (docs/samples/) answers its summary with the money out counted and each account's
totals; a statement with a bad line (an encoding the file lies about, `Сумма=1e400`,
totals that do not add up) answers 422 `bad_statement` naming the line, in the caller's
language, or exit code 2 with one line; nothing is imported. The CLI's summary speaks
Russian (or `--lang en`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from tests.entrypoints.api.test_bank_review import key
from tests.entrypoints.cli.test_admin import bad_input, ok
from tests.helpers import row_counts
from tests.payments.bank.test_domain import OUR_1, OUR_2, SAMPLE, document, statement

LYING = statement(document()).replace("Windows", "UTF-8").encode("cp1251")
HUGE = statement(document("1", "100.00"), document("2", "1e400")).encode("cp1251")
OFF = SAMPLE.read_bytes().replace(b"=1034.25", b"=1034.26")


@pytest.fixture
def context(db_contexts: Callable[..., Context]) -> Context:
    return db_contexts(load_catalog=True)


def counts(context: Context) -> dict[str, int]:
    with context.session() as db:
        return row_counts(db)


def test_the_api_imports_a_banks_statement(context: Context) -> None:
    client = TestClient(create_app(context))
    answer = client.post(
        f"/api/v1/bank-statements?source={SAMPLE.name}",
        content=SAMPLE.read_bytes(),
        headers=key(context),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["documents"], body["outgoing"], body["not_ours"]) == (10, 5, 0)
    assert body["outgoing_amount"] == "255000.00"
    assert body["counts"] == {"unmatched": 5}  # no invoice of this empty database
    assert body["amounts"] == {"unmatched": "39516.25"}
    assert body["accounts"] == [
        {
            "account": OUR_1,
            "opening": "1250000.00",
            "received": "29516.25",
            "debited": "254700.00",
            "closing": "1024816.25",
        },
        {
            "account": OUR_2,
            "opening": "50000.00",
            "received": "110000.00",
            "debited": "300.00",
            "closing": "159700.00",
        },
    ]


@pytest.mark.parametrize(
    ("data", "line", "ru", "en"),
    [
        (LYING, 3, "в заголовке указано Кодировка=UTF-8", "the header says Кодировка=UTF-8"),
        (HUGE, 21, "Сумма: ожидается сумма", "Сумма: an amount in roubles and kopecks"),
        (OFF, 17, "ВсегоПоступило 29516.25, а сумма", "ВсегоПоступило is 29516.25, but"),
    ],
)
def test_the_api_refuses_a_bad_line_in_the_callers_language(
    context: Context, data: bytes, line: int, ru: str, en: str
) -> None:
    client = TestClient(create_app(context), raise_server_exceptions=False)
    auth = key(context)
    before = counts(context)
    for lang, words, sentence in (("ru", "строка", ru), ("en", "line", en)):
        answer = client.post(
            "/api/v1/bank-statements?source=day.txt",
            content=data,
            headers={**auth, "Accept-Language": lang},
        )
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["details"]["line"]) == ("bad_statement", line)
        assert f"{words} {line}: " in error["message"] and sentence in error["message"]
    assert counts(context) == before


def test_the_cli_imports_a_statement_and_speaks_russian(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ok(context, capsys, "bank", "import", str(SAMPLE))
    assert f"{SAMPLE.name}: документов 10" in out
    assert "на разбор" in out and "39 516,25" in out
    assert "списания с наших счетов (не загружаются)" in out and "255 000,00" in out
    assert OUR_1 in out and "1 024 816,25" in out and "на конец" in out
    again = ok(context, capsys, "bank", "import", str(SAMPLE), "--lang", "en")
    assert "imported before" in again and "from our accounts (not imported)" in again
    assert "1,024,816.25" in again


@pytest.mark.parametrize(
    ("data", "line", "ru"),
    [
        (LYING, 3, "в заголовке указано Кодировка=UTF-8, а файл записан в Windows-1251"),
        (HUGE, 21, "Сумма: ожидается сумма в рублях с копейками (например 1990.00)"),
        (OFF, 17, f"счёт {OUR_1}: ВсегоПоступило 29516.25, а сумма документов поступлений"),
    ],
)
def test_the_cli_refuses_a_bad_line_with_exit_code_2(
    context: Context,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    data: bytes,
    line: int,
    ru: str,
) -> None:
    path = tmp_path / "day.txt"
    path.write_bytes(data)
    before = counts(context)
    said = bad_input(context, capsys, "bank", "import", str(path))
    assert f"Выписку day.txt прочитать нельзя: строка {line}: " in said and ru in said
    said = bad_input(context, capsys, "bank", "import", str(path), "--lang", "en")
    assert f"Statement day.txt cannot be read: line {line}: " in said
    assert counts(context) == before
