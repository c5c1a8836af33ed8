"""Every event that e-mails has its own text, in Russian and English: rendered for every
type of `core/domain/events.py` with the payload its use-case writes, no e-mail shows an event
code, a raw dict or list, `params:` or a missing value. And the notice before an autopay
charge says the day, the amount and the card, early enough to turn autopay off."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from podpiska.core.domain.events import EVENT_TYPES
from podpiska.notifications.texts import (
    NoticeContext,
    UpcomingCharge,
    render_notice,
)
from podpiska.notifications.texts.payments import method_words

# What each use-case puts in its event (services/*.py `emit(...)`), as stored (JSON).
PAYLOADS: dict[str, dict[str, Any]] = {
    "subscription.ordered": {"invoice_id": 5, "number": "2026-000005", "plan": "standard",
                             "months": 12, "total": "43092.00"},
    "subscription.activated": {"plan": "standard", "starts_on": "2026-11-30",
                               "paid_through": "2027-11-29"},
    "subscription.renewed": {"starts_on": "2027-11-30", "paid_through": "2028-11-29"},
    "subscription.restored": {"starts_on": "2027-12-03", "paid_through": "2028-12-02"},
    "subscription.reminder": {"days_before": 7, "ends_on": "2027-11-30",
                              "paid_through": "2027-11-29", "renewal_invoice_id": None},
    "subscription.grace_started": {"grace_until": "2027-12-29",
                                   "restricted": ["crm.create_deal", "disk.write"]},
    "subscription.suspended": {"paid_through": "2027-11-29"},
    "subscription.cancelled": {"reason": "cancelled by the customer"},
    "subscription.cancel_scheduled": {"cancel_at_period_end": True},
    "subscription.autopay_changed": {"autopay": True},
    "subscription.extended": {"days": 14, "reason": "сбой", "paid_through": "2027-12-13"},
    "subscription.changed": {"change_id": 3, "plan": "professional", "seats": 100,
                             "add_ons": ["marketplace"], "paid_through": "2027-11-29"},
    "subscription.change_pending": {"change_id": 3, "kind": "plan",
                                    "params": {"plan": "professional"},
                                    "amount_due": "36000.00", "invoice_id": 9},
    "subscription.change_scheduled": {"change_id": 4, "kind": "seats", "params": {"seats": 20},
                                      "amount_due": "0.00", "invoice_id": None},
    "subscription.change_applied": {"change_id": 5, "kind": "add_on",
                                    "params": {"add_on": "marketplace"},
                                    "amount_due": "-120.50", "invoice_id": None},
    "subscription.version_moved": {"from_version": "2026.1", "to_version": "2027.1"},
    "invoice.issued": {"invoice_id": 5, "number": "2026-000005", "total": "43092.00",
                       "due_on": "2026-11-27", "kind": "renewal", "autopay": True},
    "invoice.paid": {"invoice_id": 5, "number": "2026-000005", "total": "43092.00"},
    "invoice.partially_paid": {"invoice_id": 5, "number": "2026-000005", "total": "43092.00",
                               "amount_paid": "10000.00"},
    "invoice.voided": {"invoice_id": 5, "number": "2026-000005",
                       "reason": "the change was not paid in time"},
    "credit_note.issued": {"credit_note_id": 2, "number": "КН-2026-000002",
                           "invoice_number": "2026-000005", "total": "-1200.00"},
    "upd.issued": {"closing_id": 3, "number": "UPD-2026-000003", "form": "upd",
                   "issued_on": "2026-11-30",
                   "first_day": "2026-11-22", "last_day": "2026-11-30", "total": "529.94",
                   "vat": "95.56"},
    "advance.issued": {"advance_id": 4, "number": "AV-2026-000004", "issued_on": "2026-11-22",
                       "invoice_id": 5, "payment_id": 8, "amount": "21492.00",
                       "vat": "3875.61", "vat_rate": "22/122"},
    "upd.reissued": {"fix_id": 1, "source_id": 3, "number": "UPD-2026-000003", "fix_no": 1,
                     "issued_on": "2026-12-03", "reason": "адрес покупателя указан неверно"},
    "advance.reissued": {"fix_id": 2, "source_id": 4, "number": "AV-2026-000004",
                         "fix_no": 2, "issued_on": "2026-12-03", "reason": "КПП"},
    "correction.issued": {"correction_id": 6, "number": "UKD-2026-000006",
                          "issued_on": "2026-12-10", "closing_id": 3, "decrease": "100.00",
                          "vat_decrease": "18.03"},
    "payment.failed": {"invoice_id": 5, "number": "2026-000005", "amount": "43092.00",
                       "reason": "insufficient_funds", "kind": "autopay",
                       "next_attempt_on": "2027-12-01"},
    "payment_method.saved": {"title": "Visa *4242"},
    "payment_method.removed": {"title": "Visa *4242"},
    "refund.requested": {"refund_id": 1, "amount": "500.00"},
    "refund.succeeded": {"refund_id": 1, "amount": "500.00"},
    "refund.failed": {"refund_id": 1, "amount": "500.00"},
    "migration.notice": {"migration": "market-2027", "kind": "marketplace",
                         "cut_over": "2027-04-01", "days_before": 30, "plan": "standard",
                         "add_on": "marketplace", "apps_stopping": ["Доставка СДЭК"],
                         "apps_stopping_count": 1, "features_stopping": ["rest_api"],
                         "monthly_cost": "990.00", "first_time_percent": "50",
                         "first_time_cost": "495.00", "transition_until": "2027-04-14"},
    "license.issued": {"serial": "L-2026-1", "plan": "standard", "users": 50,
                       "paid_through": "2027-11-29", "grace_until": "2027-12-29",
                       "key_id": "k1"},
    "app.installed": {"app": "delivery"},
    "app.removed": {"app": "delivery"},
    "trial.started": {"add_on": "marketplace", "last_day": "2026-12-05"},
}  # fmt: skip

NAMES = {
    "ru": {"standard": "Стандартный", "professional": "Профессиональный",
           "marketplace": "Маркетплейс", "delivery": "Доставка СДЭК"},
    "en": {"standard": "Standard", "professional": "Professional",
           "marketplace": "Marketplace", "delivery": "Доставка СДЭК"},
}  # fmt: skip
CODES = ("standard", "marketplace", "professional", "delivery", "crm.create_deal", "disk.write")


def context(event_type: str, lang: str, **extra: Any) -> NoticeContext:
    return NoticeContext(
        event_type=event_type,
        account_name="ООО Ромашка",
        payload=PAYLOADS[event_type],
        plan_code="standard",
        plan_name=NAMES[lang]["standard"],
        paid_through=date(2027, 11, 29),
        names=NAMES[lang],
        **extra,
    )


def test_every_event_of_the_domain_has_a_payload_here() -> None:
    """A new event type must come with its text (and a payload in this test)."""
    assert set(PAYLOADS) == set(EVENT_TYPES)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_email_reads_as_a_letter(event_type: str, lang: str) -> None:
    notice = render_notice(context(event_type, lang), lang)
    whole = f"{notice.subject}\n{notice.text}"
    assert notice.subject.strip() and notice.text.strip()
    assert "\n" not in notice.subject
    for code in EVENT_TYPES:  # no event code anywhere
        assert code not in whole, (event_type, lang, code)
    assert not re.search(r"[{}\[\]]", whole), (event_type, lang, whole)  # no dict or list
    assert "params" not in whole and "None" not in whole, (event_type, lang, whole)
    # Codes are named, never shown ("marketplace" is an English word too).
    for code in CODES if lang == "ru" else [c for c in CODES if c != "marketplace"]:
        assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w])", whole), (code, whole)
    if lang == "ru":
        assert re.search("[а-яё]", notice.subject, re.I), notice.subject
    else:
        subject = notice.subject
        for proper in ("ООО Ромашка", "Доставка СДЭК", "КН-"):  # names, not words
            subject = subject.replace(proper, "")
        assert not re.search("[а-яё]", subject, re.I), notice.subject


def test_the_texts_of_changes_apps_and_trials() -> None:
    ru = {t: render_notice(context(t, "ru"), "ru") for t in EVENT_TYPES}
    en = {t: render_notice(context(t, "en"), "en") for t in EVENT_TYPES}
    pending = ru["subscription.change_pending"]
    assert pending.subject == "Изменение подписки ждёт оплаты"
    assert "переход на тариф «Профессиональный»" in pending.text
    assert "Выставлен счёт на 36 000,00 ₽." in pending.text
    assert "число пользователей — 20" in ru["subscription.change_scheduled"].text
    assert "после 29.11.2027" in ru["subscription.change_scheduled"].text
    applied = ru["subscription.change_applied"].text
    assert "подключение «Маркетплейс»" in applied and "120,50 ₽ зачислена" in applied
    assert "дополнения: «Маркетплейс»." in ru["subscription.changed"].text
    assert ru["app.installed"].subject == "Приложение «Доставка СДЭК» установлено"
    assert en["app.removed"].subject == "App “Доставка СДЭК” removed"
    assert "до 05.12.2026 включительно" in ru["trial.started"].text
    assert "изменение подписки не оплачено вовремя" in ru["invoice.voided"].text
    assert "1 200,00 ₽" in ru["credit_note.issued"].text
    assert "№ UPD-2026-000003 от 30.11.2026" in ru["upd.issued"].text
    assert "22.11.2026 – 30.11.2026 на сумму 529,94 ₽" in ru["upd.issued"].text
    act = render_notice(
        NoticeContext(
            event_type="upd.issued",
            payload={**PAYLOADS["upd.issued"], "form": "act"},
            account_name="ООО «Ромашка»",
        ),
        "ru",
    )
    assert act.subject == "Акт об оказании услуг № UPD-2026-000003"
    assert "выпущен акт об оказании услуг № UPD-2026-000003 от 30.11.2026" in act.text
    assert "в том числе НДС 3 875,61 ₽" in ru["advance.issued"].text
    assert "уменьшена на 100,00 ₽" in ru["correction.issued"].text
    assert "исправление № 1 от 03.12.2026 документа УПД № UPD-2026-000003" in (
        ru["upd.reissued"].text
    )
    assert "500,00 ₽" in ru["refund.requested"].text
    assert "a move to the “Professional” plan" in en["subscription.change_pending"].text


def test_an_unknown_event_gets_a_neutral_note_not_its_code() -> None:
    for lang in ("ru", "en"):
        ctx = NoticeContext(event_type="x.happened", account_name="Ромашка",
                            payload={"params": {"a": 1}})  # fmt: skip
        notice = render_notice(ctx, lang)
        whole = notice.subject + notice.text
        assert "x.happened" not in whole and "{" not in whole and "params" not in whole


CHARGE = UpcomingCharge(on=date(2027, 11, 26), amount=Decimal("43092.00"), method="Visa *4242")


def test_the_reminder_before_an_autopay_charge_says_day_amount_and_card() -> None:
    """Item 15: not "мы спишем оплату" but when, how much and from which card, and until
    when autopay can still be turned off."""
    ru = render_notice(context("subscription.reminder", "ru", autopay=True, charge=CHARGE))
    assert "Включён автоплатёж: 26.11.2027 мы спишем 43 092,00 ₽ с карты Visa *4242." in ru.text
    assert "отключите автоплатёж в настройках оплаты не позднее 25.11.2027" in ru.text
    assert "мы спишем оплату с сохранённой карты" not in ru.text
    en = render_notice(context("subscription.reminder", "en", autopay=True, charge=CHARGE), "en")
    assert "on 26 November 2027 we will charge 43,092.00 ₽ from Visa *4242." in en.text
    assert "turn autopay off in the billing settings by 25 November 2027" in en.text


def test_how_a_method_is_named() -> None:
    assert method_words("Visa *4242") == "с карты Visa *4242"
    assert method_words("Bank card *4444") == "с банковской карты *4444"
    assert method_words("YooMoney wallet 410011…") == "с кошелька ЮMoney 410011…"
    assert method_words("SBP") == "через СБП"
    assert method_words("Mir *1234", "en") == "from Mir *1234"
