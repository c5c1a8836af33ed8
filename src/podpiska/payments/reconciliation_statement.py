"""The акт сверки взаимных расчётов (issue 16, item 8): an account's settlements with the
vendor over a period, as the seller keeps them (docs/documents.md, «Акт сверки»).

Debit (the buyer owes more): sales — the УПД of the month-end run (`Closing`) and the acts
of the invoices closed by their act before it (`ServicePlan.by` = "act") — and refunds
(money sent back). Credit (the buyer owes less): money received (`Payment`, but not the
account's own credit used on an invoice, method `credit`), bank payments put on the
account's credit (`BankPayment` `credited`) and the part of a credit note that reduced a
sale already made (its `ServiceCut.uncovered`). A balance is the buyer's debt: positive,
the buyer owes; negative, the seller holds the buyer's advance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, format_amount
from podpiska.core.domain.scope import Scope
from podpiska.core.domain.text import Text
from podpiska.core.records import not_found
from podpiska.invoicing.models import (
    Closing,
    Correction,
    CreditNote,
    Document,
    Invoice,
    Payment,
    ServiceCut,
    ServicePlan,
)
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.models import Refund
from podpiska.ports import Party, ReconciliationData, ReconciliationLine

MAX_YEARS = 5  # a longer period is refused: split it
CREDIT_METHOD = "credit"  # the account's own credit used on an invoice: no money moved
NOTE_SOURCE = "credit_note:"

# The order of a day's lines: sales, then corrections, payments, refunds.
SALE, CORRECTION, PAYMENT, REFUND = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Entry:
    """One settlement as the seller's books have it: `amount` > 0 in the debit column (a
    sale, a refund), in the credit column otherwise (a payment, a correction)."""

    day: date
    rank: int
    description: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def _day(value: date, lang: str) -> str:
    return Text(value.strftime("%d.%m.%Y"), value.isoformat()).get(lang)


def _money(value: Decimal, currency: str, lang: str) -> str:
    unit = Text("руб.", "RUB").get(lang) if currency == "RUB" else currency
    return f"{format_amount(value, lang)} {unit}"


def conclusion(
    balance: Decimal, day: date, seller: Party, buyer: Party, currency: str, lang: str
) -> str:
    """«на 31.12.2026 задолженность в пользу ООО «Подписка» 1 062,54 руб.» (the buyer owes),
    «… в пользу <buyer> …» (the seller holds an advance) or «… задолженность отсутствует»."""
    when = _day(day, lang)
    if balance == 0:
        return Text(f"на {when} задолженность отсутствует", f"as of {when} there is no debt").get(
            lang
        )
    creditor = seller.name if balance > 0 else buyer.name
    amount = _money(abs(balance), currency, lang)
    return Text(
        f"на {when} задолженность в пользу {creditor} {amount}",
        f"as of {when} the debt in favour of {creditor} is {amount}",
    ).get(lang)


def assemble(
    entries: Iterable[Entry],
    *,
    first_day: date,
    last_day: date,
    seller: Party,
    buyer: Party,
    currency: str = "RUB",
    language: str = "ru",
) -> ReconciliationData:
    """The statement from every entry up to `last_day`: those before `first_day` make the
    opening balance, the others the lines, in date order. Pure."""
    chosen = sorted(
        (e for e in entries if e.day <= last_day), key=lambda e: (e.day, e.rank, e.description)
    )
    before = [e for e in chosen if e.day < first_day]
    opening = sum((e.debit - e.credit for e in before), ZERO)
    lines = tuple(
        ReconciliationLine(day=e.day, description=e.description, debit=e.debit, credit=e.credit)
        for e in chosen
        if e.day >= first_day
    )
    debit = sum((line.debit for line in lines), ZERO)
    credit = sum((line.credit for line in lines), ZERO)
    closing = opening + debit - credit
    assert closing == sum((e.debit - e.credit for e in chosen), ZERO)
    return ReconciliationData(
        seller=seller,
        buyer=buyer,
        first_day=first_day,
        last_day=last_day,
        opening=opening,
        lines=lines,
        debit_turnover=debit,
        credit_turnover=credit,
        closing=closing,
        conclusion=conclusion(closing, last_day, seller, buyer, currency, language),
        currency=currency,
        language=language,
    )


def _at_least_years(first_day: date, last_day: date, years: int) -> bool:
    """Whether [first_day, last_day] spans `years` years or more (no date arithmetic: the
    years near 9999 never overflow)."""
    span = last_day.year - first_day.year
    later = (last_day.month, last_day.day) >= (first_day.month, first_day.day)
    return span > years or (span == years and later)


def check_period(first_day: date, last_day: date) -> None:
    """`reconciliation_period` for a period that ends before it starts or is longer than
    `MAX_YEARS` years."""
    problem = None
    if first_day > last_day:
        problem = {"ru": "начало позже конца", "en": "it starts after it ends"}
    elif _at_least_years(first_day, last_day, MAX_YEARS):
        problem = {
            "ru": f"он длиннее {MAX_YEARS} лет, разделите его",
            "en": f"it is longer than {MAX_YEARS} years, split it",
        }
    if problem is not None:
        raise DomainError(
            "reconciliation_period",
            first=first_day.isoformat(),
            last=last_day.isoformat(),
            problem=problem,
        )


def _local(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def buyer_party(account: Account) -> Party:
    return Party(
        name=account.name,
        inn=account.inn,
        kpp=account.kpp,
        address=account.legal_address or None,
        ogrn=account.ogrn or None,
    )


def account_entries(session: Session, account: Account, last_day: date, lang: str) -> list[Entry]:
    """Every settlement of the account up to `last_day` (inclusive), in the caller's
    transaction."""
    no, of = Text("№", "No.").get(lang), Text("от", "of").get(lang)
    sale, paid = Text("Продажа", "Sale").get(lang), Text("Оплата", "Payment").get(lang)
    entries: list[Entry] = []
    for c in session.scalars(
        select(Closing).where(Closing.account_id == account.id, Closing.issued_on <= last_day)
    ):
        label = Text("УПД", "UPD").get(lang)
        text = f"{sale} ({label} {no} {c.number} {of} {_day(c.issued_on, lang)})"
        entries.append(Entry(c.issued_on, SALE, text, debit=c.total))
    acts = session.execute(
        select(Document.number, Document.issued_on, Invoice.total)
        .join(Invoice, Invoice.id == Document.source_id)
        .join(ServicePlan, ServicePlan.invoice_id == Invoice.id)
        .where(
            Document.account_id == account.id,
            Document.kind == "act",
            Document.issued_on <= last_day,
            ServicePlan.by == "act",
        )
    )
    for number, issued_on, total in acts:
        label = Text("Акт", "Act").get(lang)
        text = f"{sale} ({label} {no} {number} {of} {_day(issued_on, lang)})"
        entries.append(Entry(issued_on, SALE, text, debit=total))
    for p in session.scalars(
        select(Payment).where(
            Payment.account_id == account.id,
            Payment.method != CREDIT_METHOD,
            Payment.status == "succeeded",
            Payment.received_on <= last_day,
        )
    ):
        reference = p.external_id or f"payment:{p.id}"
        text = f"{paid} ({no} {reference} {of} {_day(p.received_on, lang)})"
        entries.append(Entry(p.received_on, PAYMENT, text, credit=p.amount))
    for b in session.scalars(
        select(BankPayment).where(
            BankPayment.account_id == account.id,
            BankPayment.status == "credited",
            BankPayment.day <= last_day,
        )
    ):
        text = f"{paid} ({no} {b.doc_number} {of} {_day(b.day, lang)})"
        entries.append(Entry(b.day, PAYMENT, text, credit=b.amount))
    for r in session.scalars(
        select(Refund).where(Refund.account_id == account.id, Refund.status != "failed")
    ):
        day = _local(r.created_at, account.timezone)
        if day <= last_day:
            text = Text("Возврат денежных средств", "Refund").get(lang)
            entries.append(Entry(day, REFUND, f"{text} ({no} {r.id})", debit=r.amount))
    cuts = session.execute(
        select(ServiceCut.source, ServiceCut.day, ServiceCut.uncovered).where(
            ServiceCut.account_id == account.id,
            ServiceCut.source.startswith(NOTE_SOURCE),
            ServiceCut.uncovered > ZERO,
            ServiceCut.day <= last_day,
        )
    ).all()
    # A sale already made and taken back is corrected by a УКД (its decrease, on the
    # credit side); what no УКД could correct (an invoice closed by its act) by the note.
    fixed = Text("Корректировка реализации (УКД", "Sale corrected (UKD").get(lang)
    for correction in session.scalars(
        select(Correction).where(
            Correction.account_id == account.id, Correction.issued_on <= last_day
        )
    ):
        text = f"{fixed} {no} {correction.number} {of} {_day(correction.issued_on, lang)})"
        entries.append(Entry(correction.issued_on, CORRECTION, text, credit=correction.decrease))
    label = Text("Корректировочный документ", "Credit note").get(lang)
    for source, day, uncovered in cuts:
        note = session.get(CreditNote, int(source.removeprefix(NOTE_SOURCE)))
        number = note.number if note is not None else source
        text = f"{label} {no} {number} {of} {_day(day, lang)}"
        entries.append(Entry(day, CORRECTION, text, credit=uncovered))
    return entries


def reconciliation_statement(
    session: Session,
    *,
    account_id: int,
    first_day: date,
    last_day: date,
    seller: Party,
    scope: Scope,
    language: str = "ru",
) -> ReconciliationData:
    """The акт сверки of an account for [first_day, last_day]: `reconciliation_period` for
    a bad period, not found for an account the caller's scope does not see."""
    check_period(first_day, last_day)
    lang = language if language in ("ru", "en") else "ru"
    with session.begin():
        read_only(session)
        account = session.get(Account, account_id) if 0 < account_id < 2**63 else None
        if account is None or not scope.may_see(account_id):
            raise not_found("account", account_id)
        currency = session.scalar(
            select(Invoice.currency).where(Invoice.account_id == account_id).limit(1)
        )
        entries = account_entries(session, account, last_day, lang)
        return assemble(
            entries,
            first_day=first_day,
            last_day=last_day,
            seller=seller,
            buyer=buyer_party(account),
            currency=currency or "RUB",
            language=lang,
        )
