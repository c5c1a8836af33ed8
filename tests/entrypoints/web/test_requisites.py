"""The buyer's requisites in the web through TestClient (SQLite and PostgreSQL): shown and
changed on the back office's account page and on the portal's settings, through
`accounts.change_account` (audited with the person as actor), a wrong value said under its
field (422, nothing written), CSRF, and the portal's scope (another account: 404)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.models import Account
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    SUSPENDED_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)

KPP = "773601001"
OGRN = "1027700132195"  # a valid ОГРН (13 digits): ООО «Ромашка»'s ИНН is an organisation's
ADDRESS = "117997, г. Москва, ул. Вавилова, д. 19"
CONTRACT = "0373100000126000001"
OFFICE_PAGE = f"/office/accounts/{CUSTOMER_ACCOUNT}"
PORTAL_PAGE = f"/portal/{CUSTOMER_ACCOUNT}/payment-methods"


def _ctx(client: TestClient) -> Context:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    return ctx


def _account(client: TestClient, account_id: int = CUSTOMER_ACCOUNT) -> Account:
    with _ctx(client).session() as db, db.begin():
        found = db.get(Account, account_id)
        assert found is not None
        db.expunge(found)
        return found


def _audit(client: TestClient) -> list[AuditEntry]:
    with _ctx(client).session() as db, db.begin():
        rows = list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "account.requisites_changed")
                .order_by(AuditEntry.id)
            )
        )
        for row in rows:
            db.expunge(row)
        return rows


def _form(**values: str) -> dict[str, str]:
    return {
        "kpp": KPP,
        "legal_address": ADDRESS,
        "ogrn": OGRN,
        "state_contract_id": CONTRACT,
        **values,
    }


def _post(client: TestClient, page: str, action: str, **data: str) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, headers={"Accept": "text/html"})


def test_the_office_shows_and_changes_the_requisites(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    page = client.get(OFFICE_PAGE)
    assert page.status_code == 200
    assert 'data-testid="requisites"' in page.text
    assert "Реквизиты" in page.text and "7707083893" in page.text
    assert f'action="/office/accounts/{CUSTOMER_ACCOUNT}/requisites"' in page.text

    answer = _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form())
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{OFFICE_PAGE}#requisites"
    account = _account(client)
    assert (account.kpp, account.ogrn) == (KPP, OGRN)
    assert (account.legal_address, account.state_contract_id) == (ADDRESS, CONTRACT)
    (row,) = _audit(client)
    assert row.actor == f"web:{VENDOR_ADMIN.email}"
    assert row.account_id == CUSTOMER_ACCOUNT
    assert row.after == {
        "kpp": KPP,
        "legal_address": ADDRESS,
        "ogrn": OGRN,
        "state_contract_id": CONTRACT,
    }

    shown = client.get(OFFICE_PAGE).text
    assert "Реквизиты сохранены." in shown
    assert ADDRESS in shown and CONTRACT in shown
    assert 'data-action="account.requisites_changed"' in shown  # the page's audit log

    # the same values again: nothing changes, nothing audited; an empty field clears one
    assert _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form()).status_code == 303
    assert len(_audit(client)) == 1
    cleared = _post(
        client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form(state_contract_id="  ")
    )
    assert cleared.status_code == 303
    assert _account(client).state_contract_id is None
    last = _audit(client)[-1]
    assert (last.before, last.after) == (
        {"state_contract_id": CONTRACT},
        {"state_contract_id": None},
    )


def test_a_wrong_requisite_is_said_under_its_field_and_nothing_changes(
    client: TestClient,
) -> None:
    client_log_in(client, VENDOR_ADMIN)
    answer = _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form(ogrn="1027700132194"))
    assert answer.status_code == 422
    html = answer.text
    assert 'data-testid="req-error-ogrn"' in html
    assert "ОГРН — 13 цифр (ОГРНИП — 15) с верной контрольной цифрой." in html
    assert 'value="1027700132194"' in html  # the values given are kept
    assert f'value="{ADDRESS}"' in html
    assert "invalid_field" not in html and "Поле «ogrn»" not in html
    assert "requisites-edit" in html and " open>" in html
    account = _account(client)
    assert (account.kpp, account.ogrn, account.legal_address) == (None, None, None)
    assert _audit(client) == []

    # all or nothing: a good КПП with a bad one elsewhere is not written either
    bad_kpp = _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form(kpp="12345"))
    assert bad_kpp.status_code == 422
    assert "КПП — 9 знаков" in bad_kpp.text
    assert _account(client).legal_address is None

    # in English, in English
    client.cookies.set("lang", "en")
    english = _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form(kpp="12345"))
    assert english.status_code == 422
    assert "A KPP has 9 characters: 4 digits, 2 digits or letters, 3 digits." in english.text
    assert "Requisites" in english.text and "Save the requisites" in english.text


def test_the_office_form_needs_the_csrf_token_and_a_vendor(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    client.get(OFFICE_PAGE)
    no_token = client.post(
        f"{OFFICE_PAGE}/requisites", data=_form(), headers={"Accept": "text/html"}
    )
    assert no_token.status_code == 403
    assert _account(client).kpp is None
    missing = _post(client, OFFICE_PAGE, "/office/accounts/999999/requisites", **_form())
    assert missing.status_code == 404

    # an account's administrator: the back office does not exist (404), nothing changes
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/profile").text)})
    client_log_in(client, CUSTOMER)
    token = csrf_of(client.get(PORTAL_PAGE).text)
    refused = client.post(
        f"{OFFICE_PAGE}/requisites",
        data={"csrf_token": token, **_form()},
        headers={"Accept": "text/html"},
    )
    assert refused.status_code == 404
    assert _account(client).kpp is None


def test_an_operator_may_change_the_requisites_as_an_operator_key_may(
    client: TestClient,
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    answer = _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form())
    assert answer.status_code == 303
    (row,) = _audit(client)
    assert row.actor == f"web:{VENDOR_OPERATOR.email}"


def test_the_customer_changes_the_company_requisites_on_the_portal(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    page = client.get(PORTAL_PAGE)
    assert page.status_code == 200
    assert 'data-testid="requisites"' in page.text
    assert f'action="/portal/{CUSTOMER_ACCOUNT}/requisites"' in page.text

    answer = _post(
        client, PORTAL_PAGE, f"/portal/{CUSTOMER_ACCOUNT}/requisites", **_form(kpp="77360100l")
    )
    assert answer.status_code == 422
    assert 'data-testid="req-error-kpp"' in answer.text
    assert _audit(client) == []

    saved = _post(client, PORTAL_PAGE, f"/portal/{CUSTOMER_ACCOUNT}/requisites", **_form())
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PORTAL_PAGE}#requisites"
    assert _account(client).ogrn == OGRN
    (row,) = _audit(client)
    assert row.actor == f"web:{CUSTOMER.email}"
    assert "Реквизиты сохранены." in client.get(PORTAL_PAGE).text

    # another account's: it does not exist, nothing changes
    other = _post(client, PORTAL_PAGE, f"/portal/{SUSPENDED_ACCOUNT}/requisites", **_form())
    assert other.status_code == 404
    assert _account(client, SUSPENDED_ACCOUNT).kpp is None
    assert client.get(f"/portal/{SUSPENDED_ACCOUNT}/payment-methods").status_code == 404


EDO_ID = "2BM-7707083893-773601001-201511240000000000001"


def test_the_edo_id_is_shown_changed_and_refused_with_the_requisites(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    page = client.get(OFFICE_PAGE).text
    assert 'data-testid="req-edo_id"' in page and 'name="edo_id"' in page
    assert "Идентификатор участника ЭДО" in page
    action = f"{OFFICE_PAGE}/requisites"
    bad = _post(client, OFFICE_PAGE, action, **_form(edo_id="2BM 7707083893"))
    assert bad.status_code == 422
    assert 'data-testid="req-error-edo_id"' in bad.text
    assert "Идентификатор участника ЭДО — до 46 латинских букв" in bad.text
    assert _account(client).kpp is None  # all or nothing
    assert _post(client, OFFICE_PAGE, action, **_form(edo_id=EDO_ID)).status_code == 303
    assert _account(client).edo_id == EDO_ID
    (row,) = _audit(client)
    assert row.after is not None and row.after["edo_id"] == EDO_ID
    assert EDO_ID in client.get(OFFICE_PAGE).text


def test_the_customer_sets_and_clears_the_edo_id_on_the_portal(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    action = f"/portal/{CUSTOMER_ACCOUNT}/requisites"
    assert 'name="edo_id"' in client.get(PORTAL_PAGE).text
    assert _post(client, PORTAL_PAGE, action, **_form(edo_id=EDO_ID)).status_code == 303
    assert _account(client).edo_id == EDO_ID
    assert EDO_ID in client.get(PORTAL_PAGE).text
    cleared = _post(
        client, PORTAL_PAGE, f"/portal/{CUSTOMER_ACCOUNT}/requisites", **_form(edo_id="")
    )
    assert cleared.status_code == 303
    assert _account(client).edo_id is None
    assert _audit(client)[-1].after == {"edo_id": None}


def test_the_closing_form_is_chosen_on_the_portal_and_in_the_office(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    page = client.get(PORTAL_PAGE).text
    assert 'name="closing_form"' in page and "Ежемесячный закрывающий документ" in page
    assert '<option value="upd" selected>' in page  # the default

    bad = _post(
        client, PORTAL_PAGE, f"/portal/{CUSTOMER_ACCOUNT}/requisites", **_form(closing_form="x")
    )
    assert bad.status_code == 422
    assert 'data-testid="req-error-closing_form"' in bad.text
    assert _account(client).closing_form == "upd"

    saved = _post(
        client, PORTAL_PAGE, f"/portal/{CUSTOMER_ACCOUNT}/requisites", **_form(closing_form="act")
    )
    assert saved.status_code == 303
    assert _account(client).closing_form == "act"
    assert (_audit(client)[-1].after or {})["closing_form"] == "act"
    shown = client.get(PORTAL_PAGE).text
    assert '<option value="act" selected>' in shown
    assert "Акт (и счёт-фактура, когда начислен НДС)" in shown


def test_the_office_changes_the_closing_form(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    assert 'name="closing_form"' in client.get(OFFICE_PAGE).text
    saved = _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form(closing_form="act"))
    assert saved.status_code == 303
    assert _account(client).closing_form == "act"
    # a form without the choice leaves it as it is
    assert _post(client, OFFICE_PAGE, f"{OFFICE_PAGE}/requisites", **_form()).status_code == 303
    assert _account(client).closing_form == "act"
