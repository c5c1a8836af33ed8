"""PDF documents with WeasyPrint: the invoice (Счёт на оплату), the act (Акт об оказании
услуг), the credit note (Корректировочный документ) and the universal transfer document
(УПД, status 1 or 2, the ФНС's recommended form), in Russian or English.

The renderer only lays out a `podpiska.ports.DocumentData`: every number, date and line
comes from the services; the renderer adds the labels, the money formatting of
`podpiska.core.domain.money` and the total in words (num2words). Templates are Jinja2 files in
`templates/` with the CSS inlined, the font is "DejaVu Sans" (Debian's fonts-dejavu-core:
Cyrillic, №, ё, «», ₽), and WeasyPrint fetches nothing: its URL fetcher accepts only
`data:` URLs, so a document never reaches the network or the file system.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from podpiska.adapters.pdf_forms import (
    advance_context,
    correction_context,
    invoice_factura_context,
    reconciliation_context,
    upd_context,
)
from podpiska.adapters.pdf_text import (
    LABELS,
    LANGUAGES,
    _party_line,
    _signers,
    _vat_label,
    amount_in_words,
    format_date,
    format_quantity,
)
from podpiska.core.domain.money import CURRENCY_SIGNS, format_amount
from podpiska.ports import (
    AdvanceInvoiceData,
    CorrectionData,
    DocumentData,
    ReconciliationData,
    UpdData,
)

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_OF = {"invoice": "invoice.html", "act": "act.html", "credit_note": "credit_note.html"}
UPD_TEMPLATE = "upd.html"
ADVANCE_TEMPLATE = "advance.html"
INVOICE_FACTURA_TEMPLATE = "schet_faktura.html"
RECONCILIATION_TEMPLATE = "reconciliation.html"
CORRECTION_TEMPLATE = "correction.html"


@cache
def _fetcher_class() -> Any:
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """Refuses every URL but `data:`: rendering never touches the network or the file
        system (the CSS is inlined, the font is a system one)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith("data:"):
                raise ValueError(f"documents fetch nothing: refused {url[:100]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher


def local_only_fetcher() -> Any:
    """WeasyPrint's URL fetcher for documents: `data:` URLs only, nothing remote or local."""
    return _fetcher_class()(allowed_protocols=("data",), timeout=1)


class WeasyPrintRenderer:
    """`DocumentRenderer`: a `DocumentData` as PDF bytes."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self.templates = templates
        # One document at a time: Pango and fontconfig are not safe to share between
        # threads (the in-process worker and the API's threads render side by side).
        self._lock = threading.Lock()

    @cached_property
    def environment(self) -> Environment:
        return Environment(
            loader=FileSystemLoader(self.templates),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def html(self, document: DocumentData) -> str:
        """The HTML the PDF is made from (for tests and for a look in a browser)."""
        if document.kind not in TEMPLATE_OF:
            raise ValueError(f"unknown document kind {document.kind!r}")
        template = self.environment.get_template(TEMPLATE_OF[document.kind])
        return template.render(**self.context(document))

    def render(self, document: DocumentData) -> bytes:
        return self._pdf(self.html(document))

    def upd_html(self, data: UpdData) -> str:
        """The HTML of a УПД's PDF (for tests and for a look in a browser)."""
        if data.status not in (1, 2):
            raise ValueError(f"a УПД has status 1 or 2, not {data.status!r}")
        template = self.environment.get_template(UPD_TEMPLATE)
        return template.render(**upd_context(data))

    def render_upd(self, data: UpdData) -> bytes:
        """A УПД (status 1: счёт-фактура and act; status 2: the act alone) as a PDF."""
        return self._pdf(self.upd_html(data))

    def advance_html(self, data: AdvanceInvoiceData) -> str:
        """The HTML of an advance счёт-фактура's PDF (for tests and a look in a browser)."""
        template = self.environment.get_template(ADVANCE_TEMPLATE)
        return template.render(**advance_context(data))

    def render_advance(self, data: AdvanceInvoiceData) -> bytes:
        """An advance счёт-фактура (issued on a prepayment) as a PDF."""
        return self._pdf(self.advance_html(data))

    def invoice_factura_html(self, data: UpdData) -> str:
        """The HTML of the счёт-фактура of an act-form closing (for tests and for a look in a
        browser)."""
        template = self.environment.get_template(INVOICE_FACTURA_TEMPLATE)
        return template.render(**invoice_factura_context(data))

    def render_invoice_factura(self, data: UpdData) -> bytes:
        """The счёт-фактура of a closing printed as an act, from the closing's `UpdData`:
        the УПД's form without its status box and transfer part, as a PDF."""
        return self._pdf(self.invoice_factura_html(data))

    def correction_html(self, data: CorrectionData) -> str:
        """The HTML of a УКД's PDF (for tests and for a look in a browser)."""
        if data.status not in (1, 2):
            raise ValueError(f"a УКД has status 1 or 2, not {data.status!r}")
        template = self.environment.get_template(CORRECTION_TEMPLATE)
        return template.render(**correction_context(data))

    def render_correction(self, data: CorrectionData) -> bytes:
        """A УКД (status 1: корректировочный счёт-фактура and the document of the change in
        cost; status 2: the latter alone) as a PDF."""
        return self._pdf(self.correction_html(data))

    def reconciliation_html(self, data: ReconciliationData) -> str:
        """The HTML of an акт сверки's PDF (for tests and for a look in a browser)."""
        template = self.environment.get_template(RECONCILIATION_TEMPLATE)
        return template.render(**reconciliation_context(data))

    def render_reconciliation(self, data: ReconciliationData) -> bytes:
        """An акт сверки взаимных расчётов as a PDF."""
        return self._pdf(self.reconciliation_html(data))

    def _pdf(self, source: str) -> bytes:
        from weasyprint import HTML

        with self._lock:
            pdf = HTML(string=source, base_url=None, url_fetcher=local_only_fetcher()).write_pdf()
        assert isinstance(pdf, bytes)
        return pdf

    def context(self, document: DocumentData) -> dict[str, Any]:
        lang = document.language if document.language in LANGUAGES else "ru"
        labels = LABELS[lang]

        def money(value: Decimal) -> str:
            return format_amount(value, lang)

        unit = labels["currency_unit"] if document.currency == "RUB" else document.currency
        title = (
            f"{labels[document.kind + '_title']} {labels['no']} {document.number} "
            f"{labels['of']} {format_date(document.issued_on, lang)}"
        )
        return {
            "doc": document,
            "lang": lang,
            "l": labels,
            "title": title,
            "footer": "".join(c for c in title if c not in '"\\<>&'),  # inside CSS
            "money": money,
            "day": lambda value: format_date(value, lang),
            "qty": lambda value: format_quantity(value, lang),
            "party": lambda party: _party_line(party, labels),
            "signers": _signers(document.seller, labels, lang),
            "sign": CURRENCY_SIGNS.get(document.currency, document.currency),
            "vat_label": _vat_label(document, labels, lang),
            "items_line": labels[
                "items" if document.kind == "invoice" else f"items_{document.kind}"
            ].format(count=len(document.lines), amount=money(abs(document.total)), unit=unit)
            + ("" if unit.endswith(".") else "."),
            "words": amount_in_words(document.total, document.currency, lang),
        }
