"""The sales ledger's body: amounts are strings with two decimals, dates ISO."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from podpiska.invoicing.domain.sales_ledger import Ledger


class SalesLineOut(BaseModel):
    code: str
    number: str
    issued_on: date
    buyer_name: str
    buyer_inn: str | None
    buyer_kpp: str | None
    payment_number: str | None
    paid_on: date | None
    total: str
    base_22: str
    vat_22: str
    exempt: str


class SalesTotalsOut(BaseModel):
    total: str
    base_22: str
    vat_22: str
    exempt: str


class PurchaseLineOut(BaseModel):
    code: str
    number: str
    issued_on: date
    payment_number: str | None  # none on code 18 (a УКД)
    paid_on: date | None
    recorded_on: date
    closing_number: str
    buyer_name: str
    buyer_inn: str | None
    buyer_kpp: str | None
    total: str
    vat: str


class PurchaseTotalsOut(BaseModel):
    total: str
    vat: str


class SalesLedgerOut(BaseModel):
    start: date
    end: date
    sales: list[SalesLineOut]
    sales_totals: SalesTotalsOut
    purchases: list[PurchaseLineOut]
    purchase_totals: PurchaseTotalsOut

    @classmethod
    def of(cls, ledger: Ledger) -> SalesLedgerOut:
        def money(value: object) -> str:
            return f"{value:.2f}"

        return cls(
            start=ledger.start,
            end=ledger.end,
            sales=[
                SalesLineOut(
                    code=s.code,
                    number=s.number,
                    issued_on=s.issued_on,
                    buyer_name=s.buyer_name,
                    buyer_inn=s.buyer_inn,
                    buyer_kpp=s.buyer_kpp,
                    payment_number=s.payment_number,
                    paid_on=s.paid_on,
                    total=money(s.total),
                    base_22=money(s.base_22),
                    vat_22=money(s.vat_22),
                    exempt=money(s.exempt),
                )
                for s in ledger.sales
            ],
            sales_totals=SalesTotalsOut(
                total=money(ledger.sales_totals.total),
                base_22=money(ledger.sales_totals.base_22),
                vat_22=money(ledger.sales_totals.vat_22),
                exempt=money(ledger.sales_totals.exempt),
            ),
            purchases=[
                PurchaseLineOut(
                    code=p.code,
                    number=p.number,
                    issued_on=p.issued_on,
                    payment_number=p.payment_number,
                    paid_on=p.paid_on,
                    recorded_on=p.recorded_on,
                    closing_number=p.closing_number,
                    buyer_name=p.buyer_name,
                    buyer_inn=p.buyer_inn,
                    buyer_kpp=p.buyer_kpp,
                    total=money(p.total),
                    vat=money(p.vat),
                )
                for p in ledger.purchases
            ],
            purchase_totals=PurchaseTotalsOut(
                total=money(ledger.purchase_totals.total), vat=money(ledger.purchase_totals.vat)
            ),
        )
