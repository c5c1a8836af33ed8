"""`podpiska document`: the PDFs of invoices, acts, credit notes, УПД and advance
счета-фактуры."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podpiska.core.domain.scope import Scope
from podpiska.entrypoints.cli.common import BadInput, context_of

document_app = typer.Typer(
    help="PDF documents: invoices, acts, credit notes, УПД.", no_args_is_help=True
)

# What the command line calls each kind.
KIND_NAMES = {
    "invoice": "invoice",
    "act": "act",
    "credit-note": "credit_note",
    "upd": "upd",
    "advance": "advance",
    "correction": "correction",
    "invoice-factura": "invoice_factura",  # an act-form closing's счёт-фактура
}


@document_app.command("get")
def document_get(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(
            help="invoice, act, credit-note, upd, advance, correction or invoice-factura."
        ),
    ],
    reference: Annotated[
        str,
        typer.Argument(
            metavar="NUMBER_OR_ID",
            help="The document's number (2026-000001, ACT-2026-000001, CN-2026-000001, "
            "UPD-2026-000001, AV-2026-000001) or its source's id (the invoice's for invoice and "
            "act, the note's for credit-note, the closing's for upd and invoice-factura, the "
            "advance's for advance).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where to write the PDF (default: its file name)."),
    ] = None,
) -> None:
    """Write a document's PDF to a file (made now if the worker has not made it yet)."""
    from podpiska.entrypoints.documents import RendererMissing, fetch_pdf
    from podpiska.invoicing.document_lookup import resolve_source
    from podpiska.invoicing.documents import document_filename

    chosen = KIND_NAMES.get(kind.strip().lower().replace("_", "-"))
    if chosen is None:
        raise BadInput(f"KIND must be one of {', '.join(KIND_NAMES)}, got {kind!r}")
    context = context_of(ctx)
    with context.session() as db:
        source_id = resolve_source(db, kind=chosen, reference=reference)
        try:
            document, pdf = fetch_pdf(
                context, db, kind=chosen, source_id=source_id, scope=Scope.vendor()
            )
        except RendererMissing as exc:
            raise BadInput(str(exc)) from None
    target = output or Path(document_filename(document))
    if target.is_dir():
        target = target / document_filename(document)
    try:
        target.write_bytes(pdf)
    except OSError as exc:
        raise BadInput(f"{target}: {exc.strerror or exc}") from None
    typer.echo(f"{document.number}: {target} ({len(pdf)} bytes, sha256 {document.sha256})")


@document_app.command("reissue")
def document_reissue(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="upd or advance.")],
    reference: Annotated[
        str,
        typer.Argument(
            metavar="NUMBER_OR_ID",
            help="The document's number (UPD-2026-000001, AV-2026-000001) or its id.",
        ),
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (one line, at most 500 characters).")
    ],
) -> None:
    """Reissue a УПД or an advance счёт-фактура whose requisite was wrong (fixed since in
    the account or the settings): «Исправление № N» of the same document, its PDF made now."""
    from podpiska.entrypoints.cli.common import CLI_ACTOR
    from podpiska.entrypoints.documents import reissue_document
    from podpiska.invoicing.document_lookup import resolve_source
    from podpiska.invoicing.documents import ADVANCE, UPD

    chosen = {"upd": UPD, "advance": ADVANCE}.get(kind.strip().lower())
    if chosen is None:
        raise BadInput(f"KIND must be upd or advance, got {kind!r}")
    context = context_of(ctx)
    with context.session() as db:
        source_id = resolve_source(db, kind=chosen, reference=reference)
        fix, document, pdf = reissue_document(
            context, db, kind=chosen, source_id=source_id, reason=reason, actor=CLI_ACTOR
        )
        made = (
            f"{document.number}.pdf ({len(pdf)} bytes)"
            if document is not None and pdf is not None
            else "PDF: made by the worker"
        )
    typer.echo(
        f"Исправление № {fix.fix_no} от {fix.issued_on:%d.%m.%Y} of {chosen} {reference}: {made}"
    )


def reconciliation(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(metavar="ACCOUNT", help="The account's id.")],
    first: Annotated[str, typer.Option("--from", help="The period's first day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="The period's last day, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the file.")],
    format: Annotated[str, typer.Option("--format", help="pdf or xlsx.")] = "pdf",
) -> None:
    """Write an account's акт сверки взаимных расчётов for a period (PDF or XLSX)."""
    from podpiska.entrypoints.cli.common import parse_date
    from podpiska.entrypoints.documents import (
        RECONCILIATION_FORMATS,
        RendererMissing,
        fetch_reconciliation,
    )

    chosen = format.strip().lower()
    if chosen not in RECONCILIATION_FORMATS:
        raise BadInput(f"--format must be pdf or xlsx, got {format!r}")
    if account < 1:
        raise BadInput(f"ACCOUNT must be a positive id, got {account}")
    first_day, last_day = parse_date(first, "--from"), parse_date(last, "--to")
    assert first_day is not None and last_day is not None
    context = context_of(ctx)
    with context.session() as db:
        try:
            _, body, _ = fetch_reconciliation(
                context,
                db,
                account_id=account,
                first_day=first_day,
                last_day=last_day,
                format=chosen,
                scope=Scope.vendor(),
            )
        except RendererMissing as exc:
            raise BadInput(str(exc)) from None
    try:
        out.write_bytes(body)
    except OSError as exc:
        raise BadInput(f"{out}: {exc.strerror or exc}") from None
    typer.echo(f"{out} ({len(body)} bytes)")
