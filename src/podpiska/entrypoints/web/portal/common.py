"""What the portal's billing pages share: a domain error's message in the page's language,
and an invoice of the account (another's answers 404)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from podpiska.core.domain.errors import DomainError
from podpiska.core.records import not_found
from podpiska.entrypoints.web.deps import DbDep
from podpiska.entrypoints.web.i18n import current_language
from podpiska.subscriptions import billing


def error_message(request: Request, error: DomainError) -> str:
    return error.message(current_language())


def own_invoice(db: DbDep, account_id: int, invoice_id: int) -> Any:
    """The invoice with its lines, if it is this account's (else 404, as if it did not
    exist)."""
    invoice, lines = billing.get_invoice(db, invoice_id)
    if invoice.account_id != account_id:
        raise not_found("invoice", invoice_id)
    return invoice, lines
