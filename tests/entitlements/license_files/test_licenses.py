"""License files through the real use-cases, on SQLite and PostgreSQL: the worker step
issues one per paid invoice of an on-premise account (order, renewal, change), exactly
once, with gapless serials; cloud accounts get none; `issue_license` refuses what is not
paid; a file verifies offline with the public key alone, and tampering, another key and
garbage are told apart from an expired license."""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.core import clocks
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry
from podpiska.entitlements.decisions import check_entitlement
from podpiska.entitlements.license_files.domain import LicenseStatus, canonical_json
from podpiska.entitlements.license_files.licenses import (
    issue_license,
    issue_pending_licenses,
    latest_license,
    license_of,
    list_licenses,
    stored_text,
    verify_license_text,
)
from podpiska.entitlements.license_files.models import LicenseFile
from podpiska.entitlements.license_files.signing import (
    BEGIN_LICENSE,
    END_LICENSE,
    key_id,
    load_private_key,
    load_public_key,
    parse_license_text,
    private_key_pem,
    public_key_pem,
)
from podpiska.invoicing.models import NumberSequence
from podpiska.subscriptions import billing, changes, lifecycle
from tests.helpers import (
    ACTOR,
    GOOD_INN,
    START,
    count,
    events,
    move_to,
    open_account,
    order,
    pay,
)

SECRET = "a-test-secret-for-change-tokens"
TODAY = START.date()  # 2026-11-22


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def on_premise(db: Session, clock: FixedClock, **kw: object) -> int:
    account = open_account(db, clock, edition="on_premise", inn=GOOD_INN, **kw)  # type: ignore[arg-type]
    return account.id


def paid_order(db: Session, clock: FixedClock, account_id: int, **kw: object) -> int:
    ordered = order(db, clock, account_id, **kw)  # type: ignore[arg-type]
    pay(db, clock, ordered.invoice)
    return ordered.invoice.id


def run(db: Session, clock: FixedClock, key: Ed25519PrivateKey, **kw: object) -> int:
    return issue_pending_licenses(db, private_key=key, clock=clock, **kw)  # type: ignore[arg-type]


def files(db: Session) -> list[LicenseFile]:
    with db.begin():
        return list(db.scalars(select(LicenseFile).order_by(LicenseFile.id)))


def uncached_reason(db: Session, clock: FixedClock, account_id: int, action: str) -> str:
    return check_entitlement(db, account_id=account_id, action=action, clock=clock).reason


def refused(call: object) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()  # type: ignore[operator]
    return info.value


def test_a_paid_order_of_an_on_premise_account_gets_one_license_file_exactly_once(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)
    ordered = order(db, clock, account_id, plan="standard", months=12, add_ons=["marketplace"])
    assert run(db, clock, key) == 0  # not paid yet: nothing
    pay(db, clock, ordered.invoice)

    assert run(db, clock, key) == 1
    assert run(db, clock, key) == 0  # once
    (row,) = files(db)
    assert (row.serial, row.account_id, row.invoice_id) == (
        "LIC-2026-000001",
        account_id,
        ordered.invoice.id,
    )
    assert row.key_id == key_id(key)
    assert row.valid_until == date(2027, 12, 21)
    assert row.actor == "system:licenses"
    payload = license_of(row)
    assert row.payload.encode() == canonical_json(payload)  # stored exactly as signed
    assert (payload.account_name, payload.inn, payload.edition) == (
        "ООО «Ромашка»",
        GOOD_INN,
        "on_premise",
    )
    assert (payload.plan, payload.users) == ("standard", 50)
    assert payload.features == (
        "apps",
        "crm",
        "documents",
        "drive",
        "integrations",
        "local_apps",
        "marketing",
        "online_shop",
        "rest_api",
        "sites",
        "tasks",
        "webhooks",
    )
    assert (payload.term_start, payload.paid_through, payload.grace_until) == (
        TODAY,
        date(2027, 11, 21),
        date(2027, 12, 21),
    )
    assert payload.issued_at == START.astimezone(UTC)
    # Audited, and an event for e-mails and webhooks.
    (issued,) = events(db, "license.issued")
    assert issued.account_id == account_id
    assert issued.payload["serial"] == "LIC-2026-000001"
    assert issued.payload["invoice_id"] == ordered.invoice.id
    assert issued.payload["grace_until"] == "2027-12-21"
    assert count(db, AuditEntry, AuditEntry.action == "license.issued") == 1

    # The stored file verifies with the public key alone.
    verdict = verify_license_text(stored_text(row), public_key_pem(key), TODAY)
    assert verdict.status is LicenseStatus.VALID
    assert verdict.license == payload


