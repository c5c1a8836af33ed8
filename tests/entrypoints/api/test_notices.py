"""E-mails through the real stack (API, daily run on a test clock, fan-out, delivery; the
mailer is the only fake): the notice before an autopay charge says the day, the amount and
the card early enough to turn autopay off, and the amount is the one then charged; events
without a text of their own before (an app installed, a change) read as letters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from podpiska.adapters.clock import FixedClock
from podpiska.notifications import fanout as notifications
from podpiska.ports import EmailMessage, WebhookRequest, WebhookResponse
from tests.entrypoints.api.test_payments import (  # noqa: F401 - the fixture
    MSK,
    Env,
    _saved_gateway_method,
    advance,
    env,
    invoice_of,
    new_clock,
    open_and_order,
    save_card,
)


@dataclass
class FakeMailer:
    sent: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class NoWebhooks:
    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        raise AssertionError("no webhook endpoint was added")


def mails(env: Env, day: str, event_type: str) -> list[EmailMessage]:  # noqa: F811
    """The e-mails of `event_type` sent by a worker on `day` (10:00 Moscow)."""
    clock = FixedClock(datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=MSK))
    with env.context.session() as db:
        while notifications.fan_out(db, clock=clock):
            pass
    mailer = FakeMailer()
    notifications.deliver_due(env.context.sessions, mailer=mailer, webhooks=NoWebhooks(),
                              clock=clock, limit=1000)  # fmt: skip
    return [m for m in mailer.sent if m.headers["X-Podpiska-Event"] == event_type]


def test_the_notice_before_an_autopay_charge_says_day_amount_and_card(env: Env) -> None:  # noqa: F811
    """A one-month Standard term paid through 21.12.2026 with a saved Visa *4242: the
    7-day reminder (14.12) and the one of the day before (17.12) name the charge of 18.12
    (the autopay invoice day), its amount and the card, and the last day to turn autopay
    off; the charge then takes exactly that amount. After a declined charge the 0-day
    reminder (21.12) names the retry of 22.12."""
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice)
    env.sandbox.script_method(_saved_gateway_method(env), ["insufficient_funds"])
    mails(env, "2026-11-22", "subscription.reminder")  # what the order sent

    advance(env, clock_id, "2026-12-14")
    [seven] = mails(env, "2026-12-14", "subscription.reminder")
    assert seven.subject == "Автоплатёж 18.12.2026: 3 990,00 ₽"
    assert "заканчивается через 7 дней" in seven.text
    assert "Включён автоплатёж: 18.12.2026 мы спишем 3 990,00 ₽ с карты Visa *4242." in (seven.text)
    assert "отключите автоплатёж в настройках оплаты не позднее 17.12.2026" in seven.text
    assert "мы спишем оплату с сохранённой карты" not in seven.text

    advance(env, clock_id, "2026-12-17")  # the day before the charge: one more notice
    [eve] = mails(env, "2026-12-17", "subscription.reminder")
    assert "Включён автоплатёж: 18.12.2026 мы спишем 3 990,00 ₽ с карты Visa *4242." in eve.text
    assert "не позднее 17.12.2026" in eve.text

    first = advance(env, clock_id, "2026-12-18")
    assert (first["counts"]["autopay_invoices"], first["autopay"]["failed"]) == (1, 1)
    renewal = env.get(f"/api/v1/accounts/{account}/subscription").json()["renewal_invoice_id"]
    charged = invoice_of(env, renewal)
    assert Decimal(charged["total"]) == Decimal("3990.00")  # what the notice said
    assert sum(Decimal(line["amount"]) for line in charged["lines"]) == Decimal(charged["total"])

    advance(env, clock_id, "2026-12-21")
    [last] = mails(env, "2026-12-21", "subscription.reminder")
    assert last.subject == "Автоплатёж 22.12.2026: 3 990,00 ₽"
    assert "заканчивается сегодня" in last.text
    assert "Включён автоплатёж: 22.12.2026 мы спишем 3 990,00 ₽ с карты Visa *4242." in (last.text)


def test_autopay_turned_off_is_not_announced(env: Env) -> None:  # noqa: F811
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice)
    off = env.post(f"/api/v1/accounts/{account}/subscription/autopay", {"enabled": False})
    assert off.status_code == 200, off.text
    advance(env, clock_id, "2026-12-14")
    [seven] = mails(env, "2026-12-14", "subscription.reminder")
    assert "мы спишем" not in seven.text
    assert "Продлите подписку заранее" in seven.text


def test_an_app_installed_reads_as_a_letter(env: Env) -> None:  # noqa: F811
    loaded = env.post("/api/v1/apps", {"apps": [
        {"code": "import-amo", "name": "Перенос из amoCRM", "vendor": "Podpiska",
         "kind": "migrator"}]})  # fmt: skip
    assert loaded.status_code == 200, loaded.text
    account, invoice = open_and_order(env)
    paid = env.post(f"/api/v1/invoices/{invoice['id']}/payments",
                    {"amount": invoice["total"], "method": "manual"})  # fmt: skip
    assert paid.status_code == 201, paid.text
    put = env.client.put(f"/api/v1/accounts/{account}/apps/import-amo", headers=env.auth)
    assert put.status_code in (200, 201), put.text
    [installed] = mails(env, "2026-11-22", "app.installed")
    assert installed.subject == "Приложение «Перенос из amoCRM» установлено"
    assert not re.search(r"app\.installed|[{}]|import-amo", installed.subject + installed.text)
