"""One writer of invoice rows and one of payment rows (DESIGN, "The house"): a new row of
`invoices`, `invoice_lines` or `payments` is made in one module each. Read from the source:
a constructor call, or a bulk or Core insert naming the table, anywhere else fails."""

from __future__ import annotations

import ast
from pathlib import Path

import podpiska

SRC = Path(podpiska.__file__).parent

WRITERS = {
    "Invoice": "invoicing/invoices.py",
    "InvoiceLine": "invoicing/invoices.py",
    "Payment": "subscriptions/settlement.py",
}
# calls that write the rows of the table named among their arguments
INSERTS = {"insert", "bulk_insert", "encode_rows", "bulk_insert_mappings", "add_all"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _writes(tree: ast.AST) -> list[tuple[str, int]]:
    """(model, line) of every place that makes rows of one of `WRITERS`' tables (the
    models as imported from invoicing's tables: another `Payment` is not one)."""
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "podpiska.invoicing.models"
        for alias in node.names
    }
    models = {name: name for name in WRITERS if name in imported}
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in models:
                found.append((called, node.lineno))
            elif called in INSERTS:
                found += [
                    (name, node.lineno)
                    for arg in node.args
                    if isinstance(arg, ast.Name) and (name := arg.id) in models
                ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "__table__"
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            found.append((node.value.id, node.lineno))
    return found


def test_invoice_and_payment_rows_have_one_writer_each() -> None:
    strays = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("migrations/"):
            continue
        for model, line in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            if WRITERS[model] != relative:
                strays.append(f"{relative}:{line} writes {model} rows")
    assert strays == []


def test_the_check_sees_a_writer() -> None:
    # the check itself: each way of writing a row is found, a namesake is not
    assert _writes(ast.parse("Payment(day=1)\n")) == []
    sample = ast.parse(
        "from podpiska.invoicing.models import Invoice, InvoiceLine, Payment\n"
        "Payment(amount=1)\n"
        "session.execute(insert(Invoice), rows)\n"
        "bulk_insert(session, InvoiceLine, lines)\n"
        "session.execute(Payment.__table__.insert(), rows)\n"
    )
    assert sorted(model for model, _ in _writes(sample)) == [
        "Invoice",
        "InvoiceLine",
        "Payment",
        "Payment",
    ]
