"""The services behind the portal's billing pages, on SQLite and PostgreSQL (the demo data of
the web tests): renewal offers priced as the renewal invoice, a saved card charged on the
customer's demand, the gateway asked on the customer's return, an account's documents, and
what a change can be asked about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.adapters.sandbox import SandboxGateway
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.entrypoints.context import Context
from podpiska.invoicing.document_lookup import account_documents
from podpiska.payments.checkout import (
    pay_with_saved_method,
    refresh_invoice_payment,
    start_checkout,
)
from podpiska.payments.methods import list_methods, remove_method
from podpiska.subscriptions import billing, changes
from tests.entrypoints.web.conftest import CUSTOMER_ACCOUNT, GRACE_ACCOUNT
from tests.helpers import customer_actor
from tests.seeded_demo import dispose, seeded_copy

PETROV = 6


@pytest.fixture
def ctx(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Context]:
    made = seeded_copy(request, db_url, tmp_path)
    yield made
    dispose(made)


def _gateway(ctx: Context) -> SandboxGateway:
    gateway = ctx.ports.gateway
    assert isinstance(gateway, SandboxGateway)
    return gateway


def test_renewal_offers_are_the_renewal_invoices_prices(ctx: Context) -> None:
    with ctx.session() as db:
        offers = billing.renewal_offers(db, account_id=PETROV, clock=ctx.clock)
        assert offers.can_renew and offers.paid_through == date(2026, 11, 27)
        by_months = {o.months: o for o in offers.offers}
        assert sorted(by_months) == [1, 3, 6, 12, 24]
        monthly = [by_months[m].monthly for m in (1, 3, 6, 12, 24)]
        assert monthly == [
            Decimal("1990.00"),
            Decimal("1990.00"),
            Decimal("1890.50"),
            Decimal("1791.00"),
            Decimal("1691.50"),
        ]
        twelve = by_months[12]
        assert twelve.quote is not None and twelve.paid_through == date(2027, 11, 27)
        assert sum(line.amount for line in twelve.quote.lines) == twelve.quote.total
        invoice = billing.renew_subscription(
            db, account_id=PETROV, months=12, actor="t", clock=ctx.clock
        )
        assert invoice.total == twelve.quote.total
        again = billing.renewal_offers(db, account_id=PETROV, clock=ctx.clock)
        assert again.open_invoice is not None and again.open_invoice.id == invoice.id
        early = billing.renewal_offers(db, account_id=CUSTOMER_ACCOUNT, clock=ctx.clock)
        assert not early.can_renew and early.opens_on == date(2027, 4, 5)
        assert all(o.quote is not None for o in early.offers)  # still priced


def test_a_saved_card_is_charged_on_demand_and_the_return_is_recorded(ctx: Context) -> None:
    gateway = _gateway(ctx)
    with ctx.session() as db:
        first = billing.renew_subscription(
            db, account_id=GRACE_ACCOUNT, months=1, actor="t", clock=ctx.clock
        )
        attempt = start_checkout(
            db,
            gateway,
            invoice_id=first.id,
            method_type="bank_card",
            save_method=True,
            consent_accepted=True,
            return_url=None,
            actor=customer_actor(db, ctx.clock, GRACE_ACCOUNT),
            clock=ctx.clock,
        )
        assert attempt.external_id is not None
        waiting = refresh_invoice_payment(
            db, gateway, invoice_id=first.id, account_id=GRACE_ACCOUNT, clock=ctx.clock
        )
        assert waiting.invoice.status == "issued" and waiting.attempt is not None
        assert waiting.attempt.status == "pending"
        gateway.pay(attempt.external_id, card="4242424242424242")
        paid = refresh_invoice_payment(
            db, gateway, invoice_id=first.id, account_id=GRACE_ACCOUNT, clock=ctx.clock
        )
        assert paid.invoice.status == "paid"
        with pytest.raises(DomainError) as hidden:  # another account's invoice
            refresh_invoice_payment(
                db, gateway, invoice_id=first.id, account_id=PETROV, clock=ctx.clock
            )
        assert hidden.value.kind == Kind.NOT_FOUND
        (method,) = list_methods(db, GRACE_ACCOUNT)
        second = billing.renew_subscription(
            db, account_id=GRACE_ACCOUNT, months=1, actor="t", clock=ctx.clock
        )
        with pytest.raises(DomainError) as foreign:  # the card of another account
            pay_with_saved_method(
                db,
                gateway,
                invoice_id=second.id,
                method_id=method.id,
                account_id=PETROV,
                actor="t",
                clock=ctx.clock,
            )
        assert foreign.value.code == "not_found"
        charged = pay_with_saved_method(
            db,
            gateway,
            invoice_id=second.id,
            method_id=method.id,
            account_id=GRACE_ACCOUNT,
            actor="web:a@v.example",
            clock=ctx.clock,
        )
        assert (charged.status, charged.kind) == ("succeeded", "saved_method")
        assert charged.payment_method_id == method.id
        assert billing.get_subscription(db, GRACE_ACCOUNT).ends_on == date(2027, 1, 13)
        with pytest.raises(DomainError) as done:  # paid: nothing more to charge
            pay_with_saved_method(
                db, gateway, invoice_id=second.id, method_id=method.id, actor="t", clock=ctx.clock
            )
        assert done.value.code == "invoice_not_payable"
        remove_method(db, account_id=GRACE_ACCOUNT, method_id=method.id, actor="t", clock=ctx.clock)
        with pytest.raises(DomainError) as removed:  # checked before the invoice
            pay_with_saved_method(
                db, gateway, invoice_id=second.id, method_id=method.id, actor="t", clock=ctx.clock
            )
        assert removed.value.code == "payment_method_not_found"


def test_an_accounts_documents_and_its_change_options(ctx: Context) -> None:
    with ctx.session() as db:
        rows = account_documents(db, account_id=CUSTOMER_ACCOUNT)
        kinds = [row.kind for row in rows]
        assert kinds.count("invoice") >= 1
        # Acts are listed once made (the last day of their period): each has its number.
        assert all(row.number for row in rows if row.kind == "act")
        assert account_documents(db, account_id=PETROV)  # its own, not Ромашка's
        assert {r.source_id for r in account_documents(db, account_id=PETROV)}.isdisjoint(
            {r.source_id for r in rows if r.kind == "invoice"}
        )
        options = changes.change_options(db, account_id=CUSTOMER_ACCOUNT, clock=ctx.clock)
        assert options.problem is None and options.current_plan.code == "standard"
        assert [p.code for p in options.plans] == [
            "basic",
            "standard",
            "professional",
            "enterprise",
        ]
        grace = changes.change_options(db, account_id=GRACE_ACCOUNT, clock=ctx.clock)
        assert grace.problem is not None and grace.problem.code == "change_not_allowed"
        # the state in words, never its code (issue 14, item 21)
        assert "«льготный период, только чтение»" in grace.problem.message("ru")
        assert "«grace»" not in grace.problem.message("ru")
        assert grace.problem.details["status"] == "grace"
