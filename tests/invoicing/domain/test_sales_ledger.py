"""The книга продаж and the seller's книга покупок as a pure rule: codes 01, 02, 22, the
columns by rate, the period, the order, and totals that are the sums of the columns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from podpiska.invoicing.domain.sales_ledger import (
    AdvanceOffsetBy,
    AdvanceReceived,
    Buyer,
    LedgerError,
    Sale,
    SaleLine,
    build_ledger,
)

D = Decimal
ROMASHKA = Buyer("ООО «Ромашка»", "7707083893", "773601001")


def sale(number: str, day: date, *lines: SaleLine) -> Sale:
    return Sale(number=number, issued_on=day, buyer=ROMASHKA, lines=lines)


def test_codes_columns_order_and_totals() -> None:
    advance = AdvanceReceived(
        number="AV-2026-000001",
        issued_on=date(2026, 11, 22),
        buyer=ROMASHKA,
        amount=D("43092.00"),
        vat=D("7770.69"),
        payment_number="п/п 15",
        paid_on=date(2026, 11, 22),
    )
    november = sale(
        "UPD-2026-000001", date(2026, 11, 30), SaleLine("22", D("1062.54"), D("191.61"))
    )
    mixed = sale(
        "UPD-2026-000002",
        date(2026, 11, 30),
        SaleLine("22", D("122.00"), D("22.00")),
        SaleLine(None, D("50.00"), D("0.00")),
    )
    exempt_only = sale("UPD-2026-000003", date(2026, 11, 30), SaleLine(None, D("10.00"), D("0")))
    later = sale("UPD-2026-000004", date(2026, 12, 31), SaleLine("22", D("1.22"), D("0.22")))
    offset = AdvanceOffsetBy(
        advance_number="AV-2026-000001",
        advance_issued_on=date(2026, 11, 22),
        closing_number="UPD-2026-000001",
        day=date(2026, 11, 30),
        buyer=ROMASHKA,
        amount=D("1062.54"),
        vat=D("191.61"),
        payment_number="п/п 15",
        paid_on=date(2026, 11, 22),
    )
    ledger = build_ledger(
        date(2026, 11, 1),
        date(2026, 11, 30),
        sales=[mixed, later, exempt_only, november],
        advances=[advance],
        offsets=[offset],
    )
    assert [(line.code, line.number) for line in ledger.sales] == [
        ("02", "AV-2026-000001"),
        ("01", "UPD-2026-000001"),
        ("01", "UPD-2026-000002"),
    ]  # by date then number; the exempt-only УПД (status 2) and December's are not here
    first, second, third = ledger.sales
    assert (first.total, first.base_22, first.vat_22, first.exempt) == (
        D("43092.00"),
        D("0.00"),
        D("7770.69"),
        D("0.00"),
    )
    assert (first.payment_number, first.paid_on) == ("п/п 15", date(2026, 11, 22))
    assert (second.total, second.base_22, second.vat_22) == (D("1062.54"), D("870.93"), D("191.61"))
    assert (third.total, third.base_22, third.vat_22, third.exempt) == (
        D("172.00"),
        D("100.00"),
        D("22.00"),
        D("50.00"),
    )
    totals = ledger.sales_totals
    assert totals.total == sum(line.total for line in ledger.sales) == D("44326.54")
    assert totals.vat_22 == D("7984.30")
    assert (totals.base_22, totals.exempt) == (D("970.93"), D("50.00"))
    # An advance has no amount without VAT: only the shipments' columns add up to their total.
    assert totals.total - first.total == totals.base_22 + (totals.vat_22 - first.vat_22) + D("50")
    (deducted,) = ledger.purchases
    assert (deducted.code, deducted.number, deducted.recorded_on) == (
        "22",
        "AV-2026-000001",
        date(2026, 11, 30),
    )
    assert (ledger.purchase_totals.total, ledger.purchase_totals.vat) == (
        D("1062.54"),
        D("191.61"),
    )


def test_refuses_a_rate_it_has_no_column_for_and_a_reversed_period() -> None:
    ten = sale("UPD-1", date(2026, 11, 30), SaleLine("10", D("110"), D("10")))
    with pytest.raises(LedgerError, match="'10'"):
        build_ledger(date(2026, 11, 1), date(2026, 11, 30), sales=[ten], advances=[], offsets=[])
    with pytest.raises(LedgerError, match="after it ends"):
        build_ledger(date(2026, 12, 1), date(2026, 11, 30), sales=[], advances=[], offsets=[])
