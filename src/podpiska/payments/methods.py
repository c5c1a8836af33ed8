"""Saved payment methods and the customer's consent: the consent text a method is kept under
for autopay, a method saved when the gateway confirms a payment made with "keep this
method" (autopay turned on, as the consent was to autopay), the account's methods listed,
and a method removed: the consent withdrawn, never charged again, autopay turned off when
no other method is left; each switch of autopay with its audit row and its e-mail.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.records import audit, emit, get_or_404
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.ports import Clock, GatewayPayment
from podpiska.subscriptions.models import Subscription

CONSENT_TEXT = {
    "ru": (
        "Я соглашаюсь сохранить этот способ оплаты и разрешаю списывать с него плату за "
        "продление подписки в день выставления счёта на продление и, если списание не "
        "удалось, повторно в течение льготного периода. Сумма списания равна сумме счёта "
        "на продление. Я могу удалить способ оплаты и отключить автоплатёж в любой момент "
        "в настройках оплаты; после этого списаний не будет."
    ),
    "en": (
        "I agree to keep this payment method and allow it to be charged for the renewal of "
        "the subscription on the day the renewal invoice is issued and, if that fails, again "
        "during the grace period. Each charge equals the renewal invoice. I can remove the "
        "payment method and turn autopay off at any time in the billing settings; nothing "
        "is charged after that."
    ),
}


def consent_text(lang: str = "ru") -> str:
    return CONSENT_TEXT.get(lang, CONSENT_TEXT["en"])


def list_methods(session: Session, account_id: int) -> list[PaymentMethod]:
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(PaymentMethod)
                .where(PaymentMethod.account_id == account_id)
                .order_by(PaymentMethod.id)
            )
        )


def remove_method(
    session: Session, *, account_id: int, method_id: int, actor: str, clock: Clock
) -> PaymentMethod:
    """The customer withdraws the consent: the method is never charged again, and autopay
    is turned off when no other method is left. Takes effect at once, even for a charge
    due today (the charge re-reads the method under a lock)."""
    with session.begin():
        subscription = session.scalar(
            select(Subscription)
            .where(Subscription.account_id == account_id, Subscription.status != "cancelled")
            .with_for_update()
        )
        method = session.get(PaymentMethod, method_id, with_for_update=True, populate_existing=True)
        if method is None or method.account_id != account_id:
            raise DomainError("payment_method_not_found", method_id=method_id)
        if method.status == "removed":
            return method
        now = clock.now()
        method.status = "removed"
        method.removed_at = now
        method.removed_by = actor
        audit(
            session,
            actor=actor,
            action="payment_method.removed",
            object_type="payment_method",
            object_id=method.id,
            account_id=account_id,
            at=now,
            before={"status": "active"},
            after={"status": "removed"},
        )
        others = session.scalar(
            select(func.count())
            .select_from(PaymentMethod)
            .where(PaymentMethod.account_id == account_id, PaymentMethod.status == "active")
        )
        occurred = now.date()
        if subscription is not None:
            account = get_or_404(session, Account, account_id, "account")
            occurred = today_for(session, account, clock)
        emit(
            session,
            "payment_method.removed",
            account_id=account_id,
            subscription_id=subscription.id if subscription is not None else None,
            occurred_on=occurred,
            at=now,
            payment_method_id=method.id,
            title=method.title,
        )
        if subscription is not None and subscription.autopay and not others:
            switch_autopay(session, subscription, False, actor=actor, now=now, today=occurred)
    return method


def save_payment_method(
    session: Session,
    attempt: PaymentAttempt,
    subscription: Subscription,
    payment: GatewayPayment,
    *,
    now: datetime,
    today: date,
) -> None:
    assert payment.method is not None
    method = session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.gateway == attempt.gateway,
            PaymentMethod.external_id == payment.method.id,
        )
    )
    if method is None:
        method = PaymentMethod(
            account_id=attempt.account_id,
            gateway=attempt.gateway,
            external_id=payment.method.id,
            type=payment.method.type,
            title=payment.method.title,
            status="active",
            consent_text=attempt.consent_text or consent_text(),
            consent_at=attempt.created_at,
            consent_by=attempt.actor,
            attempt_id=attempt.id,
            created_at=now,
        )
        session.add(method)
        session.flush()
        audit(
            session,
            actor=attempt.actor,
            action="payment_method.saved",
            object_type="payment_method",
            object_id=method.id,
            account_id=attempt.account_id,
            at=now,
            after={"title": method.title, "consent_at": attempt.created_at.isoformat()},
        )
        emit(
            session,
            "payment_method.saved",
            account_id=attempt.account_id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            payment_method_id=method.id,
            title=method.title,
        )
    if subscription.status != Status.CANCELLED.value and not subscription.autopay:
        # The consent was to autopay.
        switch_autopay(session, subscription, True, actor=attempt.actor, now=now, today=today)


def switch_autopay(
    session: Session,
    subscription: Subscription,
    enabled: bool,
    *,
    actor: str,
    now: datetime,
    today: date,
) -> None:
    """Autopay on or off because of a saved method, with its audit row and its e-mail."""
    subscription.autopay = enabled
    subscription.updated_at = now
    audit(
        session,
        actor=actor,
        action="subscription.autopay_changed",
        object_type="subscription",
        object_id=subscription.id,
        account_id=subscription.account_id,
        at=now,
        before={"autopay": not enabled},
        after={"autopay": enabled},
    )
    emit(
        session,
        "subscription.autopay_changed",
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        occurred_on=today,
        at=now,
        autopay=enabled,
    )
