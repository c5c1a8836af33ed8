"""`podpiska sales-ledger` and `podpiska export-1c`: the accountant's books of a period
(docs/documents.md, "The sales ledger and the export to 1C")."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from podpiska.entrypoints.cli.common import BadInput, context_of, parse_date

if TYPE_CHECKING:
    from podpiska.invoicing.domain.sales_ledger import Ledger

FromOption = Annotated[
    str, typer.Option("--from", help="The period's first day, YYYY-MM-DD.", show_default=False)
]
ToOption = Annotated[
    str, typer.Option("--to", help="The period's last day, YYYY-MM-DD.", show_default=False)
]

SALES_HEADER = (
    "книга",
    "код вида операции",
    "номер",
    "дата",
    "покупатель",
    "ИНН",
    "КПП",
    "документ об оплате",
    "дата оплаты",
    "дата принятия на учёт",
    "стоимость с НДС",
    "стоимость без НДС 22%",
    "НДС 22%",
    "освобождено",
)

TOTAL_START = ("продаж", "", "Всего", "", "", "", "", "", "", "")


def period(start: str, end: str) -> tuple[date, date]:
    first = parse_date(start, "--from")
    last = parse_date(end, "--to")
    assert first is not None and last is not None
    if first > last:
        raise BadInput(f"--from ({first}) is after --to ({last})")
    return first, last


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def ledger_rows(ledger: Ledger) -> list[list[str]]:
    """The books as rows: the книга продаж, its total, the книга покупок (code 22), its
    total."""
    rows: list[list[str]] = [list(SALES_HEADER)]
    for s in ledger.sales:
        rows.append(
            [
                "продаж",
                s.code,
                s.number,
                _day(s.issued_on),
                s.buyer_name,
                s.buyer_inn or "",
                s.buyer_kpp or "",
                s.payment_number or "",
                _day(s.paid_on),
                "",
                _money(s.total),
                _money(s.base_22),
                _money(s.vat_22),
                _money(s.exempt),
            ]
        )
    t = ledger.sales_totals
    rows.append(
        [*TOTAL_START, _money(t.total), _money(t.base_22), _money(t.vat_22), _money(t.exempt)]
    )
    for p in ledger.purchases:
        rows.append(
            [
                "покупок",
                p.code,
                p.number,
                _day(p.issued_on),
                p.buyer_name,
                p.buyer_inn or "",
                p.buyer_kpp or "",
                p.payment_number or "",
                _day(p.paid_on),
                _day(p.recorded_on),
                _money(p.total),
                "",
                _money(p.vat),
                "",
            ]
        )
    pt = ledger.purchase_totals
    rows.append(["покупок", *TOTAL_START[1:], _money(pt.total), "", _money(pt.vat), ""])
    return rows


def sales_ledger(
    ctx: typer.Context,
    start: FromOption,
    end: ToOption,
    fmt: Annotated[str, typer.Option("--format", help="csv (the only one for now).")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """The книга продаж (codes 01, 02) and the книга покупок lines of code 22 for a period,
    with their totals, as CSV."""
    from podpiska.invoicing.accounting import sales_ledger as read_ledger

    first, last = period(start, end)
    if fmt != "csv":
        raise BadInput(f"--format must be csv, got {fmt!r} (xlsx needs openpyxl, not pinned)")
    context = context_of(ctx)
    with context.session() as db:
        ledger = read_ledger(db, start=first, end=last)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(ledger_rows(ledger))
    if out is None:
        typer.echo(buffer.getvalue(), nl=False)
        return
    try:
        out.write_text(buffer.getvalue(), encoding="utf-8-sig")  # Excel reads the BOM
    except OSError as exc:
        raise BadInput(f"{out}: {exc.strerror or exc}") from None
    typer.echo(f"{out}: {len(ledger.sales)} sales lines, {len(ledger.purchases)} purchase lines")


def export_1c(
    ctx: typer.Context,
    start: FromOption,
    end: ToOption,
    out: Annotated[Path, typer.Option("--out", help="The XML file to write.")],
) -> None:
    """The УПД, advance счета-фактуры and payments of a period as an EnterpriseData file for
    1C:Бухгалтерия 3.0 (Универсальный обмен данными в формате XML)."""
    from podpiska.entrypoints.documents import seller_party
    from podpiska.invoicing.accounting import accounting_export
    from podpiska.ports import Counterparty

    first, last = period(start, end)
    context = context_of(ctx)
    writer = context.ports.accounting_export
    if writer is None:
        raise BadInput("the export to 1C is not available: no writer is configured")
    seller = seller_party(context.settings)
    with context.session() as db:
        data = accounting_export(
            db,
            start=first,
            end=last,
            organization=Counterparty(seller.name, seller.inn, seller.kpp),
            created_at=context.clock.now(),
        )
    body = writer.write(data)
    try:
        out.write_bytes(body)
    except OSError as exc:
        raise BadInput(f"{out}: {exc.strerror or exc}") from None
    typer.echo(
        f"{out}: {len(data.sales)} УПД, {len(data.advances)} advance invoices, "
        f"{len(data.payments)} payments ({len(body)} bytes)"
    )


def edo_export(
    ctx: typer.Context,
    month: Annotated[
        str, typer.Option("--month", help="The calendar month, YYYY-MM.", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="The ZIP file to write.")],
    account: Annotated[
        int | None, typer.Option("--account", help="Only this account's documents.")
    ] = None,
) -> None:
    """The УПД, advance счета-фактуры and УКД issued in a month as one ZIP: each document's
    ФНС XML file and its PDF beside it, with a manifest.csv (a buyer without an EDO
    participant id: the PDF only, and the manifest says so)."""
    from podpiska.entrypoints.documents import RendererMissing, export_edo
    from podpiska.invoicing.edo_export import month_days

    month_days(month)  # a bad month: one line, exit 2, before any file is made
    context = context_of(ctx)
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("wb") as target, context.session() as db:
            lines = export_edo(context, db, month=month, account_id=account, out=target)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BadInput(f"{out}: {exc.strerror or exc}") from None
    except RendererMissing as exc:
        partial.unlink(missing_ok=True)
        raise BadInput(str(exc)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    with_xml = sum(1 for line in lines if line.xml)
    typer.echo(
        f"{out}: {len(lines)} documents, {with_xml} XML files, "
        f"{len(lines) - with_xml} without the buyer's EDO id (PDF only)"
    )
