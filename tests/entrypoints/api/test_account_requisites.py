"""The buyer's requisites through the API, on SQLite and on PostgreSQL: given when the
account is opened, changed and cleared with `PATCH /accounts/{id}` (audited, all or
nothing), and refused with a 422 naming the field when wrong."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.accounts.models import Account
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document

PROJECT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
ORGANISATION = {
    "name": "ООО «Ромашка»",
    "admin_email": "admin@romashka.ru",
    "inn": "7707083893",
    "kpp": "773601001",
    "legal_address": "117312, г. Москва, ул. Вавилова, д. 19",
    "ogrn": "1027700132195",
    "state_contract_id": "2770708389326000123",
}

Api = tuple[TestClient, Context, dict[str, str]]


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Api:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=PROJECT / "catalogs" / "crm-shop.yaml",
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
    )
    context = build_context(settings=settings, clock=FixedClock(START))
    with context.session() as db:
        load_catalog_document(db, path=settings.catalog, actor="test", clock=context.clock)
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return TestClient(create_app(context)), context, {"Authorization": f"Bearer {key}"}


def _open(client: TestClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/accounts", json=body, headers=auth)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _stored(context: Context, account_id: int) -> tuple[str | None, ...]:
    with context.session() as db, db.begin():
        account = db.get_one(Account, account_id)
        return (account.kpp, account.legal_address, account.ogrn, account.state_contract_id)


def _audits(context: Context, account_id: int) -> list[AuditEntry]:
    with context.session() as db, db.begin():
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.account_id == account_id)
                .where(AuditEntry.action == "account.requisites_changed")
                .order_by(AuditEntry.id)
            )
        )


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_field", error
    assert error["details"]["field"] == field
    assert error["message"]


def test_an_organisation_opened_with_its_requisites_returns_and_keeps_them(api: Api) -> None:
    client, context, auth = api
    opened = _open(client, auth, **ORGANISATION)
    for field in ("inn", "kpp", "legal_address", "ogrn", "state_contract_id"):
        assert opened[field] == ORGANISATION[field]
    read = client.get(f"/api/v1/accounts/{opened['id']}", headers=auth).json()
    assert read["ogrn"] == "1027700132195"
    assert _stored(context, opened["id"]) == (
        "773601001",
        ORGANISATION["legal_address"],
        "1027700132195",
        "2770708389326000123",
    )


def test_an_entrepreneur_has_an_ogrnip_and_no_requisites_are_needed(api: Api) -> None:
    client, _, auth = api
    person = _open(
        client,
        auth,
        name="ИП Петров",
        admin_email="ip@petrov.ru",
        inn="500100732259",
        ogrn=" 385768585948949 ",
    )
    assert (person["ogrn"], person["kpp"]) == ("385768585948949", None)
    bare = _open(client, auth, name="Без реквизитов", admin_email="a@b.ru", legal_address="  ")
    assert (bare["legal_address"], bare["ogrn"], bare["state_contract_id"]) == (None, None, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ogrn": "1027700132196"}, "ogrn"),  # wrong check digit
        ({"ogrn": "385768585948949"}, "ogrn"),  # an ОГРНИП for a 10-digit ИНН
        ({"inn": "500100732259", "kpp": None}, "ogrn"),  # an ОГРН for a 12-digit ИНН
        ({"inn": None, "kpp": None}, "ogrn"),  # an ОГРН without ИНН
        ({"kpp": "77360100"}, "kpp"),
        ({"legal_address": "д. 1, " * 100}, "legal_address"),  # 600 characters
        ({"state_contract_id": "1" * 256}, "state_contract_id"),
    ],
)
def test_a_wrong_requisite_on_opening_is_422_naming_it(
    api: Api, change: dict[str, Any], field: str
) -> None:
    client, context, auth = api
    body = {k: v for k, v in {**ORGANISATION, **change}.items() if v is not None}
    response = client.post("/api/v1/accounts", json=body, headers=auth)
    _refused(response, field)
    with context.session() as db, db.begin():
        assert db.scalar(select(Account.id)) is None


def test_patch_changes_and_clears_requisites_audited(api: Api) -> None:
    client, context, auth = api
    account = _open(client, auth, name="ООО «Ромашка»", admin_email="a@r.ru", inn="7707083893")
    url = f"/api/v1/accounts/{account['id']}"
    changed = client.patch(
        url,
        json={"kpp": "773601001", "ogrn": "1027700132195", "legal_address": "г. Москва"},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["kpp"], changed.json()["ogrn"]) == ("773601001", "1027700132195")
    assert changed.json()["language"] == "ru"
    cleared = client.patch(url, json={"legal_address": None}, headers=auth).json()
    assert cleared["legal_address"] is None
    assert cleared["ogrn"] == "1027700132195"  # not given: unchanged
    again = client.patch(url, json={"ogrn": "1027700132195"}, headers=auth)
    assert again.status_code == 200
    audits = _audits(context, account["id"])
    assert len(audits) == 2  # the same value again is no change
    assert audits[0].after == {
        "kpp": "773601001",
        "ogrn": "1027700132195",
        "legal_address": "г. Москва",
    }
    assert audits[1].before == {"legal_address": "г. Москва"}
    assert audits[1].after == {"legal_address": None}


def test_a_wrong_patch_is_422_and_changes_nothing_not_even_the_language(api: Api) -> None:
    client, context, auth = api
    account = _open(client, auth, **ORGANISATION)
    url = f"/api/v1/accounts/{account['id']}"
    response = client.patch(
        url,
        json={"language": "en", "legal_address": "г. Тула", "ogrn": "1027700132194"},
        headers=auth,
    )
    _refused(response, "ogrn")
    after = client.get(url, headers=auth).json()
    assert (after["language"], after["legal_address"]) == ("ru", ORGANISATION["legal_address"])
    _refused(client.patch(url, json={"kpp": "ABCD01001"}, headers=auth), "kpp")
    bad = client.patch(url, json={"legal_address": "г. Тула\x00"}, headers=auth)
    assert bad.status_code == 422
    assert _stored(context, account["id"])[1] == ORGANISATION["legal_address"]
    assert _audits(context, account["id"]) == []


BUYER_EDO_ID = "2BM-7728168971-772801001-201601010000000000002"


def test_the_edo_id_is_given_changed_cleared_and_audited_with_the_requisites(api: Api) -> None:
    client, context, auth = api
    opened = _open(client, auth, **ORGANISATION, edo_id=f" {BUYER_EDO_ID} ")
    assert opened["edo_id"] == BUYER_EDO_ID
    url = f"/api/v1/accounts/{opened['id']}"
    assert client.get(url, headers=auth).json()["edo_id"] == BUYER_EDO_ID
    other = "2AE-1234567890"
    changed = client.patch(url, json={"edo_id": other}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["edo_id"] == other
    assert changed.json()["kpp"] == ORGANISATION["kpp"]  # not given: unchanged
    cleared = client.patch(url, json={"edo_id": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json()["edo_id"] is None
    audits = _audits(context, opened["id"])
    assert [(a.before, a.after) for a in audits] == [
        ({"edo_id": BUYER_EDO_ID}, {"edo_id": other}),
        ({"edo_id": other}, {"edo_id": None}),
    ]


@pytest.mark.parametrize("bad", ["no spaces allowed", "2B", "2BM-" + "1" * 43, "2BM_1234", "ЭДО-1"])
def test_a_wrong_edo_id_is_422_and_changes_nothing(api: Api, bad: str) -> None:
    client, context, auth = api
    refused = client.post("/api/v1/accounts", json={**ORGANISATION, "edo_id": bad}, headers=auth)
    _refused(refused, "edo_id")
    assert "участника ЭДО" in refused.json()["error"]["details"]["problem_ru"]
    account = _open(client, auth, **ORGANISATION, edo_id=BUYER_EDO_ID)
    url = f"/api/v1/accounts/{account['id']}"
    _refused(
        client.patch(url, json={"edo_id": bad, "legal_address": "г. Тула"}, headers=auth),
        "edo_id",
    )
    after = client.get(url, headers=auth).json()
    assert (after["edo_id"], after["legal_address"]) == (
        BUYER_EDO_ID,
        ORGANISATION["legal_address"],
    )
    assert _audits(context, account["id"]) == []


def test_the_closing_form_is_chosen_changed_audited_and_checked(api: Api) -> None:
    client, context, auth = api
    plain = _open(client, auth, name="ООО «УПД»", admin_email="upd@example.ru")
    assert plain["closing_form"] == "upd"  # the default
    acts = _open(client, auth, **ORGANISATION, closing_form="act")
    assert acts["closing_form"] == "act"
    _refused(
        client.post(
            "/api/v1/accounts",
            json={"name": "ООО «Плохо»", "admin_email": "bad@example.ru", "closing_form": "ukd"},
            headers=auth,
        ),
        "closing_form",
    )
    changed = client.patch(
        f"/api/v1/accounts/{plain['id']}", json={"closing_form": "act"}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["closing_form"] == "act"
    [entry] = _audits(context, plain["id"])
    assert entry.before == {"closing_form": "upd"}
    assert entry.after == {"closing_form": "act"}
    for bad in ("ACT", "", None, "счёт"):
        _refused(
            client.patch(
                f"/api/v1/accounts/{plain['id']}", json={"closing_form": bad}, headers=auth
            ),
            "closing_form",
        )
    with context.session() as db, db.begin():
        assert db.get_one(Account, plain["id"]).closing_form == "act"  # all or nothing
