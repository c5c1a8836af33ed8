"""PDF documents through the entry points, on SQLite and PostgreSQL, with the real adapters
(WeasyPrint, the mailbox folder): downloads from the API with its access rules, the
e-mails that carry them, the worker that renders them, and `podpiska document get`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from decimal import Decimal
from email.message import EmailMessage as MimeMessage
from pathlib import Path

import procrastinate
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.adapters.mail import read_message
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.entrypoints import queue
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.worker import InProcessWorker, deliver_outbox
from podpiska.invoicing.models import Document
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW, SITE_PLATFORM
from tests.helpers import as_paid_before_0012

MADE: list[Context] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        made = MADE.pop()
        if "sessions" in made.__dict__:
            made.sessions.kw["bind"].dispose()


@pytest.fixture
def context(db_url: str, tmp_path: Path) -> Context:
    """Real ports: WeasyPrint, mail into a mailbox folder under tmp_path."""
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        sandbox_dir=tmp_path / "sandbox",
        log_format="text",
        vendor_name="ООО «Облачные решения»",
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    MADE.append(made)
    with made.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=made.clock)
    return made


def key(context: Context, role: str = "vendor_admin", account: int | None = None) -> dict[str, str]:
    with context.session() as db:
        _, token = create_api_key(
            db, role=role, account_id=account, actor="test", clock=context.clock
        )
    return {"Authorization": f"Bearer {token}"}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(out.split())


def open_and_order(client: TestClient, auth: dict[str, str], name: str, n: int) -> tuple[int, int]:
    opened = client.post(
        "/api/v1/accounts",
        json={"name": name, "admin_email": f"buh{n}@example.ru", "inn": "7707083893"},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    account = opened.json()["id"]
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers={**auth, "Idempotency-Key": f"order-{n}"},
    )
    assert ordered.status_code == 201, ordered.text
    return account, ordered.json()["invoice"]["id"]


def test_invoices_acts_and_credit_notes_download_as_pdf(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    other, other_invoice = open_and_order(client, vendor, "ООО «Василёк»", 2)

    got = client.get(f"/api/v1/invoices/{invoice}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="invoice-2026-000001.pdf"'
    text = pdf_text(got.content, tmp_path)
    assert "Счёт на оплату № 2026-000001 от 22.11.2026" in text
    assert "ООО «Облачные решения», ИНН 7707083893" in text  # the seller from the settings
    assert "Сорок три тысячи девяносто два рубля 00 копеек" in text
    again = client.get(f"/api/v1/invoices/{invoice}/pdf", headers=vendor)
    assert again.content == got.content  # stored once, served as stored

    not_paid = client.get(f"/api/v1/invoices/{invoice}/act.pdf", headers=vendor)
    assert not_paid.status_code == 404
    assert not_paid.json()["error"]["code"] == "document_not_found"
    paid = client.post(
        f"/api/v1/invoices/{invoice}/payments",
        json={"amount": "43092.00", "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    # An order the month-end run certifies month by month never gets a whole-term act.
    monthly = client.get(f"/api/v1/invoices/{invoice}/act.pdf", headers=vendor)
    assert monthly.status_code == 404
    assert "услуги закрываются ежемесячными УПД/актами" in monthly.json()["error"]["message"]
    with context.session() as db:
        as_paid_before_0012(db)  # the act is kept for the invoices paid before revision 0012
    # No act for services not rendered yet: it comes on the term's last day.
    early = client.get(f"/api/v1/invoices/{invoice}/act.pdf", headers=vendor)
    assert early.status_code == 404
    assert early.json()["error"]["code"] == "document_not_found"
    assert "21.11.2027" in early.json()["error"]["message"]
    clock = context.clock
    assert isinstance(clock, FixedClock)
    clock.instant = NOON_IN_MOSCOW.replace(year=2027, day=21)
    act = client.get(f"/api/v1/invoices/{invoice}/act.pdf", headers=vendor)
    assert act.status_code == 200, act.text
    assert act.headers["content-disposition"] == 'attachment; filename="ACT-2027-000001.pdf"'
    act_text = pdf_text(act.content, tmp_path)
    assert "Акт об оказании услуг № ACT-2027-000001 от 21.11.2027" in act_text
    assert "Период оказания услуг: 22.11.2026 – 21.11.2027" in act_text

    # An account's key sees its own documents; another account's do not exist for it.
    own = key(context, "account_admin", account)
    assert client.get(f"/api/v1/invoices/{invoice}/pdf", headers=own).content == got.content
    hidden = client.get(f"/api/v1/invoices/{other_invoice}/pdf", headers=own)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/invoices/{other_invoice}/act.pdf", headers=own).status_code == 404
    assert client.get(f"/api/v1/invoices/{invoice}/pdf").status_code == 401
    assert client.get("/api/v1/invoices/999/pdf", headers=vendor).status_code == 404

    note = client.post(
        f"/api/v1/invoices/{invoice}/credit-notes",
        json={"reason": "ошибка в счёте"},
        headers={**vendor, "Idempotency-Key": "note-1"},
    )
    assert note.status_code == 201, note.text
    credit = client.get(f"/api/v1/credit-notes/{note.json()['id']}/pdf", headers=own)
    assert credit.status_code == 200, credit.text
    assert credit.headers["content-disposition"] == 'attachment; filename="CN-2027-000001.pdf"'
    credit_text = pdf_text(credit.content, tmp_path)
    assert "Корректировочный документ № CN-2027-000001" in credit_text
    assert "Итого к уменьшению: −43 092,00" in credit_text
    other_key = key(context, "account_admin", other)
    foreign = client.get(f"/api/v1/credit-notes/{note.json()['id']}/pdf", headers=other_key)
    assert foreign.status_code == 404
    assert client.get("/api/v1/credit-notes/999/pdf", headers=vendor).status_code == 404


def attachments(message: MimeMessage) -> list[tuple[str | None, str, bytes]]:
    found = []
    for part in message.iter_attachments():
        content = part.get_content()
        assert isinstance(content, bytes)
        found.append((part.get_filename(), part.get_content_type(), content))
    return found


def test_the_e_mail_of_an_issued_invoice_carries_its_pdf(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    _, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    client.post(
        f"/api/v1/invoices/{invoice}/payments",
        json={"amount": "43092.00", "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-1"},
    )

    deliver_outbox(context)  # the worker has rendered nothing yet: made for the e-mail

    mail = {
        str(message["X-Podpiska-Event"]): message
        for message in map(read_message, sorted((tmp_path / "mail").glob("*.eml")))
    }
    [(name, kind, pdf)] = attachments(mail["invoice.issued"])
    assert (name, kind) == ("invoice-2026-000001.pdf", "application/pdf")
    assert "Счёт на оплату № 2026-000001 от 22.11.2026" in pdf_text(pdf, tmp_path)
    assert mail["invoice.issued"].get_body(("plain",)) is not None  # the text is still there
    # No act yet: the services of the paid year are not rendered (it comes on its last day).
    assert attachments(mail["invoice.paid"]) == []
    assert attachments(mail["subscription.ordered"]) == []
    with context.session() as db, db.begin():
        stored = {d.number: d.pdf for d in db.scalars(select(Document))}
    assert stored == {"2026-000001": pdf}


def test_the_worker_renders_new_documents(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    open_and_order(client, vendor, "ООО «Ромашка»", 1)
    open_and_order(client, vendor, "ООО «Василёк»", 2)

    tick = InProcessWorker(context).tick()

    assert tick.documents == 2
    assert tick.delivered == 4  # two e-mails each, the invoices' with their PDF
    assert InProcessWorker(context).tick().documents == 0


@pytest.mark.postgres_only
def test_the_documents_task_renders_them_on_postgresql(context: Context) -> None:
    client = TestClient(create_app(context))
    open_and_order(client, key(context), "ООО «Ромашка»", 1)
    app = queue.use_context(context)
    connector = procrastinate.PsycopgConnector(
        conninfo=queue.conninfo(context.settings.database_url)
    )
    with app.replace_connector(connector):
        with app.open():
            # What the periodic deferrer queues every minute (the tick's timestamp).
            app.configure_task("podpiska:render_documents", queue=queue.DOCUMENTS_QUEUE).defer(
                timestamp=0
            )
        queue.run_worker(context, one_shot=True, queues=[queue.DOCUMENTS_QUEUE])

    with context.session() as db, db.begin():
        rendered = [(d.number, d.sha256 is not None) for d in db.scalars(select(Document))]
    assert rendered == [("2026-000001", True)]


def cli(context: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(context, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_document_get_writes_the_pdf(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    _, invoice = open_and_order(client, key(context), "ООО «Ромашка»", 1)

    target = tmp_path / "out.pdf"
    code, out, err = cli(
        context, capsys, "document", "get", "invoice", "2026-000001", "-o", str(target)
    )
    assert code == 0, err
    assert out.startswith(f"2026-000001: {target} (")
    assert "Счёт на оплату № 2026-000001" in pdf_text(target.read_bytes(), tmp_path)
    code, out, err = cli(
        context, capsys, "document", "get", "invoice", str(invoice), "-o", str(tmp_path)
    )
    assert code == 0, err
    assert (tmp_path / "invoice-2026-000001.pdf").read_bytes() == target.read_bytes()

    for argv, says in (
        (("act", "2026-000001"), "не выписан"),
        (("receipt", "1"), "KIND must be one of invoice, act, credit-note"),
        (("invoice", "999"), "Не найдено: счёт № 999."),
        (("credit-note", "CN-2026-000009"), "Не найдено"),
    ):
        code, out, err = cli(context, capsys, "document", "get", *argv, "-o", str(target))
        assert code == 2, (argv, out, err)
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert err.startswith("podpiska: ") and says in err, err


# -- the requisites the documents print (issue 16, item 10) ----------------------------------

FULL_VENDOR: dict[str, object] = {
    "vendor_name": "ООО «Облачные решения»",
    "vendor_ogrn": "1027700132195",
    "vendor_postal_address": "123100, г. Москва, а/я 5",
    "vendor_director_position": "Генеральный директор",
    "vendor_accountant_position": "Главный бухгалтер",
    "vendor_proxy_signer": "Сидоров С. С.",
    "vendor_proxy_position": "Коммерческий директор",
    "vendor_proxy_number": "12/2026",
    "vendor_proxy_date": "2026-01-15",
}
BUYER_ADDRESS = "141400, Московская обл., г. Химки, ул. Ленина, д. 1"
CONTRACT = "2770708389326000000000000"
USN_NOTE = "НДС не облагается в связи с применением упрощённой системы налогообложения"


def context_of(
    db_url: str,
    tmp_path: Path,
    *,
    catalog: Path = CRM_SHOP,
    vendor: dict[str, object] | None = None,
) -> Context:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=catalog,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        sandbox_dir=tmp_path / "sandbox",
        log_format="text",
        **(vendor or {}),  # type: ignore[arg-type]
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    MADE.append(made)
    with made.session() as db:
        load_catalog_document(db, path=catalog, actor="test", clock=made.clock)
    return made


def order_with(
    client: TestClient, auth: dict[str, str], account_fields: dict[str, str], plan: str
) -> dict[str, object]:
    """An account with these requisites orders 12 months; the invoice as the API gives it,
    checked: its lines sum to its total."""
    opened = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Ромашка»", "admin_email": "buh@example.ru", **account_fields},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    ordered = client.post(
        f"/api/v1/accounts/{opened.json()['id']}/subscriptions",
        json={"plan": plan, "months": 12},
        headers={**auth, "Idempotency-Key": f"order-{plan}"},
    )
    assert ordered.status_code == 201, ordered.text
    invoice: dict[str, object] = ordered.json()["invoice"]
    lines = invoice["lines"]
    assert isinstance(lines, list)
    assert sum(Decimal(line["amount"]) for line in lines) == Decimal(str(invoice["total"]))
    return invoice


def test_the_invoice_act_and_credit_note_print_both_sides_requisites(
    db_url: str, tmp_path: Path
) -> None:
    context = context_of(db_url, tmp_path, vendor=FULL_VENDOR)
    client = TestClient(create_app(context))
    vendor = key(context)
    invoice = order_with(
        client,
        vendor,
        {
            "inn": "7707083893",
            "kpp": "773601001",
            "ogrn": "1027700132195",
            "legal_address": BUYER_ADDRESS,
            "state_contract_id": CONTRACT,
        },
        "standard",
    )
    got = client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    with context.session() as db:
        as_paid_before_0012(db)  # the per-invoice act: an invoice paid before revision 0012
    clock = context.clock
    assert isinstance(clock, FixedClock)
    clock.instant = NOON_IN_MOSCOW.replace(year=2027, day=21)
    act = client.get(f"/api/v1/invoices/{invoice['id']}/act.pdf", headers=vendor)
    assert act.status_code == 200, act.text
    note = client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "ошибка в счёте"},
        headers={**vendor, "Idempotency-Key": "note-1"},
    )
    assert note.status_code == 201, note.text
    credit = client.get(f"/api/v1/credit-notes/{note.json()['id']}/pdf", headers=vendor)
    assert credit.status_code == 200, credit.text

    for name, pdf in (("invoice", got), ("act", act), ("credit note", credit)):
        text = pdf_text(pdf.content, tmp_path)
        assert (
            "ООО «Облачные решения», ИНН 7707083893, КПП 773601001, ОГРН 1027700132195, "
            "117312, г. Москва, ул. Вавилова, д. 19, почтовый адрес: 123100, г. Москва, а/я 5"
            in text
        ), name
        assert (
            f"ООО «Ромашка», ИНН 7707083893, КПП 773601001, ОГРН 1027700132195, {BUYER_ADDRESS}"
            in text
        ), name
        assert f"Идентификатор государственного контракта: {CONTRACT}" in text, name
        assert "Коммерческий директор / Сидоров С. С." in text, name
        assert "по доверенности № 12/2026 от 15.01.2026" in text, name
        assert "В том числе НДС 22 %" in text, name  # osno: the VAT as before
        assert USN_NOTE not in text, name
    assert "Главный бухгалтер / Петрова А. С." in pdf_text(got.content, tmp_path)


def test_a_simplified_system_vendor_prints_no_vat_where_the_invoice_has_none(
    db_url: str, tmp_path: Path
) -> None:
    context = context_of(
        db_url, tmp_path, catalog=SITE_PLATFORM, vendor={"vendor_tax_system": "usn"}
    )
    client = TestClient(create_app(context))
    vendor = key(context)
    invoice = order_with(client, vendor, {"inn": "7707083893"}, "start")
    got = client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    text = pdf_text(got.content, tmp_path)
    assert "Без НДС —" in text
    assert USN_NOTE in text
    assert "НДС не облагается" in text  # the payment purpose
    assert "В том числе НДС" not in text
    assert "Руководитель" not in text
    assert "Генеральный директор / Иванов И. И." in text  # the default positions
    assert "ОГРН" not in text  # the vendor's is unset by default; the buyer gave none
    assert "почтовый адрес" not in text  # the same as the legal one


def test_an_invoice_issued_with_vat_before_the_switch_to_usn_prints_it_as_it_is(
    db_url: str, tmp_path: Path
) -> None:
    """An invoice issued on osno with VAT 22 % keeps it when the vendor moves to usn: its
    first document, made after the switch, prints the VAT as issued, without the note (a
    document never hides money; docs/documents.md). A new order is priced exempt."""
    before = context_of(db_url, tmp_path)
    vendor = key(before)
    invoice = order_with(TestClient(create_app(before)), vendor, {"inn": "7707083893"}, "standard")
    context = context_of(db_url, tmp_path, vendor={"vendor_tax_system": "usn"})
    client = TestClient(create_app(context))
    vendor = key(context)
    got = client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=vendor)
    text = pdf_text(got.content, tmp_path)
    assert "В том числе НДС 22 %: 7 770,69" in text
    assert USN_NOTE not in text
    assert "Без НДС" not in text
    assert invoice["vat"] == {"mode": "included", "rate": "22", "amount": "7770.69"}
    new = order_with(client, vendor, {"inn": "7707083893"}, "standard")
    assert new["vat"] == {"mode": "exempt", "rate": "0", "amount": "0.00"}
    assert new["total"] == invoice["total"]


def test_a_document_made_before_keeps_what_it_printed(db_url: str, tmp_path: Path) -> None:
    """Stored once: a document made with the old settings (no ОГРН, no proxy, the buyer
    without requisites) is served byte for byte after the settings and the account change;
    a new document prints the new requisites."""
    before = context_of(db_url, tmp_path)
    client = TestClient(create_app(before))
    vendor = key(before)
    invoice = order_with(client, vendor, {"inn": "7707083893"}, "standard")
    old = client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=vendor)
    assert old.status_code == 200, old.text
    old_text = pdf_text(old.content, tmp_path)
    assert "ОГРН" not in old_text

    after = context_of(db_url, tmp_path, vendor=FULL_VENDOR)
    client = TestClient(create_app(after))
    vendor = key(after)
    changed = client.patch(
        f"/api/v1/accounts/{invoice['account_id']}",
        json={"legal_address": BUYER_ADDRESS, "state_contract_id": CONTRACT},
        headers=vendor,
    )
    assert changed.status_code == 200, changed.text
    again = client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=vendor)
    assert again.content == old.content
    assert again.headers["etag"] == old.headers["etag"]
    assert pdf_text(again.content, tmp_path) == old_text
    with after.session() as db, db.begin():
        stored = db.scalars(
            select(Document).where(Document.kind == "invoice", Document.source_id == invoice["id"])
        ).one()
        assert stored.pdf == old.content

    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-after"},
    )
    assert paid.status_code == 201, paid.text
    note = client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "ошибка в счёте"},
        headers={**vendor, "Idempotency-Key": "note-after"},
    )
    assert note.status_code == 201, note.text
    new = client.get(f"/api/v1/credit-notes/{note.json()['id']}/pdf", headers=vendor)
    new_text = pdf_text(new.content, tmp_path)
    assert "ОГРН 1027700132195" in new_text
    assert f"Идентификатор государственного контракта: {CONTRACT}" in new_text
    assert "по доверенности № 12/2026 от 15.01.2026" in new_text
