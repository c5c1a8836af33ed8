"""E-mail texts for outbox events, in Russian (the default) and English.

Pure functions of their inputs: `render_notice(NoticeContext(...), lang)` returns a subject
and a plain-text body. Everything a text needs (the account's name, the plan's name, the
date the subscription is paid through, the amount to renew, the actions restricted in
grace) is looked up by `podpiska.notifications.messages` and passed in; the event's own
fields come from its payload. Every event type of `core/domain/events.py` has its text (a test
renders each in both languages); an unknown type gets a neutral note, never its code or
its raw payload.

Each text is in the module of its topic: `invoices` (the order and its invoices, credit
notes), `lifecycle` (terms, reminders, grace, suspension, cancellation, autopay),
`payments` (declines, payment methods, refunds), `changes` (mid-term changes),
`catalog_moves` (price-list moves and their notices), `apps` (apps, trials, license files);
`common` holds the context, the notice and the formatting helpers. This module maps each
event type to its text and adds the greeting and the signature.

Plain `str` formatting on purpose: services do not import Jinja (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable

from podpiska.core.domain.text import Text
from podpiska.notifications.texts import (
    apps,
    catalog_moves,
    changes,
    invoices,
    lifecycle,
    payments,
)
from podpiska.notifications.texts.common import (
    LANGUAGES,
    Notice,
    NoticeContext,
    Parts,
    UpcomingCharge,
)

# The API of the texts: what `render_notice` takes and gives (the helpers are in their modules).
__all__ = [
    "EVENT_TYPES",
    "LANGUAGES",
    "Notice",
    "NoticeContext",
    "UpcomingCharge",
    "render_notice",
]


def _generic(x: Parts) -> Notice:
    """An event without a text of its own (none today: a test renders every type): a
    neutral note, never the event's code or its raw payload."""
    return Notice(
        x.t(f"Изменения по порталу {x.account}", f"Changes to account {x.account}"),
        x.t(
            "По подписке портала произошли изменения. Подробности — в личном кабинете.",
            "Something changed in the account's subscription. See the customer portal.",
        ),
    )


_TEXTS: dict[str, Callable[[Parts], Notice]] = {
    "subscription.ordered": invoices.ordered,
    "invoice.issued": invoices.invoice_issued,
    "invoice.resent": invoices.invoice_issued,  # the same e-mail, sent again by hand
    "invoice.paid": invoices.invoice_paid,
    "invoice.partially_paid": invoices.invoice_partially_paid,
    "subscription.activated": lambda x: lifecycle.term_started(x, "activated"),
    "subscription.renewed": lambda x: lifecycle.term_started(x, "renewed"),
    "subscription.restored": lambda x: lifecycle.term_started(x, "restored"),
    "subscription.reminder": lifecycle.reminder,
    "subscription.grace_started": lifecycle.grace_started,
    "subscription.suspended": lifecycle.suspended,
    "subscription.cancelled": lifecycle.cancelled,
    "subscription.autopay_changed": lifecycle.autopay_changed,
    "subscription.cancel_scheduled": lifecycle.cancel_scheduled,
    "subscription.extended": lifecycle.extended,
    "payment.failed": payments.payment_failed,
    "payment_method.saved": payments.method_saved,
    "payment_method.removed": payments.method_removed,
    "refund.succeeded": lambda x: payments.refund(x, True),
    "refund.failed": lambda x: payments.refund(x, False),
    "migration.notice": catalog_moves.migration_notice,
    "subscription.version_moved": catalog_moves.version_moved,
    "license.issued": apps.license_issued,
    "subscription.changed": changes.changed,
    "subscription.change_pending": lambda x: changes.change(x, "pending"),
    "subscription.change_scheduled": lambda x: changes.change(x, "scheduled"),
    "subscription.change_applied": lambda x: changes.change(x, "applied"),
    "invoice.voided": invoices.invoice_voided,
    "credit_note.issued": invoices.credit_note_issued,
    "upd.issued": invoices.upd_issued,
    "advance.issued": invoices.advance_issued,
    "correction.issued": invoices.correction_issued,
    "upd.reissued": lambda x: invoices.reissued(x, "upd"),
    "advance.reissued": lambda x: invoices.reissued(x, "advance"),
    "document.resent": invoices.document_resent,  # a closing document sent again by hand
    "refund.requested": payments.refund_requested,
    "app.installed": lambda x: apps.app_notice(x, True),
    "app.removed": lambda x: apps.app_notice(x, False),
    "trial.started": apps.trial_started,
}

EVENT_TYPES: tuple[str, ...] = tuple(_TEXTS)

_GREETING = Text("Здравствуйте!", "Hello,")
_SIGNATURE = Text(
    "Это автоматическое письмо Podpiska: отвечать на него не нужно.",
    "This is an automatic message from Podpiska: no need to reply.",
)


def render_notice(ctx: NoticeContext, lang: str = "ru") -> Notice:
    """The subject and text of the e-mail about `ctx.event_type` (generic when unknown)."""
    if lang not in LANGUAGES:
        lang = "ru"
    notice = _TEXTS.get(ctx.event_type, _generic)(Parts(ctx, lang))
    text = f"{_GREETING.get(lang)}\n\n{notice.text}\n\n—\n{_SIGNATURE.get(lang)}\n"
    return Notice(notice.subject, text)
