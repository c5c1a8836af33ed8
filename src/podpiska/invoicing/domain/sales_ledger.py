"""The книга продаж and the seller's книга покупок lines for a period (Постановление
Правительства № 1137, приложения 4 and 5; the codes of the kinds of operations: приказ ФНС
России от 14.03.2016 № ММВ-7-3/136@), built from plain data: pure, exact, no rounding (every
amount is already in kopecks on its document).

- code **01**: a УПД of status 1 (счёт-фактура of services rendered): its total with VAT,
  the amount without VAT and the VAT at 22 %, and the exempt part;
- code **02**: an advance счёт-фактура: the money received with its VAT at 22/122, the
  amount without VAT left empty (the Rules fill графы 14–16 only on a shipment);
- code **22** (книга покупок): the VAT of an advance deducted by the seller when a УПД
  offsets it (п. 8 ст. 171, п. 6 ст. 172 НК РФ), one line per offset;
- code **18** (книга покупок): the VAT the seller deducts on a УКД that decreases the cost
  of services shipped (п. 13 ст. 171, п. 10 ст. 172 НК РФ), one line per УКД.

Lines are sorted by date then number; the totals are per column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

SHIPMENT = "01"
ADVANCE_RECEIVED = "02"
ADVANCE_DEDUCTED = "22"
DECREASE_DEDUCTED = "18"
GENERAL_RATE = "22"  # the rate of a УПД line: "22", or None for an exempt one
ZERO = Decimal("0.00")


class LedgerError(ValueError):
    """Data a ledger cannot hold (a VAT rate it has no column for)."""


@dataclass(frozen=True, slots=True)
class Buyer:
    name: str
    inn: str | None
    kpp: str | None


@dataclass(frozen=True, slots=True)
class SaleLine:
    vat_rate: str | None  # "22" or None (exempt)
    amount: Decimal  # with VAT
    vat: Decimal


@dataclass(frozen=True, slots=True)
class Sale:
    """A УПД of services rendered."""

    number: str
    issued_on: date
    buyer: Buyer
    lines: tuple[SaleLine, ...]


@dataclass(frozen=True, slots=True)
class AdvanceReceived:
    """An advance счёт-фактура and the payment it was issued on."""

    number: str
    issued_on: date
    buyer: Buyer
    amount: Decimal  # with VAT
    vat: Decimal
    payment_number: str
    paid_on: date


@dataclass(frozen=True, slots=True)
class AdvanceOffsetBy:
    """Part of an advance offset by a УПД on `day`."""

    advance_number: str
    advance_issued_on: date
    closing_number: str
    day: date
    buyer: Buyer
    amount: Decimal  # with VAT
    vat: Decimal
    payment_number: str
    paid_on: date


@dataclass(frozen=True, slots=True)
class Decrease:
    """A УКД decreasing the cost of a УПД's services."""

    number: str
    issued_on: date
    corrected_number: str  # the УПД
    buyer: Buyer
    amount: Decimal  # the decrease, with VAT
    vat: Decimal  # the VAT decrease


@dataclass(frozen=True, slots=True)
class SalesLine:
    """One line of the книга продаж (the графы it fills)."""

    code: str  # графа 2
    number: str  # графа 3: the счёт-фактура's number …
    issued_on: date  # … and date
    buyer_name: str  # графа 7
    buyer_inn: str | None  # графа 8
    buyer_kpp: str | None
    payment_number: str | None  # графа 11: on an advance
    paid_on: date | None
    total: Decimal  # графа 13б: with VAT, in roubles
    base_22: Decimal  # without VAT at 22 % (empty on an advance)
    vat_22: Decimal  # the VAT at 22 % (on an advance: at 22/122)
    exempt: Decimal  # графа 19: exempt from VAT


@dataclass(frozen=True, slots=True)
class PurchaseLine:
    """One line of the seller's книга покупок: an advance's VAT deducted (code 22), or the
    VAT of a decrease by a УКД (code 18)."""

    code: str  # графа 2
    number: str  # графа 3: the advance счёт-фактура's (the УКД's) number …
    issued_on: date  # … and date
    payment_number: str | None  # графа 7: the payment document (none on code 18)
    paid_on: date | None
    recorded_on: date  # графа 8: the day of the offset (the УПД's), of the УКД
    closing_number: str  # the УПД that offsets it, or that the УКД corrects (for the reader)
    buyer_name: str  # графа 9
    buyer_inn: str | None  # графа 10
    buyer_kpp: str | None
    total: Decimal  # графа 15: the part of the advance offset, with VAT
    vat: Decimal  # графа 16: the VAT deducted


