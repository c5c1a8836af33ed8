"""The акт сверки as an XLSX workbook (openpyxl): the same lines, turnovers and balances as
the PDF, amounts as numbers (format `#,##0.00`), dates as dates, the buyer's columns blank
for the buyer to fill in. The labels are the PDF's (`pdf.RECONCILIATION_LABELS`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

from podpiska.adapters.pdf_forms import RECONCILIATION_LABELS
from podpiska.adapters.pdf_text import LANGUAGES, format_date
from podpiska.ports import ReconciliationData

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "DD.MM.YYYY"
HEADER_ROWS = 6  # the title, the period, a blank row, the sides, the columns' names, opening


class OpenpyxlReconciliationSheet:
    """`ReconciliationSheet`: a `ReconciliationData` as XLSX bytes."""

    def write(self, data: ReconciliationData) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        lang = data.language if data.language in LANGUAGES else "ru"
        labels = RECONCILIATION_LABELS[lang]
        unit = labels["currency_unit"] if data.currency == "RUB" else data.currency
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = labels["title"][:31]
        bold = Font(bold=True)

        def day(value: date) -> str:
            return format_date(value, lang)

        sheet.append([labels["title"]])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(
            [
                labels["intro"].format(
                    first=day(data.first_day),
                    last=day(data.last_day),
                    seller=data.seller.name,
                    buyer=data.buyer.name,
                )
            ]
        )
        sheet.append([])
        sheet.append(
            [
                f"{labels['by_data_of']} {data.seller.name}, {unit}",
                None,
                None,
                None,
                f"{labels['by_data_of']} {data.buyer.name}, {unit}",
            ]
        )
        columns = [labels["date"], labels["document"], labels["debit"], labels["credit"]]
        sheet.append(columns + columns)
        for cell in (*sheet[4], *sheet[5]):
            cell.font = bold

        def balance_row(label: str, value: Decimal) -> None:
            debit = value if value >= 0 else None
            credit = -value if value < 0 else None
            sheet.append([None, label, debit, credit])
            for cell in sheet[sheet.max_row]:
                cell.font = bold

        balance_row(labels["opening"].format(day=day(data.first_day)), data.opening)
        for line in data.lines:
            sheet.append(
                [
                    line.day,
                    line.description,
                    line.debit if line.debit else None,
                    line.credit if line.credit else None,
                ]
            )
            sheet.cell(sheet.max_row, 1).number_format = DATE_FORMAT
        sheet.append([None, labels["turnover"], data.debit_turnover, data.credit_turnover])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        balance_row(labels["closing"].format(day=day(data.last_day)), data.closing)
        for row in sheet.iter_rows(min_row=HEADER_ROWS, min_col=3, max_col=4):
            for cell in row:
                cell.number_format = MONEY_FORMAT
        sheet.append([])
        sheet.append([f"{labels['by_data_of']} {data.seller.name}:"])
        sheet.append([data.conclusion])
        sheet.cell(sheet.max_row, 1).font = bold
        sheet.column_dimensions["A"].width = 12
        sheet.column_dimensions["B"].width = 60
        sheet.column_dimensions["C"].width = 14
        sheet.column_dimensions["D"].width = 14
        sheet.column_dimensions["E"].width = 12
        sheet.column_dimensions["F"].width = 40
        sheet.column_dimensions["G"].width = 14
        sheet.column_dimensions["H"].width = 14
        sheet["B1"].alignment = Alignment(wrap_text=False)
        out = BytesIO()
        book.save(out)
        return out.getvalue()