def test_a_renewal_gets_a_new_file_with_the_new_term(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)
    paid_order(db, clock, account_id, months=1)  # through 2026-12-21
    assert run(db, clock, key) == 1
    move_to(clock, date(2026, 12, 10))
    renewal = billing.renew_subscription(db, account_id=account_id, actor=ACTOR, clock=clock)
    assert run(db, clock, key) == 0  # an unpaid renewal: nothing yet
    pay(db, clock, renewal)

    assert run(db, clock, key) == 1
    first, second = files(db)
    assert second.invoice_id == renewal.id
    assert second.serial == "LIC-2026-000002"
    renewed = license_of(second)
    assert (renewed.term_start, renewed.paid_through, renewed.grace_until) == (
        date(2026, 12, 22),
        date(2027, 1, 21),
        date(2027, 2, 20),
    )
    assert license_of(first).paid_through == date(2026, 12, 21)
    assert [row.serial for row in list_licenses(db, account_id=account_id)] == [
        "LIC-2026-000002",
        "LIC-2026-000001",
    ]
    assert latest_license(db, account_id=account_id).id == second.id


def test_a_paid_upgrade_gets_a_file_with_the_new_plan(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)
    ordered = order(db, clock, account_id, plan="basic", months=12)
    pay(db, clock, ordered.invoice)
    run(db, clock, key)
    move_to(clock, date(2027, 2, 1))
    shown = changes.preview_change(
        db,
        subscription_id=ordered.subscription.id,
        kind="plan",
        params={"plan": "standard"},
        secret=SECRET,
        clock=clock,
    )
    done = changes.commit_change(
        db,
        subscription_id=ordered.subscription.id,
        token=shown.token,
        secret=SECRET,
        actor=ACTOR,
        clock=clock,
    )
    assert done.invoice is not None
    pay(db, clock, done.invoice)

    assert run(db, clock, key) == 1
    latest = latest_license(db, account_id=account_id)
    assert latest.invoice_id == done.invoice.id
    assert latest.serial == "LIC-2027-000001"  # a new year, a new series of serials
    payload = license_of(latest)
    assert (payload.plan, payload.users) == ("standard", 50)
    assert "marketing" in payload.features
    assert payload.paid_through == date(2027, 11, 21)


