"""What is sent: the e-mail about an event (its text in the account's language, with the
names, dates and amounts it needs, and the autopay charge a reminder announces) and the
signed webhook request with its JSON body. Built by `fanout` when it claims a delivery.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.models import OutboxEvent
from podpiska.invoicing.models import Invoice
from podpiska.notifications.models import Delivery, WebhookEndpoint
from podpiska.notifications.signatures import sign
from podpiska.notifications.texts import NoticeContext, UpcomingCharge, render_notice
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.ports import EmailMessage, WebhookRequest
from podpiska.subscriptions.domain.lifecycle import next_autopay_charge
from podpiska.subscriptions.models import Subscription


def build_email(
    event: OutboxEvent,
    delivery: Delivery,
    *,
    account: Account,
    subscription: Subscription | None,
    renewal_invoice: Invoice | None = None,
    catalog: Catalog | None = None,
    lang: str = "ru",
    today: date | None = None,
    app_names: Mapping[str, str] | None = None,
    charge: UpcomingCharge | None = None,
) -> EmailMessage:
    """The e-mail about `event` to `delivery.target`, as of `today` (the day it is sent);
    `charge`: the autopay charge a reminder announces (`upcoming_charge`)."""
    payload = dict(event.payload or {})
    version = _catalog_version(catalog, subscription)
    names: dict[str, str] = {}
    for candidate in reversed(catalog.versions) if catalog is not None else ():
        names.update({code: p.name.get(lang) for code, p in candidate.plans.items()})
        names.update({code: a.name.get(lang) for code, a in candidate.add_ons.items()})
    if version is not None:  # the subscription's own version names win
        names.update({code: p.name.get(lang) for code, p in version.plans.items()})
        names.update({code: a.name.get(lang) for code, a in version.add_ons.items()})
    names.update(app_names or {})
    plan_code = payload.get("plan") or (subscription.plan if subscription else None)
    plan_name = _plan_name(catalog, version, plan_code, lang)
    paid_through = _paid_through(subscription)
    if event.type == "subscription.reminder" and payload.get("paid_through"):
        # The term the reminder was about (a renewal may have moved the subscription on),
        # and the days really left when it goes out (a catch-up sends it late).
        paid_through = date.fromisoformat(str(payload["paid_through"]))
        if today is not None:
            payload["days_before"] = max(0, (paid_through - today).days)
    renewal_total: Decimal | None = None
    currency = catalog.currency if catalog is not None else "RUB"
    if renewal_invoice is not None and renewal_invoice.status not in {"paid", "void"}:
        renewal_total = renewal_invoice.total - renewal_invoice.amount_paid
        currency = renewal_invoice.currency
    restricts = version.lifecycle.grace_restricts if version is not None else frozenset()
    notice = render_notice(
        NoticeContext(
            event_type=event.type,
            account_name=account.name,
            payload=payload,
            plan_code=plan_code,
            plan_name=plan_name,
            paid_through=paid_through,
            renewal_total=renewal_total,
            currency=currency,
            grace_restricts=restricts,
            autopay=subscription.autopay if subscription is not None else None,
            names=names,
            charge=charge,
        ),
        lang,
    )
    return EmailMessage(
        to=delivery.target,
        subject=notice.subject,
        text=notice.text,
        headers={
            "X-Podpiska-Event": event.type,
            "X-Podpiska-Event-Id": str(event.id),
            "X-Podpiska-Delivery": str(delivery.id),
        },
    )


def upcoming_charge(
    session: Session,
    event: OutboxEvent,
    *,
    account: Account,
    subscription: Subscription | None,
    renewal_invoice: Invoice | None,
    catalog: Catalog | None,
    today: date,
) -> UpcomingCharge | None:
    """The autopay charge a reminder announces, as of `today`: the day of the next charge
    of the dunning schedule (`autopay_charge_days`: the day the renewal invoice is issued,
    then the retry days), the amount (the open renewal invoice's, else the renewal priced as
    it will be invoiced) and the saved method. None when nothing will be charged: autopay
    off or cancelled, no saved method, the term already renewed, the schedule over."""
    payload = event.payload or {}
    if (
        event.type != "subscription.reminder"
        or subscription is None
        or catalog is None
        or not subscription.autopay
        or subscription.cancel_at_period_end
        or subscription.status not in (Status.ACTIVE.value, Status.GRACE.value)
        or subscription.ends_on is None
        or str(payload.get("ends_on", subscription.ends_on.isoformat()))
        != subscription.ends_on.isoformat()  # renewed since the reminder was written
    ):
        return None
    version = _catalog_version(catalog, subscription)
    method = session.scalar(
        select(PaymentMethod)
        .where(PaymentMethod.account_id == account.id, PaymentMethod.status == "active")
        .order_by(PaymentMethod.id.desc())
        .limit(1)
    )
    if version is None or method is None:
        return None
    last_charged_on: date | None = None
    amount: Decimal | None = None
    if renewal_invoice is not None:
        if renewal_invoice.status != "issued":
            return None
        amount = renewal_invoice.total - renewal_invoice.amount_paid
        last_charged_on = session.scalar(
            select(func.max(PaymentAttempt.charge_day)).where(
                PaymentAttempt.invoice_id == renewal_invoice.id, PaymentAttempt.kind == "autopay"
            )
        )
    day = next_autopay_charge(subscription.ends_on, version.lifecycle, last_charged_on)
    if day is None:
        return None
    day = max(day, today)  # a charge missed is simply due (`next_autopay_charge`)
    if amount is None:
        from podpiska.subscriptions.billing import renewal_quote

        try:
            amount = renewal_quote(
                session, catalog, subscription, account, subscription.months, day
            ).total
        except DomainError:  # it cannot be priced as it stands (a blocked downgrade)
            amount = None
    return UpcomingCharge(on=day, amount=amount, method=method.title)


def webhook_body(event: OutboxEvent, subscription: Subscription | None) -> bytes:
    """The JSON body: the event, and in `data` its payload with a snapshot of the
    subscription as it is when the webhook is sent."""
    data: dict[str, Any] = dict(event.payload or {})
    if subscription is not None:
        paid_through = _paid_through(subscription)
        data["subscription"] = {
            "id": subscription.id,
            "plan": subscription.plan,
            "status": subscription.status,
            "paid_through": paid_through.isoformat() if paid_through else None,
        }
    document = {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "account_id": event.account_id,
        "subscription_id": event.subscription_id,
        "data": data,
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_json_value)
    return text.encode("utf-8")


def build_webhook(
    event: OutboxEvent,
    delivery: Delivery,
    *,
    endpoint: WebhookEndpoint,
    subscription: Subscription | None,
    now: datetime,
) -> WebhookRequest:
    """The signed request for `delivery` (re-signed with a fresh timestamp when sent)."""
    body = webhook_body(event, subscription)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "Podpiska-Event": event.type,
        "Podpiska-Delivery": str(delivery.id),
        "Podpiska-Timestamp": str(timestamp),
        "Podpiska-Signature": sign(endpoint.secret, timestamp, body),
    }
    return WebhookRequest(url=endpoint.url, body=body, headers=headers)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _paid_through(subscription: Subscription | None) -> date | None:
    if subscription is None or subscription.ends_on is None:
        return None
    return subscription.ends_on - timedelta(days=1)


def _catalog_version(
    catalog: Catalog | None, subscription: Subscription | None
) -> CatalogVersion | None:
    if catalog is None:
        return None
    if subscription is not None and subscription.catalog_code == catalog.code:
        try:
            return catalog.version(subscription.catalog_version)
        except KeyError:
            pass
    return catalog.versions[-1] if subscription is None else None


def _plan_name(
    catalog: Catalog | None, version: CatalogVersion | None, code: Any, lang: str
) -> str | None:
    if catalog is None or not isinstance(code, str):
        return None
    versions = ([version] if version is not None else []) + list(reversed(catalog.versions))
    for candidate in versions:
        plan = candidate.plans.get(code)
        if plan is not None:
            return plan.name.get(lang)
    return None
