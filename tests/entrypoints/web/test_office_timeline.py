"""The account's timeline in the back office (`/office/accounts/{id}` and
`/office/accounts/{id}/timeline?after=`) through the whole application on the demo's data:
each event in words (a card payment with its card's mask, an invoice and a УПД issued, the
webhooks delivered and failed, the e-mails sent), the operator of an audit row, the raw
JSON, English, the paging, and who may read it; on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.backoffice import timeline as timelines
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.entrypoints.context import Context
from podpiska.notifications import webhook_endpoints
from podpiska.notifications.fanout import deliver_due, fan_out
from podpiska.ports import WebhookRequest, WebhookResponse
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    SUSPENDED_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
)
from tests.notifications.test_fanout import FakeMailer

ROMASHKA = CUSTOMER_ACCOUNT  # ООО «Ромашка»: ordered, paid by a saved Mir card, its УПД issued


def _ctx(client: TestClient) -> Context:
    return client.app.state.context  # type: ignore[attr-defined,no-any-return]


def _rub(amount: str, lang: str = "ru") -> str:
    if lang == "ru":
        return format_currency(Decimal(amount), "RUB", locale="ru")
    return f"{amount[:-6]},{amount[-6:]}\xa0₽" if len(amount) > 6 else f"{amount}\xa0₽"


def moment_of(at: datetime) -> str:
    """`14:02`: the time of day in Moscow, as a refusal's line says it."""
    return at.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M")


def _sentences(page: str) -> list[str]:
    return [
        html.unescape(s)
        for s in re.findall(r'data-testid="timeline-sentence">([^<]*)</span>', page)
    ]


@dataclass
class _Webhooks:
    """The endpoint answers 200, except to the УПД's event: 410 (gone, dead at once)."""

    requests: int = 0

    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        self.requests += 1
        if b'"upd.issued"' in request.body:
            return WebhookResponse(410, "gone")
        return WebhookResponse(200, "")


def _send_the_webhooks(client: TestClient) -> None:
    ctx = _ctx(client)
    with ctx.session() as db:
        webhook_endpoints.add_endpoint(
            db,
            url="https://crm.example/hooks",
            event_types=["invoice.paid", "upd.issued"],
            actor="test:setup",
            clock=ctx.clock,
        )
        fan_out(db, clock=ctx.clock, batch=100_000)
    webhooks = _Webhooks()
    deliver_due(ctx.sessions, mailer=FakeMailer(), webhooks=webhooks, clock=ctx.clock, limit=10_000)
    assert webhooks.requests > 0


def test_the_timeline_says_each_event_in_words_with_its_deliveries_and_raw_json(
    client: TestClient,
) -> None:
    _send_the_webhooks(client)
    client_log_in(client, VENDOR_OPERATOR)  # the operator may read
    page = client.get(f"/office/accounts/{ROMASHKA}")
    assert page.status_code == 200
    said = _sentences(page.text)

    assert f"Оплачен счёт 2026-000001 картой Mir •• 0004, {_rub('53784.00')}" in said
    assert f"Выставлен счёт 2026-000001 (заказ), {_rub('53784.00')}, оплатить до 11.05.2026" in said
    assert f"Выставлен УПД UPD-2026-000001 за 06.05.2026 – 31.05.2026, {_rub('3831.19')}" in said
    assert f"Выставлен авансовый счёт-фактура AV-2026-000001, {_rub('53784.00')}" in said
    assert "Открыт портал: ООО «Ромашка»" in said
    assert "Сохранён способ оплаты: Mir *0004" in said

    text = html.unescape(page.text)
    paid = text[text.index('data-event="invoice.paid"') :]
    paid = paid[: paid.index("</tr>")]
    assert re.search(r'data-delivery="delivered">Вебхук \d+ — доставлено', paid)
    upd = text[text.index('data-event="upd.issued"') :]
    upd = upd[: upd.index("</tr>")]
    assert re.search(r'data-delivery="dead">Вебхук \d+ — не доставлено', upd)
    assert "410" in upd  # the endpoint's answer, as the delivery recorded it
    # the raw event one click away, in a <details>
    assert '<details class="raw" data-testid="timeline-raw">' in paid
    assert '"type": "invoice.paid"' in paid and '"invoice_id": 1' in paid

    # newest first: the УПД of May after the payment of May 6th
    assert said.index(f"Оплачен счёт 2026-000001 картой Mir •• 0004, {_rub('53784.00')}") > (
        said.index(f"Выставлен УПД UPD-2026-000001 за 06.05.2026 – 31.05.2026, {_rub('3831.19')}")
    )


