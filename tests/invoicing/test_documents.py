"""Documents through the real use-cases, on SQLite and PostgreSQL: an invoice for every
invoice that went out, an act (own gapless numbers) for every invoice paid in full, a
credit note document for every credit note; stored once; made on demand; not found when
there is nothing to show. The renderer is the one fake (a port) except where the real
WeasyPrint output is read back."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.pdf import WeasyPrintRenderer
from podpiska.core import clocks
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.domain.money import format_money
from podpiska.core.domain.scope import Scope
from podpiska.invoicing.document_contents import document_data
from podpiska.invoicing.document_lookup import resolve_source
from podpiska.invoicing.document_pdfs import get_document_pdf, prepare_documents
from podpiska.invoicing.document_rows import create_documents
from podpiska.invoicing.documents import document_filename
from podpiska.invoicing.models import Document, Invoice, NumberSequence
from podpiska.notifications import fanout as notifications
from podpiska.ports import (
    AdvanceInvoiceData,
    CorrectionData,
    DocumentData,
    EmailMessage,
    Party,
    ReconciliationData,
    UpdData,
    WebhookRequest,
    WebhookResponse,
)
from podpiska.subscriptions import billing, changes
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.helpers import (
    ACTOR,
    GOOD_INN,
    MSK,
    PROJECT,
    START,
    active_subscription,
    as_paid_before_0012,
    assert_lines_sum_to_total,
    invoice_by_id,
    move_to,
    open_account,
    order,
    pay,
)

SELLER = Party(
    name="ООО «Подписка»",
    inn="7707083893",
    kpp="773601001",
    bank="ПАО Сбербанк",
    bik="044525225",
    correspondent_account="30101810400000000225",
    account="40702810938000000001",
    director="Иванов И. И.",
    accountant="Петрова А. С.",
)
SITE_PLATFORM = PROJECT / "catalogs" / "site-platform.yaml"
SECRET = "a-test-secret-for-change-tokens"


@dataclass
class CountingRenderer:
    """The DocumentRenderer port: remembers what it was asked to render."""

    rendered: list[DocumentData] = field(default_factory=list)

    def render(self, document: DocumentData) -> bytes:
        self.rendered.append(document)
        return f"%PDF-fake {document.kind} {document.number} {len(self.rendered)}".encode()

    def render_upd(self, data: UpdData) -> bytes:
        return f"%PDF-fake upd {data.number}".encode()

    def render_advance(self, data: AdvanceInvoiceData) -> bytes:
        return f"%PDF-fake advance {data.number}".encode()

    def render_invoice_factura(self, data: UpdData) -> bytes:
        return f"%PDF-fake invoice_factura {data.number}".encode()

    def render_reconciliation(self, data: ReconciliationData) -> bytes:
        return f"%PDF-fake reconciliation {data.first_day} {data.last_day}".encode()

    def render_correction(self, data: CorrectionData) -> bytes:
        return f"%PDF-fake correction {data.number}".encode()


@pytest.fixture
def renderer() -> CountingRenderer:
    return CountingRenderer()


# The per-invoice act closes only the invoices the month-end run does not certify month by
# month: these tests of the act make every paid invoice one paid before revision 0012 first.


def prepare(db: Session, clock: FixedClock, renderer: CountingRenderer, **kw: object) -> int:
    as_paid_before_0012(db)
    return prepare_documents(db, renderer=renderer, seller=SELLER, clock=clock, **kw)  # type: ignore[arg-type]


def documents(db: Session, kind: str | None = None) -> list[Document]:
    with db.begin():
        query = select(Document).order_by(Document.kind, Document.id)
        if kind is not None:
            query = query.where(Document.kind == kind)
        return list(db.scalars(query))


def data_of(db: Session, document: Document) -> DocumentData:
    with db.begin():
        return document_data(db, document, SELLER)


def fetch(
    db: Session, clock: FixedClock, renderer: object, kind: str, source_id: int, **kw: object
) -> tuple[Document, bytes]:
    as_paid_before_0012(db)
    return get_document_pdf(
        db,
        kind=kind,
        source_id=source_id,
        renderer=renderer,  # type: ignore[arg-type]
        seller=SELLER,
        clock=clock,
        **({"scope": Scope.vendor()} | kw),  # type: ignore[arg-type]
    )


def refused(call: object) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()  # type: ignore[operator]
    return info.value


def assert_exact_lines(data: DocumentData) -> None:
    """The lines sum to the total, and each is quantity × price."""
    assert data.lines
    assert sum((line.amount for line in data.lines), Decimal(0)) == data.total
    for line in data.lines:
        assert line.quantity * line.price == line.amount


def test_a_paid_order_gets_its_invoice_and_an_act_with_gapless_numbers(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    first = active_subscription(db, clock, plan="standard", months=12)[0]
    unpaid = open_account(db, clock)
    unpaid_order = order(db, clock, unpaid.id, plan="basic", months=3)
    move_to(clock, date(2026, 11, 25))
    second = open_account(db, clock, inn=GOOD_INN, kpp="770701001")
    second_order = order(db, clock, second.id, plan="professional", months=1)
    pay(db, clock, second_order.invoice)

    # Invoices now; acts once their periods have been rendered (none for a future period).
    assert prepare(db, clock, renderer) == 3
    assert documents(db, "act") == []
    move_to(clock, date(2026, 12, 24))  # the last day of the second's month
    assert prepare(db, clock, renderer) == 1
    move_to(clock, date(2027, 11, 20))
    assert prepare(db, clock, renderer) == 0
    move_to(clock, date(2027, 11, 21))  # the last day of the first's year
    assert prepare(db, clock, renderer) == 1

    invoices = documents(db, "invoice")
    assert [(d.number, d.account_id, d.issued_on) for d in invoices] == [
        ("2026-000001", first.id, date(2026, 11, 22)),
        ("2026-000002", unpaid.id, date(2026, 11, 22)),
        ("2026-000003", second.id, date(2026, 11, 25)),
    ]
    acts = documents(db, "act")
    assert [(d.number, d.account_id, d.issued_on) for d in acts] == [
        ("ACT-2026-000001", second.id, date(2026, 12, 24)),  # dated the period's last day
        ("ACT-2027-000001", first.id, date(2027, 11, 21)),
    ]
    assert {d.source_id for d in acts} == {d.source_id for d in invoices} - {
        unpaid_order.invoice.id
    }
    for document in invoices + acts:
        assert document.pdf is not None
        assert document.sha256 == hashlib.sha256(document.pdf).hexdigest()
    with db.begin():
        sequence = db.get(NumberSequence, ("act", 2026))
        assert sequence is not None and sequence.last_value == 1

    act = data_of(db, acts[0])
    assert act.number == "ACT-2026-000001"
    assert act.basis == "Счёт на оплату № 2026-000003 от 25.11.2026"
    assert act.period == (date(2026, 11, 25), date(2026, 12, 24))
    assert act.buyer == Party(name="ООО «Ромашка»", inn=GOOD_INN, kpp="770701001")
    assert act.seller == SELLER
    assert (act.vat_rate, act.purpose) == ("22", None)
    assert_exact_lines(act)


def test_documents_are_stored_once(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    account, _ = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 21))  # the term's last day: its act too
    assert prepare(db, clock, renderer) == 2
    before = {(d.kind, d.source_id): (d.sha256, d.rendered_at, d.pdf) for d in documents(db)}

    move_to(clock, date(2027, 11, 23))
    assert prepare(db, clock, renderer) == 0  # nothing new: nothing rendered again
    [invoice] = documents(db, "invoice")
    document, pdf = fetch(db, clock, renderer, "invoice", invoice.source_id)

    assert len(renderer.rendered) == 2
    after = {(d.kind, d.source_id): (d.sha256, d.rendered_at, d.pdf) for d in documents(db)}
    assert after == before
    assert pdf == before[("invoice", invoice.source_id)][2]
    assert document.account_id == account.id
    assert document_filename(document) == "invoice-2026-000001.pdf"


def test_invoice_data_lines_sum_to_the_total(db: Session, clock: FixedClock) -> None:
    account = open_account(db, clock, inn=GOOD_INN)
    ordered = order(
        db,
        clock,
        account.id,
        plan="standard",
        months=12,
        add_ons=["marketplace"],
        promotions=["MARKETPLACE50"],
    )
    lines = assert_lines_sum_to_total(db, ordered.invoice)
    document, _ = fetch(db, clock, CountingRenderer(), "invoice", ordered.invoice.id)
    data = data_of(db, document)

    assert_exact_lines(data)
    assert data.total == Decimal("48438.00") == sum((line.amount for line in lines), Decimal(0))
    assert [line.description for line in data.lines] == [
        "Тариф «Стандартный», 12 мес.",
        "Подписка «Маркетплейс», 12 мес.",
    ]
    assert (data.vat_amount, data.vat_rate) == (Decimal("8734.72"), "22")
    assert data.purpose == (
        "Оплата по счёту № 2026-000001 от 22.11.2026, в т.ч. НДС 22 % — 8 734,72 руб."
    )
    assert data.due_on == date(2026, 11, 27)
    assert data.period is None  # an order's term starts the day it is paid


def test_users_above_the_plan_are_counted_and_an_exempt_vendor_says_so(
    db: Session, clock: FixedClock
) -> None:
    load_catalog_document(db, path=SITE_PLATFORM, actor="test:setup", clock=clock)
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="start", months=12, users=5)
    assert_lines_sum_to_total(db, ordered.invoice)
    document, _ = fetch(db, clock, CountingRenderer(), "invoice", ordered.invoice.id)
    data = data_of(db, document)

    assert_exact_lines(data)
    assert (data.vat_amount, data.vat_rate) == (None, None)
    assert data.purpose is not None and data.purpose.endswith("НДС не облагается")
    users = data.lines[1]
    assert (users.quantity, users.unit) == (Decimal(2), "чел.")
    assert users.price * 2 == users.amount


def test_an_early_renewal_gets_its_act_once_its_period_has_been_rendered(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    account, _ = active_subscription(db, clock, months=1)  # through 21.12.2026
    move_to(clock, date(2026, 12, 10))
    renewal = billing.renew_subscription(db, account_id=account.id, actor=ACTOR, clock=clock)
    pay(db, clock, renewal)

    # Before: an act dated 10.12.2026 for 22.12.2026–21.01.2027, "services rendered".
    early = refused(lambda: fetch(db, clock, renderer, "act", renewal.id))
    assert (early.code, early.kind) == ("document_not_found", Kind.NOT_FOUND)
    assert early.message("ru").endswith(
        "акт выписывается по окончании периода оказания услуг, 21.01.2027."
    )
    assert prepare(db, clock, renderer) == 2  # the two invoices, no act
    move_to(clock, date(2026, 12, 21))  # the order's month is rendered, not the renewal's
    assert prepare(db, clock, renderer) == 1
    assert [(d.number, d.issued_on) for d in documents(db, "act")] == [
        ("ACT-2026-000001", date(2026, 12, 21))
    ]
    refused(lambda: fetch(db, clock, renderer, "act", renewal.id))

    move_to(clock, date(2027, 1, 21))
    document, _ = fetch(db, clock, renderer, "act", renewal.id)
    data = data_of(db, document)
    assert (document.number, document.issued_on) == ("ACT-2027-000001", date(2027, 1, 21))
    assert data.period == (date(2026, 12, 22), date(2027, 1, 21))
    assert data.basis == "Счёт на оплату № 2026-000002 от 10.12.2026"
    assert_exact_lines(data)


def test_a_paid_upgrade_gets_an_act_for_the_rest_of_the_term(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    _, subscription = active_subscription(db, clock, plan="basic", months=12)
    move_to(clock, date(2027, 2, 1))
    shown = changes.preview_change(
        db,
        subscription_id=subscription.id,
        kind="plan",
        params={"plan": "standard"},
        secret=SECRET,
        clock=clock,
    )
    done = changes.commit_change(
        db,
        subscription_id=subscription.id,
        token=shown.token,
        secret=SECRET,
        actor=ACTOR,
        clock=clock,
    )
    assert done.invoice is not None
    pay(db, clock, done.invoice)
    prepare(db, clock, renderer)
    assert documents(db, "act") == []  # the rest of the term is not rendered yet
    move_to(clock, date(2027, 11, 21))
    prepare(db, clock, renderer)

    act = next(d for d in documents(db, "act") if d.source_id == done.invoice.id)
    data = data_of(db, act)
    assert act.issued_on == date(2027, 11, 21)  # the last day of the term
    assert act.number == "ACT-2027-000002"  # after the order's act, of the same day
    assert data.period is not None and data.period[0] == date(2027, 2, 1)
    assert_exact_lines(data)
    # The invoice credits the unused days of «Базовый» and charges «Стандартный» for them;
    # the act certifies services rendered only: the credit is deducted from the service,
    # never listed as one ("Возврат за неиспользованные дни" was line 1 of the act).
    invoice = invoice_by_id(db, done.invoice.id)
    lines = assert_lines_sum_to_total(db, invoice)
    credit, charge = (line.amount for line in lines)
    assert credit < 0 < charge
    assert [(line.position, line.amount) for line in data.lines] == [(1, charge + credit)]
    assert data.total == invoice.total == charge + credit
    (only,) = data.lines
    assert "Возврат" not in only.description
    assert only.description.startswith("Тариф «Стандартный» до конца оплаченного периода")
    assert only.description.endswith(
        f", за вычетом неиспользованного остатка {format_money(-credit, 'RUB', 'ru')}"
    )


def test_a_credit_note_gets_its_document(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    account = open_account(db, clock, timezone="Asia/Vladivostok")
    ordered = order(db, clock, account.id, plan="standard", months=12)
    pay(db, clock, ordered.invoice)
    clock.instant = datetime(2026, 11, 30, 20, 0, tzinfo=MSK)  # 1 December in Vladivostok
    note = issue_credit_note(
        db, invoice_id=ordered.invoice.id, reason="ошибка в тарифе", actor=ACTOR, clock=clock
    )

    assert prepare(db, clock, renderer) == 2  # the invoice and the note: no act, the money
    [document] = documents(db, "credit_note")  # was taken back
    data = data_of(db, document)

    assert (document.number, document.source_id) == ("CN-2026-000001", note.id)
    assert document.issued_on == date(2026, 12, 1)  # in the account's timezone
    assert data.total == Decimal("-43092.00")
    assert [line.amount for line in data.lines] == [Decimal("-43092.00")]
    assert (data.vat_amount, data.vat_rate) == (Decimal("-7770.69"), "22")
    assert data.reason == "ошибка в тарифе"
    assert data.basis == "Счёт на оплату № 2026-000001 от 22.11.2026"
    assert_exact_lines(data)
    assert document_filename(document) == "CN-2026-000001.pdf"
    assert resolve_source(db, kind="credit_note", reference="CN-2026-000001") == note.id


def test_on_demand_documents_are_numbered_and_kept_like_the_workers(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    first = active_subscription(db, clock)[0]
    second = active_subscription(db, clock)[0]
    with db.begin():
        invoice_ids = list(db.scalars(select(Invoice.id).order_by(Invoice.id)))

    move_to(clock, date(2027, 11, 21))  # the terms' last day
    act, pdf = fetch(db, clock, renderer, "act", invoice_ids[1])  # the worker has not run
    again, pdf_again = fetch(db, clock, renderer, "act", invoice_ids[1])
    # The acts waiting for the worker were numbered first: numbers follow the payments.
    assert (act.number, act.account_id) == ("ACT-2027-000002", second.id)
    assert (again.id, pdf_again) == (act.id, pdf)
    assert [d.number for d in renderer.rendered] == ["ACT-2027-000002"]

    assert prepare(db, clock, renderer) == 3  # two invoices and the other act
    assert [(d.number, d.account_id) for d in documents(db, "act")] == [
        ("ACT-2027-000001", first.id),
        ("ACT-2027-000002", second.id),
    ]
    assert resolve_source(db, kind="act", reference="ACT-2027-000002") == invoice_ids[1]
    assert resolve_source(db, kind="act", reference="2026-000001") == invoice_ids[0]
    assert resolve_source(db, kind="invoice", reference=" 7 ") == 7


def test_accounts_on_a_test_clock_have_their_own_act_numbers(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    test_clock = clocks.create_test_clock(db, name="demo", now=START, actor=ACTOR, clock=clock)
    account = open_account(db, clock, test_clock_id=test_clock.id)
    ordered = order(db, clock, account.id)
    pay(db, clock, ordered.invoice)
    real, _ = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 21))  # the real clock reaches the terms' last day
    prepare(db, clock, renderer)
    # the test clock has not: its account's act waits for it
    assert [(d.number, d.account_id) for d in documents(db, "act")] == [
        ("ACT-2027-000001", real.id)
    ]
    clocks.move_test_clock(db, clock_id=test_clock.id, to=clock.now(), actor=ACTOR, clock=clock)
    prepare(db, clock, renderer)
    assert sorted((d.number, d.account_id, d.issued_on) for d in documents(db, "act")) == [
        ("ACT-2027-000001", real.id, date(2027, 11, 21)),
        ("TEST-ACT-2027-000001", account.id, date(2027, 11, 21)),
    ]


def test_what_has_no_document_is_not_found(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    account = open_account(db, clock)
    ordered = order(db, clock, account.id)
    other = active_subscription(db, clock)[0]

    missing = refused(lambda: fetch(db, clock, renderer, "invoice", 999))
    assert (missing.code, missing.kind) == ("not_found", Kind.NOT_FOUND)
    assert missing.message("ru") == "Не найдено: счёт № 999."
    unpaid = refused(lambda: fetch(db, clock, renderer, "act", ordered.invoice.id))
    assert (unpaid.code, unpaid.kind) == ("document_not_found", Kind.NOT_FOUND)
    assert unpaid.message("ru") == (
        "Документ «акт» к счёту № 2026-000001 не выписан: акт выписывается, когда счёт "
        "оплачен полностью."
    )
    assert unpaid.message("en") == (
        "No act was issued for invoice 2026-000001: an act is issued once the invoice is "
        "paid in full."
    )
    note = refused(lambda: fetch(db, clock, renderer, "credit_note", 1))
    assert note.message("en") == "Credit note 1 was not found."
    # Another account's documents do not exist for an account's caller.
    foreign = refused(
        lambda: fetch(
            db, clock, renderer, "invoice", ordered.invoice.id, scope=Scope.account(other.id)
        )
    )
    assert foreign.code == "not_found"
    assert refused(lambda: fetch(db, clock, renderer, "receipt", 1)).code == "invalid_field"
    assert refused(lambda: resolve_source(db, kind="act", reference="ACT-2099-1")).code == (
        "not_found"
    )

    billing.cancel_subscription(db, account_id=account.id, actor=ACTOR, clock=clock)
    void = refused(lambda: fetch(db, clock, renderer, "act", ordered.invoice.id))
    assert "(счёт аннулирован)" in void.message("ru")
    voided_invoice, _ = fetch(db, clock, renderer, "invoice", ordered.invoice.id)
    assert voided_invoice.number == "2026-000001"  # a void invoice keeps its document
    assert renderer.rendered[-1].number == "2026-000001"
    assert documents(db, "act") == []


def test_a_document_that_fails_to_render_does_not_stop_the_others(
    db: Session, clock: FixedClock
) -> None:
    active_subscription(db, clock)
    move_to(clock, date(2027, 11, 21))  # the term's last day: its act is due

    @dataclass
    class Flaky(CountingRenderer):
        def render(self, document: DocumentData) -> bytes:
            if document.kind == "act":
                raise RuntimeError("no fonts today")
            return super().render(document)

    flaky = Flaky()
    assert prepare(db, clock, flaky) == 1
    assert [d.rendered_at is None for d in documents(db)] == [True, False]  # act, invoice
    assert prepare(db, clock, CountingRenderer()) == 1  # tried again on the next run


@pytest.mark.postgres_only
def test_two_workers_at_once_number_each_act_once_without_gaps(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    for _ in range(8):
        active_subscription(db, clock)
    move_to(clock, date(2027, 11, 21))  # the terms' last day: their acts are due
    as_paid_before_0012(db)
    barrier = threading.Barrier(3, timeout=30)

    def worker(_: int) -> int:
        with session_factory() as session:
            barrier.wait()
            made = create_documents(session, clock=clock, batch=3)
            for n in range(1, 9):  # and on demand, meanwhile
                with contextlib.suppress(DomainError):
                    get_document_pdf(
                        session,
                        kind="act",
                        source_id=n,
                        renderer=CountingRenderer(),
                        seller=SELLER,
                        clock=clock,
                        scope=Scope.vendor(),
                    )
            return made

    with ThreadPoolExecutor(max_workers=3) as pool:
        created = sum(pool.map(worker, range(3)))

    acts = documents(db, "act")
    assert created == 16  # 8 invoices, 8 acts, each created once
    assert sorted(d.number for d in acts) == [f"ACT-2027-{n:06d}" for n in range(1, 9)]
    assert sorted(d.source_id for d in acts) == list(range(1, 9))
    with db.begin():
        sequence = db.get(NumberSequence, ("act", 2027))
        assert sequence is not None and sequence.last_value == 8


def test_e_mails_carry_their_documents(
    db: Session, clock: FixedClock, renderer: CountingRenderer
) -> None:
    account = open_account(db, clock, email="buh@romashka.example")
    ordered = order(db, clock, account.id)
    pay(db, clock, ordered.invoice)
    issue_credit_note(db, invoice_id=ordered.invoice.id, reason="отказ", actor=ACTOR, clock=clock)
    sent: list[EmailMessage] = []

    class Mailer:
        def send(self, message: EmailMessage) -> None:
            sent.append(message)

    class Webhooks:
        def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
            return WebhookResponse(200)

    notifications.fan_out(db, clock=clock)
    notifications.deliver_due(  # the worker has rendered nothing: made on the way
        db, mailer=Mailer(), webhooks=Webhooks(), clock=clock, renderer=renderer, seller=SELLER
    )

    attached = {
        message.headers["X-Podpiska-Event"]: [
            (a.filename, a.content_type) for a in message.attachments
        ]
        for message in sent
    }
    assert attached["invoice.issued"] == [("invoice-2026-000001.pdf", "application/pdf")]
    assert attached["invoice.paid"] == []  # no act: its period is not rendered yet
    assert attached["credit_note.issued"] == [("CN-2026-000001.pdf", "application/pdf")]
    assert attached["subscription.activated"] == []
    stored = {d.number: d.pdf for d in documents(db)}
    for message in sent:
        for attachment in message.attachments:
            assert attachment.content == stored[attachment.filename.removeprefix("invoice-")[:-4]]


def test_the_real_pdf_of_an_invoice_made_on_demand(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    account = open_account(db, clock, inn=GOOD_INN, kpp="770701001")
    ordered = order(db, clock, account.id, plan="standard", months=12)
    document, pdf = fetch(db, clock, WeasyPrintRenderer(), "invoice", ordered.invoice.id)

    path = tmp_path / document_filename(document)
    path.write_bytes(pdf)
    text = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert "Счёт на оплату № 2026-000001 от 22.11.2026" in text
    assert f"ООО «Ромашка», ИНН {GOOD_INN}, КПП 770701001" in text
    assert "В том числе НДС 22 %: 7 770,69" in text
    assert "Всего к оплате: 43 092,00" in text
    assert "Сорок три тысячи девяносто два рубля 00 копеек" in text


# -- the requisites a document shows (issue 16, item 10) -----------------------------------

USN_SELLER = replace(SELLER, tax_system="usn")


def test_the_buyers_requisites_and_state_contract_enter_every_document(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(
        db,
        clock,
        inn=GOOD_INN,
        kpp="770701001",
        ogrn="1027700132195",
        legal_address="141400, г. Химки, ул. Ленина, д. 1",
        state_contract_id="2770708389326000000000000",
    )
    ordered = order(db, clock, account.id, plan="standard", months=12)
    assert_lines_sum_to_total(db, ordered.invoice)
    document, _ = fetch(db, clock, CountingRenderer(), "invoice", ordered.invoice.id)
    data = data_of(db, document)

    assert data.buyer == Party(
        name="ООО «Ромашка»",
        inn=GOOD_INN,
        kpp="770701001",
        address="141400, г. Химки, ул. Ленина, д. 1",
        ogrn="1027700132195",
    )
    assert data.state_contract_id == "2770708389326000000000000"
    assert data.vat_note is None  # osno
    assert (data.vat_amount, data.vat_rate) == (Decimal("7770.69"), "22")


def test_a_usn_seller_without_vat_gets_the_note_and_with_vat_keeps_it(
    db: Session, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    account = open_account(db, clock, inn=GOOD_INN)
    ordered = order(db, clock, account.id, plan="standard", months=12)
    assert_lines_sum_to_total(db, ordered.invoice)
    document, _ = fetch(db, clock, CountingRenderer(), "invoice", ordered.invoice.id)
    with db.begin(), caplog.at_level("WARNING"):
        charged = document_data(db, document, USN_SELLER)
    # Issued with VAT 22 % before the switch to usn: shown as it is, no note, a warning.
    assert (charged.vat_amount, charged.vat_note) == (Decimal("7770.69"), None)
    assert "simplified system (usn)" in caplog.text

    load_catalog_document(db, path=SITE_PLATFORM, actor="test:setup", clock=clock)
    exempt_account = open_account(db, clock, name="ООО «Василёк»")
    exempt = order(db, clock, exempt_account.id, plan="start", months=12)
    assert_lines_sum_to_total(db, exempt.invoice)
    document, _ = fetch(db, clock, CountingRenderer(), "invoice", exempt.invoice.id)
    with db.begin():
        usn = document_data(db, document, USN_SELLER)
        osno = document_data(db, document, SELLER)
    assert (usn.vat_amount, usn.vat_rate) == (None, None)
    assert usn.vat_note == (
        "НДС не облагается в связи с применением упрощённой системы налогообложения"
    )
    assert usn.purpose is not None and usn.purpose.endswith("НДС не облагается")
    assert (osno.vat_amount, osno.vat_note) == (None, None)  # exempt on osno: as before
    with db.begin():
        in_english = document_data(db, document, USN_SELLER, language="en")
    assert in_english.vat_note == (
        "VAT is not charged: the supplier applies the simplified tax system"
    )
