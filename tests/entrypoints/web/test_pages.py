"""The web application without a browser (TestClient): logging in and the lock-out, CSRF,
role guards, the language, and the API left exactly as it was."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.models import WebUser
from podpiska.accounts.people import Person
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.domain.scope import Scope
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.web.deps import guard_account, vendor, vendor_admin
from podpiska.invoicing.models import Invoice
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    GRACE_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)


def _accounts_shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-account="(\d+)"', html)]


def test_logged_out_everything_leads_to_the_login_page(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/login"
    answer = client.get("/portal/1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fportal%2F1"
    assert client.get("/office/accounts").status_code == 303
    page = client.get("/login")
    assert page.status_code == 200 and "Вход" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    cookie = page.headers["set-cookie"]
    assert "podpiska_session=" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


def test_wrong_password_then_the_lock_out_after_five_failures(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)

    def attempt(password: str) -> tuple[int, str]:
        answer = client.post(
            "/login", data={"email": CUSTOMER.email, "password": password, "csrf_token": token}
        )
        error = re.search(r'data-testid="login-error">([^<]+)<', answer.text)
        return answer.status_code, error.group(1) if error else ""

    assert attempt("wrong password") == (401, "Неверный e-mail или пароль.")
    for _ in range(3):
        assert attempt("wrong password")[0] == 401
    status, message = attempt("wrong password")
    assert status == 429 and "заблокирован до 12:15 22.11.2026" in message
    status, _ = attempt(CUSTOMER.password)  # the right one, while locked
    assert status == 429
    assert client.get("/portal/1").status_code == 303  # still logged out
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.session() as db, db.begin():
        actions = list(
            db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "web_user"))
        )
    assert actions.count("web_user.login_failed") == 5
    assert actions.count("web_user.locked") == 1


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    client_log_in(client, CUSTOMER)
    ctx = client.app.state.context  # type: ignore[attr-defined]

    def password_hash() -> str:
        with ctx.session() as db, db.begin():
            return str(
                db.scalar(select(WebUser.password_hash).where(WebUser.email == CUSTOMER.email))
            )

    before = password_hash()
    form = {"current_password": CUSTOMER.password, "new_password": "a brand new password"}
    refused = client.post("/profile/password", data=form)
    assert refused.status_code == 403
    assert "Форма устарела" in refused.text
    wrong = client.post("/profile/password", data={**form, "csrf_token": "forged"})
    assert wrong.status_code == 403
    header = client.post("/profile/password", data=form, headers={"X-CSRF-Token": "forged"})
    assert header.status_code == 403
    assert password_hash() == before
    # logging out without the token is refused too; with it, it works
    assert client.post("/logout").status_code == 403
    token = csrf_of(client.get("/profile").text)
    changed = client.post("/profile/password", data={**form, "csrf_token": token})
    assert changed.status_code == 303
    assert password_hash() != before
    token = csrf_of(client.get("/profile").text)
    assert client.post("/logout", headers={"X-CSRF-Token": token}).status_code == 303
    assert client.get("/profile").status_code == 303  # logged out


def test_an_account_admin_sees_only_its_own_account(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    assert client.get("/").headers["location"] == f"/portal/{CUSTOMER_ACCOUNT}"
    mine = client.get(f"/portal/{CUSTOMER_ACCOUNT}")
    assert mine.status_code == 200 and "ООО «Ромашка»" in mine.text
    for path in (
        f"/portal/{GRACE_ACCOUNT}",
        "/portal/999",
        "/office/accounts",
        f"/office/accounts/{GRACE_ACCOUNT}",
    ):
        other = client.get(path)
        assert other.status_code == 404, path
        assert "ООО «Вектор»" not in other.text
    assert client.get("/portal/not-a-number").status_code == 404


def test_vendors_reach_the_back_office_and_every_account(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    assert client.get("/").headers["location"] == "/office"
    listed = client.get("/office/accounts")
    assert listed.status_code == 200
    assert _accounts_shown(listed.text) == [1, 2, 3, 4, 5, 6, 7]
    assert _accounts_shown(client.get("/office/accounts?state=grace").text) == [GRACE_ACCOUNT]
    assert _accounts_shown(client.get("/office/accounts?q=ВЕКТОР").text) == [GRACE_ACCOUNT]
    assert _accounts_shown(client.get("/office/accounts?q=7736050003").text) == [GRACE_ACCOUNT]
    assert _accounts_shown(client.get("/office/accounts?q=petrov@").text) == [6]
    basic = _accounts_shown(client.get("/office/accounts?plan=basic&edition=cloud").text)
    assert basic == [2, 5, 6]
    bad = client.get("/office/accounts?due_before=tomorrow&state=nonsense")
    assert bad.status_code == 200 and "ГГГГ-ММ-ДД" in bad.text
    page = client.get(f"/office/accounts/{GRACE_ACCOUNT}")
    assert page.status_code == 200
    assert "ООО «Вектор»" in page.text and "Льготный период" in page.text
    assert "2026-00" in page.text  # its invoices, by number
    portal = client.get(f"/portal/{GRACE_ACCOUNT}")  # the vendor may look at any portal
    assert portal.status_code == 200


def test_the_language_switch_and_accept_language(client: TestClient) -> None:
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US,en"}).text
    switched = client.get("/lang/en?next=/login")
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    assert "lang=en" in switched.headers["set-cookie"]
    page = client.get("/login")
    assert '<html lang="en"' in page.text and "Log in" in page.text
    assert client.get("/lang/en?next=https://evil.example/").headers["location"] == "/"
    client.get("/lang/ru?next=/login")
    assert "Вход" in client.get("/login").text


def test_the_api_is_left_as_it_was(client: TestClient) -> None:
    """Under /api/ the web never answers (the API's JSON 404 and 405), and the API's
    responses carry no session cookie."""
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/quotes")
    assert wrong_method.status_code == 405
    health = client.get("/healthz")
    assert health.status_code == 200 and "set-cookie" not in health.headers
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Podpiska"
    assert client.get("/no-such-page").status_code == 404  # the web's 404 page


def test_vendor_admin_lands_in_the_back_office(client: TestClient) -> None:
    client_log_in(client, VENDOR_ADMIN)
    page = client.get("/office/accounts")
    assert page.status_code == 200 and VENDOR_ADMIN.email in page.text


def test_the_role_guards() -> None:
    """VendorAdminDep (catalog, keys, people pages): 403 to an operator, 404 to a customer;
    VendorDep: 404 to a customer; guard_account: 404 for another account."""
    admin = Person(1, "a@v.example", "vendor_admin", None, "k", Scope.vendor())
    operator = Person(2, "o@v.example", "vendor_operator", None, "k", Scope.vendor())
    customer = Person(3, "c@r.example", "account_admin", 7, "k", Scope.account(7))
    assert vendor_admin(admin) is admin and vendor(operator) is operator
    with pytest.raises(HTTPException) as refused:
        vendor_admin(operator)
    assert refused.value.status_code == 403
    for guard in (vendor, vendor_admin):
        with pytest.raises(HTTPException) as hidden:
            guard(customer)
        assert hidden.value.status_code == 404
    guard_account(customer, 7)
    guard_account(operator, 8)
    with pytest.raises(DomainError) as other:
        guard_account(customer, 8)
    assert other.value.kind == Kind.NOT_FOUND


def test_one_end_date_for_one_term_in_the_portal_and_the_back_office(
    client: TestClient,
) -> None:
    """The back office showed an invoice's term up to its first unpaid day (26.12) and the
    portal the last paid day (25.12): both show the last paid day, as "paid through"."""
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.session() as db, db.begin():  # a renewal invoice: a term of its own
        invoice = db.scalars(
            select(Invoice).where(Invoice.term_ends_on.is_not(None)).order_by(Invoice.id)
        ).first()
        assert invoice is not None and invoice.term_ends_on is not None
        account_id = invoice.account_id
        last_day = invoice.term_ends_on - timedelta(days=1)
    client_log_in(client, VENDOR_OPERATOR)  # vendors see the portal's pages too
    pay = client.get(f"/portal/{account_id}/invoices/{invoice.id}/pay").text
    in_portal = re.search(r"– ([0-9.]+)</p>", pay)
    assert in_portal is not None, pay
    office = client.get(f"/office/accounts/{account_id}").text
    terms = re.findall(r'data-testid="invoice-term">[^<]*– ([0-9.]+)<', office)
    assert in_portal.group(1) == last_day.strftime("%d.%m.%Y")
    assert last_day.strftime("%d.%m.%Y") in terms, terms
    assert invoice.term_ends_on.strftime("%d.%m.%Y") not in terms
