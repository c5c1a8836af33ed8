"""A bank's 1C statement on `/office/bank` (SQLite and PostgreSQL): the summary shows the
money out of our accounts and each account's balances and totals, in Russian; a statement
with a bad line says what and where in Russian (422) and imports nothing."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.entrypoints.web.conftest import VENDOR_OPERATOR, client_log_in
from tests.entrypoints.web.test_office_ops import _bank_rows, _upload
from tests.payments.bank.test_domain import OUR_1, OUR_2, SAMPLE, document, statement


def test_a_banks_statement_shows_money_out_and_the_accounts(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    assert _upload(client, SAMPLE.read_bytes(), SAMPLE.name).status_code == 303
    shown = client.get("/office/bank").text
    summary = shown[shown.index('data-testid="import-summary"') :]
    outgoing = summary[summary.index('data-outcome="outgoing"') :]
    assert "Списания с наших счетов (не загружаются)" in outgoing
    assert '<td class="num">5</td>' in outgoing and "255\xa0000,00\xa0₽" in outgoing
    accounts = summary[summary.index('data-testid="statement-accounts"') :]
    assert "Счета выписки: остатки и обороты сверены с её документами" in accounts
    assert "Начальный остаток" in accounts and "Конечный остаток" in accounts
    first = accounts[accounts.index(f'data-account="{OUR_1}"') :]
    assert "1\xa0250\xa0000,00\xa0₽" in first and "1\xa0024\xa0816,25\xa0₽" in first
    assert f'data-account="{OUR_2}"' in accounts and "159\xa0700,00\xa0₽" in accounts
    # money in only: fees, taxes and the transfer between our accounts are not imported
    assert sorted(number for number, _ in _bank_rows(client)) == [
        "18",
        "305",
        "512",
        "77",
        "900311",
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            statement(document()).replace("Windows", "UTF-8").encode("cp1251"),
            "строка 3: в заголовке указано Кодировка=UTF-8, а файл записан в Windows-1251",
        ),
        (
            statement(document("1", "1e400")).encode("cp1251"),
            "строка 11: Сумма: ожидается сумма в рублях с копейками",
        ),
        (
            SAMPLE.read_bytes().replace(b"=1034.25", b"=1034.26"),
            f"строка 17: счёт {OUR_1}: ВсегоПоступило 29516.25, а сумма документов поступлений",
        ),
    ],
)
def test_a_bad_line_is_named_in_russian_and_nothing_is_imported(
    client: TestClient, data: bytes, words: str
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    answer = _upload(client, data, "day.txt")
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    assert "Выписку day.txt прочитать нельзя: " + words in text
    assert not re.search(r"\bline \d", text)  # no English
    assert _bank_rows(client) == []
