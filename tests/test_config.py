"""The vendor's requisites in the settings: checked when the settings load, a wrong value is
one error naming its `PODPISKA_*` variable; what the documents will read from them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from podpiska.config import Settings
from podpiska.core.domain.requisites import USN_VAT_NOTE

ORGANISATION = {"vendor_inn": "7707083893", "vendor_kpp": "773601001"}
ENTREPRENEUR = {"vendor_inn": "500100732259", "vendor_kpp": ""}
PROXY = {
    "vendor_proxy_signer": "Сидоров С. С.",
    "vendor_proxy_position": "Коммерческий директор",
    "vendor_proxy_number": "12/2026",
    "vendor_proxy_date": date(2026, 1, 15),
}


def settings(**values: Any) -> Settings:
    return Settings(env="test", **values)


def refused(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    assert len(caught.value.errors()) == 1
    return str(caught.value.errors()[0]["msg"])


def test_the_defaults_load_and_say_what_the_documents_need() -> None:
    made = settings()
    assert made.vendor_tax_system == "osno"
    assert made.vendor_vat_note is None
    assert made.vendor_legal_address == made.vendor_address
    assert made.vendor_mailing_address == made.vendor_address  # no postal address: the legal
    assert made.vendor_director_position == "Генеральный директор"
    assert made.vendor_accountant_position == "Главный бухгалтер"
    assert not made.vendor_signs_by_proxy


def test_an_organisation_and_an_entrepreneur_with_their_ogrn() -> None:
    made = settings(**ORGANISATION, vendor_ogrn=" 1027700132195 ")
    assert made.vendor_ogrn == "1027700132195"
    assert settings(**ENTREPRENEUR, vendor_ogrn="385768585948949").vendor_ogrn


def test_a_postal_address_and_the_simplified_system() -> None:
    made = settings(vendor_postal_address="123100, г. Москва, а/я 5", vendor_tax_system="usn")
    assert made.vendor_mailing_address == "123100, г. Москва, а/я 5"
    assert made.vendor_vat_note == USN_VAT_NOTE
    assert USN_VAT_NOTE == (
        "НДС не облагается в связи с применением упрощённой системы налогообложения"
    )


def test_signing_by_proxy_takes_all_four() -> None:
    made = settings(**PROXY)
    assert made.vendor_signs_by_proxy
    assert made.vendor_proxy_date == date(2026, 1, 15)
    message = refused(**{**PROXY, "vendor_proxy_number": ""})
    assert "PODPISKA_VENDOR_PROXY_NUMBER" in message
    message = refused(vendor_proxy_date=date(2026, 1, 15))
    assert "PODPISKA_VENDOR_PROXY_SIGNER" in message


@pytest.mark.parametrize(
    ("values", "variable", "problem"),
    [
        ({"vendor_ogrn": "1027700132196"}, "PODPISKA_VENDOR_OGRN", "check digit"),
        ({**ENTREPRENEUR, "vendor_ogrn": "1027700132195"}, "PODPISKA_VENDOR_OGRN", "15-digit"),
        ({"vendor_ogrn": "385768585948949"}, "PODPISKA_VENDOR_OGRN", "13-digit"),
        (
            {"vendor_ogrn": "1027700132195", "vendor_inn": "", "vendor_kpp": ""},
            "PODPISKA_VENDOR_OGRN",
            "INN",
        ),
        ({"vendor_inn": "7707083894"}, "PODPISKA_VENDOR_INN", "checksum"),
        ({"vendor_kpp": "77360100"}, "PODPISKA_VENDOR_KPP", "9 characters"),
        ({"vendor_inn": "500100732259"}, "PODPISKA_VENDOR_KPP", "only organisations"),
        ({"vendor_address": "x" * 501}, "PODPISKA_VENDOR_ADDRESS", "500"),
        ({"vendor_postal_address": "a\nb"}, "PODPISKA_VENDOR_POSTAL_ADDRESS", "one line"),
        ({"vendor_director_position": "\x00"}, "PODPISKA_VENDOR_DIRECTOR_POSITION", "one line"),
        ({"vendor_bik": "44525225"}, "PODPISKA_VENDOR_BIK", "9 digits"),
        ({"vendor_bik": "144525225"}, "PODPISKA_VENDOR_BIK", "starting with 04"),
        # one digit off: the control key no longer fits
        ({"vendor_account": "40702810938000000002"}, "PODPISKA_VENDOR_ACCOUNT", "control key"),
        ({"vendor_account": "4070281093800000000"}, "PODPISKA_VENDOR_ACCOUNT", "20 digits"),
        # a valid account of another bank (БИК 044525974) is not valid at this one
        (
            {"vendor_bik": "044525974"},
            "PODPISKA_VENDOR_ACCOUNT",
            "BIK 044525974",
        ),
        (
            {"vendor_correspondent_account": "30101810400000000226"},
            "PODPISKA_VENDOR_CORRESPONDENT_ACCOUNT",
            "control key",
        ),
        ({"bank_accounts": "40702810938000000001, 4070"}, "PODPISKA_BANK_ACCOUNTS", "'4070'"),
    ],
)
def test_a_wrong_requisite_is_refused_naming_its_variable(
    values: dict[str, Any], variable: str, problem: str
) -> None:
    message = refused(**values)
    assert variable in message
    assert problem in message


def test_a_bank_and_its_accounts_are_checked_together() -> None:
    """The defaults (Сбербанк, БИК 044525225, к/с 30101810400000000225) pass; another
    bank's БИК with its own correspondent account and a settlement account keyed for it
    passes too (T-Bank: 044525974, 30101810145250000974, 40702810610000000001 — its key
    computed by the Bank of Russia's rule, weights 7-1-3 over 974 + the account)."""
    made = settings(
        vendor_bik=" 044525974 ",
        vendor_correspondent_account="30101810145250000974",
        vendor_account="40702810610000000001",
        bank_accounts="40702810610000000001,40702810938000000001",
    )
    assert made.vendor_bik == "044525974"
    # no bank at all: the invoice prints no bank box
    assert settings(vendor_bik="", vendor_account="", vendor_correspondent_account="")
    assert "PODPISKA_VENDOR_ACCOUNT" in refused(vendor_bik="", vendor_correspondent_account="")


def test_an_unknown_tax_system_is_refused() -> None:
    with pytest.raises(ValidationError, match="vendor_tax_system"):
        settings(vendor_tax_system="eshn")


def test_the_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODPISKA_VENDOR_OGRN", "1027700132195")
    monkeypatch.setenv("PODPISKA_VENDOR_TAX_SYSTEM", "usn")
    monkeypatch.setenv("PODPISKA_VENDOR_PROXY_DATE", "2026-01-15")
    monkeypatch.setenv("PODPISKA_VENDOR_PROXY_SIGNER", "Сидоров С. С.")
    monkeypatch.setenv("PODPISKA_VENDOR_PROXY_POSITION", "Коммерческий директор")
    monkeypatch.setenv("PODPISKA_VENDOR_PROXY_NUMBER", "12/2026")
    made = settings()
    assert (made.vendor_ogrn, made.vendor_tax_system) == ("1027700132195", "usn")
    assert made.vendor_proxy_date == date(2026, 1, 15)
    monkeypatch.setenv("PODPISKA_VENDOR_OGRN", "1027700132194")
    assert "PODPISKA_VENDOR_OGRN" in refused()
