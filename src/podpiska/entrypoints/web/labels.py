"""Words for the codes the services return (states, editions, invoice statuses, payment
methods): presentation only, translated when a page is rendered."""

from __future__ import annotations

from podpiska.entrypoints.web.i18n import N_, gettext
from podpiska.notifications.texts import LANGUAGES
from podpiska.notifications.texts.payments import FAILURE_WORDS

STATES = {
    "none": N_("No subscription"),
    "pending": N_("Awaiting payment"),
    "active": N_("Active"),
    "grace": N_("Grace period"),
    "suspended": N_("Suspended"),
    "cancelled": N_("Cancelled"),
}

# What each state means for the customer, in one sentence.
STATE_EXPLAINED = {
    "none": N_("The account has no subscription yet."),
    "pending": N_("The subscription starts when its first invoice is paid."),
    "active": N_("Everything in your tariff works."),
    "grace": N_(
        "The paid term is over. The account works in a restricted mode until the grace "
        "period ends: renew to lift the restrictions."
    ),
    "suspended": N_(
        "The grace period is over. Only invoices and payment remain available: renew to "
        "restore the account."
    ),
    "cancelled": N_("The subscription was cancelled. Order a new one to continue."),
}

# For a badge's colour (CSS class).
STATE_TONE = {
    "none": "muted",
    "pending": "warn",
    "active": "ok",
    "grace": "warn",
    "suspended": "bad",
    "cancelled": "muted",
}

EDITIONS = {"cloud": N_("Cloud"), "on_premise": N_("On-premise")}

INVOICE_STATUSES = {
    "draft": N_("Draft"),
    "issued": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "void": N_("Void"),
}

INVOICE_KINDS = {
    "order": N_("Order"),
    "renewal": N_("Renewal"),
    "change": N_("Change"),
    "extension": N_("Goodwill extension"),
}

DOCUMENT_KINDS = {
    "invoice": N_("Invoice"),
    "act": N_("Act"),
    "credit_note": N_("Credit note"),
    "upd": N_("UPD"),
    "advance": N_("Advance VAT invoice"),
    "correction": N_("UKD (corrective document)"),
    "invoice_factura": N_("VAT invoice"),
    "upd_fix": N_("UPD correction"),
    "advance_fix": N_("Advance VAT invoice correction"),
}

PAYMENT_METHODS = {
    "card": N_("Card"),
    "bank_transfer": N_("Bank transfer"),
    "e_wallet": N_("E-wallet"),
    "sbp": N_("SBP"),
    "manual": N_("Manual"),
    "credit": N_("Account credit"),  # money the account had (a credit note), used on an invoice
}

ROLES = {
    "vendor_admin": N_("Vendor administrator"),
    "vendor_operator": N_("Vendor operator"),
    "account_admin": N_("Account administrator"),
}


def decline_reason(code: str | None, lang: str) -> str:
    """Why a gateway declined, in the customer's words (the gateway's code never shown)."""
    words = FAILURE_WORDS.get(code or "")
    if words is None or lang not in LANGUAGES:
        return gettext("the payment was declined")
    return words.get(lang)


def label(table: dict[str, str], code: str | None) -> str:
    """The translated word for a code; the code itself when there is none."""
    if code is None:
        return "—"
    found = table.get(code)
    return gettext(found) if found is not None else code