def test_the_operator_of_an_audit_row_and_an_unknown_type(client: TestClient) -> None:
    ctx = _ctx(client)
    with ctx.session() as db, db.begin():
        at = db.scalar(select(OutboxEvent.created_at).order_by(OutboxEvent.id.desc()).limit(1))
        assert at is not None
        db.add(
            AuditEntry(
                at=at,
                actor="web:operator@podpiska.example",
                action="something.new",
                object_type="account",
                object_id=str(ROMASHKA),
                account_id=ROMASHKA,
                before=None,
                after={"why": "a type the timeline has no words for"},
            )
        )
    client_log_in(client, VENDOR_ADMIN)
    text = html.unescape(client.get(f"/office/accounts/{ROMASHKA}").text)
    row = text[text.index('data-action="something.new"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="timeline-sentence">something.new<' in row  # its code, not a guess
    assert "web:operator@podpiska.example" in row
    assert "a type the timeline has no words for" in row  # in the raw JSON


def test_the_timeline_in_english(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    client.cookies.set("lang", "en")
    page = client.get(f"/office/accounts/{ROMASHKA}")
    said = _sentences(page.text)
    assert "Invoice 2026-000001 paid by card Mir •• 0004, 53,784.00\xa0₽" in said
    assert "Invoice 2026-000001 issued (order), 53,784.00\xa0₽, due May 11, 2026" in said
    assert "Account opened: ООО «Ромашка»" in said


def test_the_timeline_is_paged_newest_first_every_line_once(client: TestClient) -> None:
    ctx = _ctx(client)
    with ctx.session() as db:
        whole = timelines.account_timeline(db, account_id=ROMASHKA, limit=1000)
        assert not whole.has_more
        seen: list[tuple[str, int | None, int | None]] = []
        after, pages = 0, 0
        while True:
            one = timelines.account_timeline(db, account_id=ROMASHKA, after=after, limit=3)
            pages += 1
            assert len([e for e in one.entries if e.kind == "event"]) <= 3
            seen += [(e.kind, e.event_id, e.audit_id) for e in one.entries]
            moments = [e.at for e in one.entries]
            assert moments == sorted(moments, reverse=True)
            if not one.has_more:
                break
            assert one.next_after is not None
            after = one.next_after
    assert pages > 2
    assert seen == [(e.kind, e.event_id, e.audit_id) for e in whole.entries]
    assert len(set(seen)) == len(seen)
    with ctx.session() as db, db.begin():
        events = db.scalars(select(OutboxEvent.id).where(OutboxEvent.account_id == ROMASHKA))
        assert sorted(e for _k, e, _a in seen if e is not None) == sorted(events)

    client_log_in(client, VENDOR_OPERATOR)
    first = client.get(f"/office/accounts/{ROMASHKA}/timeline?limit=3")
    assert first.status_code == 200
    older = re.search(r'href="(/office/accounts/\d+/timeline\?after=\d+)"', first.text)
    assert older is not None
    second = client.get(older.group(1) + "&limit=3", headers={"HX-Request": "true"})
    assert second.status_code == 200
    assert "<html" not in second.text  # the partial the "Older" button swaps in
    assert _sentences(second.text) and not set(_sentences(second.text)) & set(
        _sentences(first.text)
    )
    assert client.get(f"/office/accounts/{ROMASHKA}/timeline?after=-1").status_code == 422
    assert client.get("/office/accounts/999999/timeline").status_code == 404


def test_only_the_vendors_people_read_the_timeline(client: TestClient) -> None:
    assert client.get(f"/office/accounts/{ROMASHKA}/timeline").status_code in (303, 401, 403)
    client_log_in(client, CUSTOMER)
    assert client.get(f"/office/accounts/{ROMASHKA}/timeline").status_code == 404  # hidden


def test_entitlement_refusals_of_a_day_are_one_line(client: TestClient) -> None:
    """Refused checks through the API: one line for the action, reason and day, in words,
    how many times and when, the refusal's own sentence under it, its row one click away;
    an allowed check is not a line."""
    ctx = _ctx(client)
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    with ctx.session() as db:
        _, key = create_api_key(db, role="vendor_operator", actor="test", clock=clock)
    bearer = {"Authorization": f"Bearer {key}"}
    path = f"/api/v1/accounts/{SUSPENDED_ACCOUNT}/entitlements"
    started = clock.instant
    for minutes in (0, 20, 38):
        clock.instant = started + timedelta(minutes=minutes)
        refused = client.get(f"{path}/crm.create_deal", headers=bearer)
        assert refused.json()["reason"] == "suspended", refused.text
    assert client.get(f"{path}/billing.read", headers=bearer).json()["allowed"] is True
    app: Any = client.app
    app.state.refusals.stop()  # its thread written out, as when the server stops

    client_log_in(client, VENDOR_OPERATOR)
    page = html.unescape(client.get(f"/office/accounts/{SUSPENDED_ACCOUNT}").text)
    first, last = (moment_of(started), moment_of(clock.instant))
    line = f"Отказано: создание сделок — подписка приостановлена (3 раза, {first}–{last})"
    assert line in _sentences(page)
    row = page[page.index('data-refusal="suspended"') :]
    row = row[: row.index("</tr>")]
    assert "Портал приостановлен после окончания льготного периода: создание сделок" in row
    assert '"count": 3' in row and '"reason": "suspended"' in row  # the raw row
    assert not [s for s in _sentences(page) if "чтение счетов" in s]
    english = client.get(f"/office/accounts/{SUSPENDED_ACCOUNT}", headers={"Accept-Language": "en"})
    assert (
        f"Refused: creating deals — the subscription is suspended (3 times, {first}–{last})"
        in _sentences(english.text)
    )


def test_the_refusals_of_an_account_on_a_test_clock_are_on_its_days(client: TestClient) -> None:
    """A refused check of an account on a test clock advanced some days is counted at the
    test clock's moment, on its day (in Moscow time), not the server's: the timeline's line
    says the test clock's time of day and its raw row the test clock's day."""
    ctx = _ctx(client)
    with ctx.session() as db:
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=ctx.clock)
    bearer = {"Authorization": f"Bearer {key}"}
    made = client.post(
        "/api/v1/test-clocks",
        json={"name": "refusals", "now": "2026-03-02T09:00:00+03:00"},
        headers=bearer,
    )
    assert made.status_code == 201, made.text
    clock_id = made.json()["id"]
    opened = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Часы»", "admin_email": "admin@chasy.ru", "test_clock_id": clock_id},
        headers=bearer,
    )
    assert opened.status_code == 201, opened.text
    account = opened.json()["id"]
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers=bearer,
    )
    assert ordered.status_code == 201, ordered.text
    moved = client.post(
        f"/api/v1/test-clocks/{clock_id}/advance",
        json={"to": "2026-03-09T23:40:00+03:00"},
        headers=bearer,
    )
    assert moved.status_code == 200, moved.text
    refused = client.get(f"/api/v1/accounts/{account}/entitlements/crm.read", headers=bearer)
    assert refused.json()["allowed"] is False, refused.text
    reason = refused.json()["reason"]
    app: Any = client.app
    app.state.refusals.stop()  # its thread written out, as when the server stops

    client_log_in(client, VENDOR_OPERATOR)
    page = html.unescape(client.get(f"/office/accounts/{account}").text)
    said = [s for s in _sentences(page) if s.startswith("Отказано: чтение данных CRM")]
    assert said and said[0].endswith("(1 раз, 23:40)"), said  # the test clock's time of day
    row = page[page.index(f'data-refusal="{reason}"') :]
    row = row[: row.index("</tr>")]
    assert '"day": "2026-03-09"' in row  # the test clock's day; the server's is another
    assert ctx.clock.today("Europe/Moscow").isoformat() != "2026-03-09"
