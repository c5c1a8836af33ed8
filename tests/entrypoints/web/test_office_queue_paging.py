"""The back office's work queues are paged (issue 17: every table paged), through TestClient on
SQLite and PostgreSQL: the bank review queue 50 a page, oldest first, with the number waiting,
a payment asked about shown on the page that starts with it; the deliveries newest first, page
by page, each once."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.entrypoints.web.office import deliveries as deliveries_page
from podpiska.notifications import fanout as notifications
from podpiska.notifications.models import Delivery
from podpiska.payments.bank.models import BankPayment
from tests.entrypoints.web.conftest import VENDOR_ADMIN, VENDOR_OPERATOR, client_log_in, csrf_of
from tests.entrypoints.web.test_office_ops import _ctx, _upload
from tests.payments.bank.test_domain import document, statement

WAITING = 55  # payments no invoice matches: more than a page


def _queue_statement() -> bytes:
    return statement(
        *(
            document(
                f"9{n:02d}", f"{100 + n}.00", f"Оплата по договору {n}", ПлательщикИНН="7736207543"
            )
            for n in range(WAITING)
        )
    ).encode("cp1251")


def _shown(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<article id="payment-(\d+)"', html)]


def test_the_review_queue_is_paged_oldest_first(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    assert _upload(client, _queue_statement()).status_code == 303
    with _ctx(client).session() as db, db.begin():
        waiting = list(
            db.scalars(
                select(BankPayment.id)
                .where(BankPayment.status == "unmatched")
                .order_by(BankPayment.id)
            )
        )
    assert len(waiting) >= WAITING

    first = client.get("/office/bank")
    assert first.status_code == 200
    assert f'data-testid="queue-size">({len(waiting)})' in first.text
    assert _shown(first.text) == waiting[:50]
    following = re.search(
        r'href="(/office/bank\?after=\d+)"[^>]*data-testid="queue-next"', first.text
    )
    assert following, "no link to the next page"
    second = client.get(following.group(1))
    assert _shown(second.text) == waiting[50:100]
    assert 'data-testid="queue-first"' in second.text

    # a payment beyond the first page, asked about: its page, with its invoice search
    late = waiting[52]
    chosen = client.get(f"/office/bank?payment={late}&q=Ромашка")
    assert _shown(chosen.text)[0] == late
    partial = client.get(
        f"/office/bank/payments/{late}/accounts?account_q=Ромашка", headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200 and 'data-account="1"' in partial.text

    bad = client.get("/office/bank?after=-1")
    assert bad.status_code == 422


def test_the_deliveries_are_paged_newest_first(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _ctx(client)
    with ctx.session() as db:
        notifications.fan_out(db, clock=ctx.clock)
    with ctx.session() as db, db.begin():
        everyone = list(db.scalars(select(Delivery.id).order_by(Delivery.id.desc())))
        assert db.scalar(select(func.count()).select_from(Delivery)) == len(everyone) > 3
    monkeypatch.setattr(deliveries_page, "PER_PAGE", 2)
    client_log_in(client, VENDOR_OPERATOR)
    walked: list[int] = []
    url: str | None = "/office/deliveries"
    while url is not None:
        page = client.get(url)
        assert page.status_code == 200
        walked += [int(n) for n in re.findall(r'<tr data-delivery="(\d+)"', page.text)]
        older = re.search(r'href="([^"]+)"[^>]*data-testid="deliveries-older"', page.text)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert walked == everyone


BEYOND = "99999999999999999999"  # more than any row's id (a BIGINT's largest)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/office/bank?after={BEYOND}", 200),  # a cursor past the last: an empty page
        (f"/office/bank?payment={BEYOND}", 200),
        (f"/office/bank?credit={BEYOND}", 200),
        (f"/office/deliveries?after={BEYOND}", 200),
        (f"/office/payments?after={BEYOND}", 200),
        (f"/office/invoices?after={BEYOND}", 200),
        (f"/office/accounts/1/timeline?after={BEYOND}", 200),
        (f"/office/accounts/{BEYOND}", 404),  # an id in the path: no such row
        (f"/office/accounts/{BEYOND}/change", 404),
        (f"/office/documents/upd/{BEYOND}.pdf", 404),
        (f"/office/bank/payments/{BEYOND}/invoices?q=1", 404),
        (f"/portal/1/invoices/{BEYOND}", 404),
    ],
)
def test_an_id_or_cursor_beyond_every_id_is_no_server_error(
    client: TestClient, url: str, status: int
) -> None:
    """The driver overflowed on such a number (OverflowError on SQLite, "bigint out of
    range" on PostgreSQL): a 500 with an incident."""
    client_log_in(client, VENDOR_ADMIN)
    assert client.get(url).status_code == status
    token = csrf_of(client.get("/office/deliveries").text)
    posted = client.post(f"/office/deliveries/{BEYOND}/redeliver", data={"csrf_token": token})
    assert posted.status_code == 404