def test_an_on_premise_file_grants_what_the_cloud_only_marketplace_rule_would_sell(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    """The marketplace rule is cloud-only: the license file of an on-premise account
    without the Marketplace grants apps, the REST API and webhooks, as its entitlement
    answers do (the product reading the file never tells it to buy the Marketplace)."""
    account_id = on_premise(db, clock)
    paid_order(db, clock, account_id, plan="standard", months=12)
    assert run(db, clock, key) == 1
    payload = license_of(latest_license(db, account_id=account_id))
    assert {"apps", "rest_api", "webhooks", "local_apps"} <= set(payload.features)
    assert uncached_reason(db, clock, account_id, "rest_api.call") == "outside_marketplace_rule"


def test_cloud_accounts_get_no_license_files(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    cloud = open_account(db, clock)
    paid_order(db, clock, cloud.id)
    assert run(db, clock, key) == 0
    assert files(db) == []
    error = refused(
        lambda: issue_license(db, account_id=cloud.id, private_key=key, actor=ACTOR, clock=clock)
    )
    assert (error.code, error.kind) == ("license_not_on_premise", Kind.CONFLICT)
    assert "on-premise" in error.message("en")


def test_serials_are_gapless_and_each_invoice_gets_one(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    invoices = []
    for n in range(5):
        account_id = on_premise(db, clock, name=f"ООО «Сервер {n}»")
        invoices.append(paid_order(db, clock, account_id))
    cloud = open_account(db, clock)
    paid_order(db, clock, cloud.id)

    assert run(db, clock, key, batch=2) == 5  # in batches of 2, one transaction each
    rows = files(db)
    assert [row.serial for row in rows] == [f"LIC-2026-00000{n}" for n in range(1, 6)]
    assert [row.invoice_id for row in rows] == invoices
    # A manual issue takes the next serial of the same series.
    extra = issue_license(
        db, account_id=rows[0].account_id, private_key=key, actor=ACTOR, clock=clock
    )
    assert extra.row.serial == "LIC-2026-000006"
    assert extra.row.invoice_id is None
    assert run(db, clock, key) == 0


@pytest.mark.postgres_only
def test_two_workers_at_once_issue_each_file_once_without_gaps(
    db: Session,
    clock: FixedClock,
    key: Ed25519PrivateKey,
    session_factory: sessionmaker[Session],
) -> None:
    invoices = [paid_order(db, clock, on_premise(db, clock)) for _ in range(8)]
    barrier = threading.Barrier(3, timeout=30)

    def worker(_: int) -> int:
        with session_factory() as session:
            barrier.wait()
            return issue_pending_licenses(session, private_key=key, clock=clock, batch=3)

    with ThreadPoolExecutor(max_workers=3) as pool:
        issued = sum(pool.map(worker, range(3)))

    rows = files(db)
    assert issued == len(rows) == 8
    assert sorted(row.serial for row in rows) == [f"LIC-2026-{n:06d}" for n in range(1, 9)]
    assert sorted(row.invoice_id or 0 for row in rows) == invoices
    with db.begin():
        sequence = db.get(NumberSequence, ("license", 2026))
        assert sequence is not None and sequence.last_value == 8


def test_a_file_issued_before_the_worker_ran_is_the_invoices_file(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)
    invoice_id = paid_order(db, clock, account_id)

    now = issue_license(db, account_id=account_id, private_key=key, actor=ACTOR, clock=clock)

    assert now.row.invoice_id == invoice_id
    assert now.row.actor == ACTOR
    assert run(db, clock, key) == 0  # not a second file for the same payment
    again = issue_license(db, account_id=account_id, private_key=key, actor=ACTOR, clock=clock)
    assert again.row.invoice_id is None  # the invoice has its file: this one is extra
    assert [row.serial for row in files(db)] == ["LIC-2026-000001", "LIC-2026-000002"]


def test_an_invoice_superseded_before_the_worker_ran_gets_no_file_of_its_own(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)
    order_id = paid_order(db, clock, account_id, months=1)
    move_to(clock, date(2026, 12, 10))
    renewal = billing.renew_subscription(db, account_id=account_id, actor=ACTOR, clock=clock)
    pay(db, clock, renewal)

    assert run(db, clock, key) == 1  # the renewal's file says it all
    (row,) = files(db)
    assert row.invoice_id == renewal.id
    assert row.invoice_id != order_id
    assert license_of(row).paid_through == date(2027, 1, 21)


def test_accounts_on_a_test_clock_have_their_own_serials(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    test_clock = clocks.create_test_clock(
        db, name="demo", now=datetime(2027, 3, 1, 9, 0, tzinfo=UTC), actor=ACTOR, clock=clock
    )
    on_clock = on_premise(db, clock, test_clock_id=test_clock.id)
    paid_order(db, clock, on_clock)
    real = on_premise(db, clock)
    paid_order(db, clock, real)

    assert run(db, clock, key) == 2
    by_account = {row.account_id: row for row in files(db)}
    assert by_account[real].serial == "LIC-2026-000001"
    assert by_account[on_clock].serial == "TEST-LIC-2027-000001"  # the test clock's year
    assert license_of(by_account[on_clock]).term_start == date(2027, 3, 1)


def test_issue_now_refuses_what_is_not_paid(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)

    def issue() -> object:
        return issue_license(db, account_id=account_id, private_key=key, actor=ACTOR, clock=clock)

    nothing = refused(issue)
    assert (nothing.code, nothing.kind) == ("no_subscription", Kind.NOT_FOUND)
    ordered = order(db, clock, account_id, months=1)
    pending = refused(issue)
    assert (pending.code, pending.kind) == ("license_not_paid", Kind.CONFLICT)
    assert pending.message("en") == (
        f"Account {account_id} has no paid subscription (state 'awaiting payment'): "
        "a license file is issued for a paid term."
    )
    unknown = refused(
        lambda: issue_license(db, account_id=999, private_key=key, actor=ACTOR, clock=clock)
    )
    assert unknown.code == "not_found"
    pay(db, clock, ordered.invoice)
    assert issue_license(db, account_id=account_id, private_key=key, actor=ACTOR, clock=clock)

    # In grace a file is issued (it says read-only); suspended, it is refused.
    move_to(clock, date(2026, 12, 23))
    lifecycle.run_lifecycle(db, at=date(2026, 12, 23), clock=clock)
    in_grace = issue_license(db, account_id=account_id, private_key=key, actor=ACTOR, clock=clock)
    verdict = verify_license_text(in_grace.text, public_key_pem(key), date(2026, 12, 23))
    assert (verdict.status, verdict.read_only) == (LicenseStatus.GRACE, True)
    move_to(clock, date(2027, 1, 25))
    lifecycle.run_lifecycle(db, at=date(2027, 1, 25), clock=clock)
    suspended = refused(issue)
    assert (suspended.code, suspended.kind) == ("license_not_paid", Kind.CONFLICT)
    assert "suspended" in suspended.message("en")
    # A refused issue takes no serial.
    assert [row.serial for row in files(db)] == ["LIC-2026-000001", "LIC-2026-000002"]


def test_a_suspended_subscription_gets_no_file_from_the_worker(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    account_id = on_premise(db, clock)
    paid_order(db, clock, account_id, months=1)
    move_to(clock, date(2027, 1, 25))
    lifecycle.run_lifecycle(db, at=date(2027, 1, 25), clock=clock)  # grace, then suspended
    assert run(db, clock, key) == 0


# -- verifying a file ------------------------------------------------------------------------


@pytest.fixture
def issued_text(db: Session, clock: FixedClock, key: Ed25519PrivateKey) -> str:
    account_id = on_premise(db, clock)
    paid_order(db, clock, account_id, months=12)  # paid through 2027-11-21
    return issue_license(db, account_id=account_id, private_key=key, actor=ACTOR, clock=clock).text


def test_verify_by_date_valid_then_grace_then_expired(
    issued_text: str, key: Ed25519PrivateKey
) -> None:
    public = public_key_pem(key)
    valid = verify_license_text(issued_text, public, date(2027, 11, 21))
    assert (valid.status, valid.valid, valid.read_only) == (LicenseStatus.VALID, True, False)
    grace = verify_license_text(issued_text, public, date(2027, 11, 22))
    assert (grace.status, grace.valid, grace.read_only) == (LicenseStatus.GRACE, True, True)
    assert "read-only" in grace.message("en")
    expired = verify_license_text(issued_text, public, date(2027, 12, 22))
    assert (expired.status, expired.code, expired.valid) == (
        LicenseStatus.EXPIRED,
        "license_expired",
        False,
    )


def test_a_changed_payload_byte_is_tampered(issued_text: str, key: Ed25519PrivateKey) -> None:
    signed = parse_license_text(issued_text)
    forged = signed.payload.replace(b'"users":5', b'"users":9')
    assert forged != signed.payload
    lines = issued_text.splitlines()
    start, end = lines.index(BEGIN_LICENSE), lines.index(END_LICENSE)
    body = base64.b64encode(forged).decode()
    text = "\n".join([*lines[: start + 4], body, *lines[end:]])
    verdict = verify_license_text(text, public_key_pem(key), TODAY)
    assert (verdict.status, verdict.code, verdict.valid) == (
        LicenseStatus.TAMPERED,
        "license_tampered",
        False,
    )
    assert verdict.license is None  # nothing of it can be trusted
    assert "changed after it was signed" in verdict.message("en")
    assert "изменён" in verdict.message("ru")


def test_a_changed_signature_is_tampered(issued_text: str, key: Ed25519PrivateKey) -> None:
    signed = parse_license_text(issued_text)
    bad = bytes([signed.signature[0] ^ 1]) + signed.signature[1:]
    text = issued_text.replace(signed.signature_b64[:40], base64.b64encode(bad).decode()[:40])
    assert text != issued_text
    assert verify_license_text(text, public_key_pem(key), TODAY).code == "license_tampered"


def test_a_changed_header_is_tampered(issued_text: str, key: Ed25519PrivateKey) -> None:
    text = issued_text.replace("Serial: LIC-2026-000001", "Serial: LIC-2026-000099")
    verdict = verify_license_text(text, public_key_pem(key), TODAY)
    assert verdict.code == "license_tampered"
    assert "header serial" in verdict.message("en")


def test_a_file_signed_by_another_key_is_the_wrong_key(
    issued_text: str, key: Ed25519PrivateKey
) -> None:
    other = Ed25519PrivateKey.generate()
    verdict = verify_license_text(issued_text, public_key_pem(other), TODAY)
    assert (verdict.status, verdict.code) == (LicenseStatus.WRONG_KEY, "license_wrong_key")
    assert verdict.details == {"key_id": key_id(key), "expected_key_id": key_id(other)}
    assert key_id(key) in verdict.message("en")


def short_signature(text: str) -> str:
    """The file with a signature of 3 bytes."""
    lines = text.splitlines()
    start = lines.index("-----BEGIN PODPISKA SIGNATURE-----")
    end = lines.index("-----END PODPISKA SIGNATURE-----")
    return "\n".join([*lines[: start + 1], "AAAA", *lines[end:]])


def test_garbage_is_malformed(issued_text: str, key: Ed25519PrivateKey) -> None:
    public = public_key_pem(key)
    for text in (
        "",
        "hello",
        issued_text.replace(END_LICENSE, ""),
        issued_text.replace("-----BEGIN PODPISKA SIGNATURE-----", "x"),
        issued_text.replace(parse_license_text(issued_text).signature_b64[:8], "!!!!!!!!"),
        short_signature(issued_text),
        b"\xff\xfe\x00",
    ):
        verdict = verify_license_text(text, public, TODAY)
        assert (verdict.status, verdict.code) == (LicenseStatus.MALFORMED, "license_malformed")
        assert not verdict.valid


def test_the_file_survives_crlf_wrapping_and_surrounding_text(
    issued_text: str, key: Ed25519PrivateKey
) -> None:
    signed = parse_license_text(issued_text)
    lines = issued_text.splitlines()
    start, end = lines.index(BEGIN_LICENSE), lines.index(END_LICENSE)
    rewrapped = base64.b64encode(signed.payload).decode()
    body = [rewrapped[i : i + 50] for i in range(0, len(rewrapped), 50)]
    mangled = "\r\n".join(
        [
            "Здравствуйте! Ваш файл лицензии:",
            "",
            *[f"   {line}  " for line in lines[start : start + 4]],
            *body,
            *lines[end:],
            "-- ",
            "С уважением",
        ]
    )
    verdict = verify_license_text(mangled, public_key_pem(key), TODAY)
    assert verdict.status is LicenseStatus.VALID
    assert verdict.license is not None and verdict.license.serial == "LIC-2026-000001"


def test_the_file_is_ascii_and_carries_serial_and_key_id(
    issued_text: str, key: Ed25519PrivateKey
) -> None:
    assert issued_text.isascii()
    assert issued_text.endswith("\n")
    assert "Serial: LIC-2026-000001" in issued_text
    assert f"Key-Id: {key_id(key)}" in issued_text
    assert all(len(line) <= 100 for line in issued_text.splitlines())
    payload = json.loads(parse_license_text(issued_text).payload)
    assert payload["account_name"] == "ООО «Ромашка»"


def test_keys_round_trip_through_pem(key: Ed25519PrivateKey) -> None:
    loaded = load_private_key(private_key_pem(key))
    assert key_id(loaded) == key_id(key)
    assert len(key_id(key)) == 16
    public = load_public_key(public_key_pem(key))
    assert key_id(public) == key_id(key)
    assert key_id(load_public_key(private_key_pem(key))) == key_id(key)  # a private PEM too
    for garbage in (b"", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"):
        with pytest.raises(DomainError) as info:
            load_public_key(garbage, source="k.pem")
        assert info.value.code == "license_key_invalid"
        assert info.value.kind == Kind.INVALID


def test_the_e_mail_of_a_license_carries_the_signed_file(
    db: Session, clock: FixedClock, key: Ed25519PrivateKey
) -> None:
    """`license.issued` is e-mailed to the account's administrator with its own text and
    the file attached, exactly as stored, which verifies with the vendor's public key."""
    from podpiska.notifications import fanout as notifications
    from podpiska.ports import EmailMessage, WebhookRequest, WebhookResponse

    account_id = on_premise(db, clock)
    paid_order(db, clock, account_id, plan="standard", months=12)
    assert run(db, clock, key) == 1
    (row,) = files(db)
    sent: list[EmailMessage] = []

    class Mailer:
        def send(self, message: EmailMessage) -> None:
            sent.append(message)

    class Webhooks:
        def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
            return WebhookResponse(200)

    notifications.fan_out(db, clock=clock)
    notifications.deliver_due(db, mailer=Mailer(), webhooks=Webhooks(), clock=clock)
    (message,) = [m for m in sent if m.headers["X-Podpiska-Event"] == "license.issued"]
    assert message.subject == "Файл лицензии LIC-2026-000001"
    assert "тариф «Стандартный», пользователей: 50" in message.text, message.text
    (attachment,) = message.attachments
    assert attachment.filename == "LIC-2026-000001.lic"
    text = attachment.content.decode("ascii")
    assert text == stored_text(row)
    verdict = verify_license_text(text, public_key_pem(key), TODAY)
    assert verdict.status is LicenseStatus.VALID
