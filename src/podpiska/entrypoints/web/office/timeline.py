"""The account timeline's words: ONE table from an event type (or an audit row's action) to
a sentence over its payload, in the request's language (Babel: the English text is the
message id, `locale/ru/.../messages.po` has the Russian), money as the web formats it
(`3 990,00 ₽`), days as `22.11.2026`.

The data is `backoffice.timeline` (events, the payment's method and card, the audit rows
with their operator, the entitlement refusals of a day) and
`notifications.deliveries.of_events` (the e-mails and webhooks sent). A type without a
sentence is shown by its code; its raw JSON is always one click away.

A refusal reads «Отказано: создание сделок — льготный период, только чтение (3 раза,
14:02–14:40)»: the action's label (`entitlements.domain.action_label`), the reason's words
(by its code; else the decision's own sentence), how many times and when (Moscow time);
the last refusal's own sentence is under it (`refusal_message`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from podpiska.backoffice.timeline import REFUSED, Entry, PaidWith
from podpiska.core.domain.text import Text
from podpiska.entitlements.domain import action_label
from podpiska.entrypoints.web.formatting import VENDOR_TIMEZONE, money, short_date
from podpiska.entrypoints.web.i18n import N_, current_language, gettext, ngettext
from podpiska.entrypoints.web.labels import DOCUMENT_KINDS, INVOICE_KINDS, PAYMENT_METHODS, label

# event type or audit action -> its sentence over the payload (`%(name)s`: the payload's
# field, formatted by `_value`; `%(paid_by)s`: how an invoice was paid)
SENTENCES: dict[str, str] = {
    # invoices and payments
    "invoice.issued": N_("Invoice %(number)s issued (%(kind)s), %(total)s, due %(due_on)s"),
    "invoice.paid": N_("Invoice %(number)s paid %(paid_by)s, %(total)s"),
    "invoice.partially_paid": N_(
        "Invoice %(number)s partly paid %(paid_by)s: %(amount_paid)s of %(total)s"
    ),
    "invoice.voided": N_("Invoice %(number)s voided: %(reason)s"),
    "invoice.resent": N_("Invoice %(number)s sent again by e-mail to %(email)s"),
    "document.resent": N_("Document %(number)s (%(kind)s) sent again by e-mail to %(email)s"),
    "payment.registered": N_("Payment of %(amount)s registered for invoice %(invoice)s"),
    "payment.failed": N_("Payment of %(amount)s for invoice %(number)s failed: %(reason)s"),
    "payment_method.saved": N_("Payment method saved: %(title)s"),
    "payment_method.removed": N_("Payment method removed: %(title)s"),
    "refund.requested": N_("Refund of %(amount)s requested"),
    "refund.succeeded": N_("Refund of %(amount)s made"),
    "refund.failed": N_("Refund of %(amount)s failed: %(reason)s"),
    "credit_note.issued": N_("Credit note %(number)s to invoice %(invoice_number)s, %(total)s"),
    # documents
    "upd.issued": N_("УПД %(number)s issued for %(first_day)s – %(last_day)s, %(total)s"),
    "advance.issued": N_("Advance invoice-factura %(number)s issued, %(amount)s"),
    "correction.issued": N_("Correction %(number)s issued: less by %(decrease)s"),
    "upd.reissued": N_("УПД %(number)s reissued (fix %(fix_no)s): %(reason)s"),
    "advance.reissued": N_("Advance invoice-factura %(number)s reissued (fix %(fix_no)s)"),
    # the subscription's life
    "subscription.ordered": N_(
        "Subscription ordered: tariff %(plan)s for %(months)s months, invoice %(invoice_number)s"
    ),
    "subscription.activated": N_("Subscription activated, paid through %(paid_through)s"),
    "subscription.renewed": N_("Subscription renewed, paid through %(paid_through)s"),
    "subscription.restored": N_("Subscription restored, paid through %(paid_through)s"),
    "subscription.reminder": N_("Renewal reminder: paid through %(paid_through)s"),
    "subscription.grace_started": N_("Grace period started, until %(grace_until)s"),
    "subscription.suspended": N_("Subscription suspended"),
    "subscription.cancelled": N_("Subscription cancelled: %(reason)s"),
    "subscription.cancel_scheduled": N_("Cancellation at the end of the term scheduled"),
    "subscription.autopay_changed": N_("Autopay changed"),
    "subscription.changed": N_("Subscription changed: tariff %(plan)s, %(seats)s users"),
    "subscription.change_pending": N_("Change waiting for payment"),
    "subscription.change_scheduled": N_("Change scheduled"),
    "subscription.change_applied": N_("Change applied"),
    "subscription.version_moved": N_("Moved to another price list version"),
    "migration.notice": N_("Notice of a price list move sent"),
    # apps, users, licences
    "app.installed": N_("App %(app)s installed"),
    "app.removed": N_("App %(app)s removed"),
    "trial.started": N_("Trial started"),
    "license.issued": N_("License file issued"),
    "user.added": N_("User added (%(role)s)"),
    # audit rows without an event of their own
    "account.opened": N_("Account opened: %(name)s"),
    "account.requisites_changed": N_("Requisites changed"),
    "bank_payment.resolved": N_("Bank payment matched by hand"),
    "bank_payment.credited": N_("Bank payment put on the account's credit"),
    "payment_attempt.created": N_("Payment of %(amount)s started"),
}

# how an invoice was paid, after "paid" (ru: the instrumental case, «картой •• 4242»)
PAID_BY: dict[str, str] = {
    "card": N_("by card"),
    "bank_transfer": N_("by bank transfer"),
    "e_wallet": N_("by e-wallet"),
    "sbp": N_("through SBP"),
    "manual": N_("by hand"),
    "credit": N_("from the account's credit"),
}

# a refusal's reason (the decision's stable code) in a few words, after the action
REFUSAL_REASONS: dict[str, str] = {
    "not_paid": N_("no paid subscription"),
    "cancelled": N_("the subscription is cancelled"),
    "suspended": N_("the subscription is suspended"),
    "marketplace_required": N_("the Marketplace subscription is needed"),
    "feature_not_included": N_("not included in the tariff"),
    "grace_restricted": N_("grace period, read only"),
    "user_limit": N_("the tariff's user limit is reached"),
    "disk_full": N_("the disk is full"),
}

DELIVERY_STATUSES: dict[str, str] = {
    "pending": N_("waiting"),
    "delivered": N_("delivered"),
    "dead": N_("failed"),
}
CHANNELS: dict[str, str] = {"email": N_("E-mail"), "webhook": N_("Webhook")}

MONEY_FIELDS = frozenset(
    {"total", "amount", "amount_paid", "vat", "decrease", "vat_decrease", "price", "due"}
)
DAY_FIELDS = frozenset(
    {
        "due_on",
        "issued_on",
        "first_day",
        "last_day",
        "starts_on",
        "ends_on",
        "paid_through",
        "grace_until",
        "next_attempt_on",
        "day",
    }
)

_CARD_DIGITS = re.compile(r"\s*\*+\s*(\d{2,4})\b")


def card_mask(title: str) -> str:
    """`Visa *4242` -> `Visa •• 4242`: the saved card's title with its last digits."""
    return _CARD_DIGITS.sub(lambda m: f" •• {m.group(1)}", title).strip()