@dataclass(frozen=True, slots=True)
class SalesTotals:
    total: Decimal
    base_22: Decimal
    vat_22: Decimal
    exempt: Decimal


@dataclass(frozen=True, slots=True)
class PurchaseTotals:
    total: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True)
class Ledger:
    start: date
    end: date
    sales: tuple[SalesLine, ...]
    sales_totals: SalesTotals
    purchases: tuple[PurchaseLine, ...]
    purchase_totals: PurchaseTotals


def sale_line(sale: Sale) -> SalesLine:
    """A УПД as a line of code 01: its lines summed by rate."""
    base = vat = exempt = ZERO
    for line in sale.lines:
        if line.vat_rate == GENERAL_RATE:
            base += line.amount - line.vat
            vat += line.vat
        elif line.vat_rate is None:
            if line.vat:
                raise LedgerError(f"{sale.number}: an exempt line carries VAT {line.vat}")
            exempt += line.amount
        else:
            raise LedgerError(f"{sale.number}: VAT rate {line.vat_rate!r} has no column here")
    return SalesLine(
        code=SHIPMENT,
        number=sale.number,
        issued_on=sale.issued_on,
        buyer_name=sale.buyer.name,
        buyer_inn=sale.buyer.inn,
        buyer_kpp=sale.buyer.kpp,
        payment_number=None,
        paid_on=None,
        total=base + vat + exempt,
        base_22=base,
        vat_22=vat,
        exempt=exempt,
    )


def advance_line(advance: AdvanceReceived) -> SalesLine:
    return SalesLine(
        code=ADVANCE_RECEIVED,
        number=advance.number,
        issued_on=advance.issued_on,
        buyer_name=advance.buyer.name,
        buyer_inn=advance.buyer.inn,
        buyer_kpp=advance.buyer.kpp,
        payment_number=advance.payment_number,
        paid_on=advance.paid_on,
        total=advance.amount,
        base_22=ZERO,
        vat_22=advance.vat,
        exempt=ZERO,
    )


def offset_line(offset: AdvanceOffsetBy) -> PurchaseLine:
    return PurchaseLine(
        code=ADVANCE_DEDUCTED,
        number=offset.advance_number,
        issued_on=offset.advance_issued_on,
        payment_number=offset.payment_number,
        paid_on=offset.paid_on,
        recorded_on=offset.day,
        closing_number=offset.closing_number,
        buyer_name=offset.buyer.name,
        buyer_inn=offset.buyer.inn,
        buyer_kpp=offset.buyer.kpp,
        total=offset.amount,
        vat=offset.vat,
    )


def decrease_line(decrease: Decrease) -> PurchaseLine:
    return PurchaseLine(
        code=DECREASE_DEDUCTED,
        number=decrease.number,
        issued_on=decrease.issued_on,
        payment_number=None,
        paid_on=None,
        recorded_on=decrease.issued_on,
        closing_number=decrease.corrected_number,
        buyer_name=decrease.buyer.name,
        buyer_inn=decrease.buyer.inn,
        buyer_kpp=decrease.buyer.kpp,
        total=decrease.amount,
        vat=decrease.vat,
    )


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def build_ledger(
    start: date,
    end: date,
    *,
    sales: Sequence[Sale],
    advances: Sequence[AdvanceReceived],
    offsets: Sequence[AdvanceOffsetBy],
    decreases: Sequence[Decrease] = (),
) -> Ledger:
    """The books for [start, end]: only the documents dated within it; a УПД with no VAT
    line at all (status 2) is no счёт-фактура and is left out."""
    if start > end:
        raise LedgerError(f"the period starts ({start}) after it ends ({end})")
    inside = [
        *(
            sale_line(s)
            for s in sales
            if start <= s.issued_on <= end and any(line.vat_rate for line in s.lines)
        ),
        *(advance_line(a) for a in advances if start <= a.issued_on <= end),
    ]
    inside.sort(key=lambda line: (line.issued_on, line.number))
    bought = sorted(
        [
            *(offset_line(o) for o in offsets if start <= o.day <= end),
            *(decrease_line(d) for d in decreases if start <= d.issued_on <= end and d.vat),
        ],
        key=lambda line: (line.recorded_on, line.number, line.closing_number),
    )
    return Ledger(
        start=start,
        end=end,
        sales=tuple(inside),
        sales_totals=SalesTotals(
            total=_sum(line.total for line in inside),
            base_22=_sum(line.base_22 for line in inside),
            vat_22=_sum(line.vat_22 for line in inside),
            exempt=_sum(line.exempt for line in inside),
        ),
        purchases=tuple(bought),
        purchase_totals=PurchaseTotals(
            total=_sum(line.total for line in bought),
            vat=_sum(line.vat for line in bought),
        ),
    )