def paid_by(paid: PaidWith | None) -> str:
    if paid is None:
        return ""
    words = gettext(PAID_BY[paid.method]) if paid.method in PAID_BY else paid.method
    return f"{words} {card_mask(paid.card)}" if paid.card else words


def _value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name in MONEY_FIELDS:
        try:
            return money(Decimal(str(value)))
        except (InvalidOperation, TypeError):
            return str(value)
    if name in DAY_FIELDS and isinstance(value, str):
        try:
            return short_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    if name == "kind" and str(value) in DOCUMENT_KINDS:  # document.resent: «УПД» as it is
        return label(DOCUMENT_KINDS, str(value))
    if name == "kind":
        return label(INVOICE_KINDS, str(value)).lower()
    if name == "method":
        return label(PAYMENT_METHODS, str(value)).lower()
    return str(value)


class _Fields(dict[str, str]):
    """The payload's fields as a sentence shows them; a field the payload lacks is `—`."""

    def __missing__(self, key: str) -> str:
        return "—"


def _clock_time(value: Any) -> str:
    """`14:02`: an ISO moment's time of day in Moscow."""
    try:
        return datetime.fromisoformat(str(value)).astimezone(VENDOR_TIMEZONE).strftime("%H:%M")
    except ValueError:
        return "—"


def refusal_message(entry: Entry) -> str:
    """The last refusal's own sentence, in the request's language."""
    said = Text(
        str(entry.payload.get("message_ru") or ""), str(entry.payload.get("message_en") or "")
    )
    return said.get(current_language())


def refusal_sentence(entry: Entry) -> str:
    """`Refused: creating deals — grace period, read only (3 times, 14:02–14:40)`."""
    payload = entry.payload
    reason = str(payload.get("reason") or "")
    why = gettext(REFUSAL_REASONS[reason]) if reason in REFUSAL_REASONS else None
    count = int(payload.get("count") or 1)
    first, last = _clock_time(payload.get("first_at")), _clock_time(payload.get("last_at"))
    text: str = gettext("Refused: %(action)s — %(reason)s (%(times)s, %(when)s)") % {
        "action": action_label(str(payload.get("action") or ""), current_language()),
        "reason": why or refusal_message(entry).rstrip(".") or reason,
        "times": ngettext("%(num)d time", "%(num)d times", count) % {"num": count},
        "when": first if first == last else f"{first}–{last}",
    }
    return text


def sentence(entry: Entry) -> str:
    """The entry in words; an unknown type: its code (the raw JSON says the rest)."""
    if entry.kind == "refusal" and entry.type == REFUSED:
        return refusal_sentence(entry)
    template = SENTENCES.get(entry.type)
    if template is None:
        return entry.type
    fields = _Fields({k: _value(k, v) for k, v in (entry.payload or {}).items()})
    fields["paid_by"] = paid_by(entry.paid_with)
    text: str = gettext(template) % fields
    return re.sub(r"\s+([,:)])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()


def delivery_line(channel: str, target: str, status: str) -> str:
    """`E-mail admin@… — delivered`."""
    return f"{label(CHANNELS, channel)} {target} — {label(DELIVERY_STATUSES, status)}"
