"""License files of on-premise accounts: issued when a paid term starts or changes, signed
with the vendor's Ed25519 key, verifiable offline with its public key alone.

What is issued when:

- the worker (`issue_pending_licenses`) issues one file per paid invoice of an on-premise
  account that starts, extends or changes its term (kinds `order`, `renewal`, `change`),
  once: the table's unique `invoice_id` and the lock of the serial's sequence row keep
  two workers from issuing twice. An invoice that a later paid one of the same
  subscription supersedes gets none (the later one's file says more), nor does one whose
  subscription is no longer live (suspended, cancelled: its file would be expired);
- `issue_license` issues one now for the live subscription (the API, the CLI: a customer
  who lost its file, a new key); it takes the place of the worker's file when a paid
  invoice is still waiting for one, else it is tied to no invoice.

A file always says what the subscription is when it is issued: plan, seats, the features
of the plan and its add-ons in the subscription's catalog version, the term, the last paid
day and the last day of grace. Serials are gapless per year in their own series,
`LIC-2026-000001` (`TEST-LIC-2026-000001` for accounts on a test clock), the year of the
day of issue in the account's timezone.

Services never read settings: the private key is passed in by the entry points. The file
format and the verification, which need no database, are in `license_signing`.
"""

from __future__ import annotations

import base64
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from podpiska.accounts.models import Account
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import now_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, emit, get_or_404
from podpiska.entitlements.license_files.domain import (
    ONE_DAY,
    LicensePayload,
    Verdict,
    canonical_json,
    grace_until,
    granted_features,
    parse_payload,
)
from podpiska.entitlements.license_files.models import LicenseFile
from podpiska.entitlements.license_files.signing import (
    FILE_SUFFIX,
    key_id,
    license_text,
    sign,
    verify_license_text,
)
from podpiska.invoicing.models import Invoice
from podpiska.invoicing.numbers import take_numbers
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription

log = logging.getLogger(__name__)

__all__ = [
    "LICENSE_INVOICE_KINDS",
    "IssuedLicense",
    "Verdict",
    "has_pending_licenses",
    "issue_license",
    "issue_pending_licenses",
    "latest_license",
    "license_filename",
    "license_of",
    "license_serial",
    "list_licenses",
    "stored_text",
    "verify_license_text",
]

ON_PREMISE = "on_premise"
LICENSE_INVOICE_KINDS = ("order", "renewal", "change")  # paid, these start or change a term
LIVE_STATUSES = ("active", "grace")  # a file is issued for these only
LICENSE_SERIES = "license"
TEST_LICENSE_SERIES = "test_license"  # accounts on a test clock: never the real numbering
SYSTEM_LICENSES = "system:licenses"
BATCH = 200


def license_serial(year: int, value: int, *, test: bool = False) -> str:
    """`LIC-2026-000001`; accounts on a test clock read `TEST-LIC-2026-000001`."""
    return f"{'TEST-' if test else ''}LIC-{year}-{value:06d}"


def license_filename(row: LicenseFile) -> str:
    """`LIC-2026-000001.lic`."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in row.serial)
    return f"{safe}{FILE_SUFFIX}"


def stored_text(row: LicenseFile) -> str:
    """The file of a stored license, exactly as it was signed."""
    return license_text(
        row.payload.encode("utf-8"),
        base64.b64decode(row.signature),
        serial=row.serial,
        key_id=row.key_id,
    )


def license_of(row: LicenseFile) -> LicensePayload:
    """What a stored license says."""
    return parse_payload(row.payload.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class IssuedLicense:
    row: LicenseFile
    license: LicensePayload
    text: str


# -- issuing ---------------------------------------------------------------------------------


def _payload(
    session: Session,
    account: Account,
    subscription: Subscription,
    *,
    serial: str,
    now: datetime,
    key: str,
) -> LicensePayload:
    """What a file issued now says about the subscription. In a transaction."""
    if subscription.starts_on is None or subscription.ends_on is None:
        raise ValueError(f"subscription {subscription.id} has no paid term")
    version = catalog_in_force(session).version(subscription.catalog_version)
    return LicensePayload(
        serial=serial,
        account_id=account.id,
        account_name=account.name,
        inn=account.inn,
        edition=account.edition,
        plan=subscription.plan,
        users=subscription.seats,
        features=granted_features(
            version, subscription.plan, subscription.add_ons or (), account.edition
        ),
        term_start=subscription.starts_on,
        paid_through=subscription.ends_on - ONE_DAY,
        grace_until=grace_until(subscription.ends_on, version.lifecycle),
        issued_at=now,
        key_id=key,
    )


def _store(
    session: Session,
    payload: LicensePayload,
    *,
    subscription_id: int,
    invoice_id: int | None,
    private_key: Ed25519PrivateKey,
    today: date,
    actor: str,
) -> IssuedLicense:
    """Sign and store a license with its audit row and its `license.issued` event."""
    raw = canonical_json(payload)
    signature = sign(raw, private_key)
    row = LicenseFile(
        serial=payload.serial,
        account_id=payload.account_id,
        subscription_id=subscription_id,
        invoice_id=invoice_id,
        payload=raw.decode("utf-8"),
        signature=base64.b64encode(signature).decode("ascii"),
        key_id=payload.key_id,
        valid_until=payload.grace_until,
        issued_at=payload.issued_at,
        actor=actor,
    )
    session.add(row)
    session.flush()
    summary = {
        "serial": payload.serial,
        "invoice_id": invoice_id,
        "plan": payload.plan,
        "users": payload.users,
        "paid_through": payload.paid_through.isoformat(),
        "grace_until": payload.grace_until.isoformat(),
        "key_id": payload.key_id,
    }
    audit(
        session,
        actor=actor,
        action="license.issued",
        object_type="license_file",
        object_id=row.id,
        account_id=payload.account_id,
        at=payload.issued_at,
        after=summary,
    )
    emit(
        session,
        "license.issued",
        account_id=payload.account_id,
        subscription_id=subscription_id,
        occurred_on=today,
        at=payload.issued_at,
        license_id=row.id,
        **summary,
    )
    text = license_text(raw, signature, serial=payload.serial, key_id=payload.key_id)
    return IssuedLicense(row, payload, text)


def _account_time(session: Session, account: Account, clock: Clock) -> tuple[datetime, date]:
    """The account's instant, to the second (as signed), and its day in its timezone."""
    now = now_for(session, account, clock).replace(microsecond=0)
    return now, now.astimezone(ZoneInfo(account.timezone)).date()


def _series(account: Account) -> tuple[str, bool]:
    test = account.test_clock_id is not None
    return (TEST_LICENSE_SERIES if test else LICENSE_SERIES), test


def issue_license(
    session: Session,
    *,
    account_id: int,
    private_key: Ed25519PrivateKey,
    actor: str,
    clock: Clock,
) -> IssuedLicense:
    """A license file for the account's live paid subscription, now. Refused for cloud
    accounts (`license_not_on_premise`) and for subscriptions not paid now: pending,
    suspended, cancelled (`license_not_paid`; in grace it is issued, and says so)."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        if account.edition != ON_PREMISE:
            raise DomainError("license_not_on_premise", account_id=account_id)
        subscription = session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by((Subscription.status == "cancelled").asc(), Subscription.id.desc())
            .limit(1)
        ).first()
        if subscription is None:
            raise DomainError("no_subscription", account_id=account_id)
        if subscription.status not in LIVE_STATUSES:
            raise DomainError("license_not_paid", account_id=account_id, status=subscription.status)
        now, today = _account_time(session, account, clock)
        series, test = _series(account)
        serial = license_serial(today.year, take_numbers(session, series, today.year), test=test)
        # A paid invoice still waiting for the worker is this file's: the worker will not
        # issue a second one for it (checked under the lock of the serials, as it does).
        waiting = session.execute(
            _pending_query(1, 0).where(Invoice.subscription_id == subscription.id)
        ).first()
        payload = _payload(
            session, account, subscription, serial=serial, now=now, key=key_id(private_key)
        )
        return _store(
            session,
            payload,
            subscription_id=subscription.id,
            invoice_id=waiting[0] if waiting is not None else None,
            private_key=private_key,
            today=today,
            actor=actor,
        )


def _pending_query(batch: int, after: int) -> Select[int, Account, Subscription]:
    """Paid invoices of live on-premise subscriptions without a file, not superseded."""
    later = aliased(Invoice)
    superseded = exists().where(
        later.subscription_id == Invoice.subscription_id,
        later.status == "paid",
        later.kind.in_(LICENSE_INVOICE_KINDS),
        later.id > Invoice.id,
    )
    return (
        select(Invoice.id, Account, Subscription)
        .join(Account, Account.id == Invoice.account_id)
        .join(Subscription, Subscription.id == Invoice.subscription_id)
        .where(
            Invoice.id > after,
            Invoice.status == "paid",
            Invoice.kind.in_(LICENSE_INVOICE_KINDS),
            Account.edition == ON_PREMISE,
            Subscription.status.in_(LIVE_STATUSES),
            ~exists().where(LicenseFile.invoice_id == Invoice.id),
            ~superseded,
        )
        .order_by(Invoice.id)
        .limit(batch)
    )


def has_pending_licenses(session: Session) -> bool:
    """Whether a paid invoice waits for its license file."""
    with session.begin():
        return session.execute(_pending_query(1, 0)).first() is not None


def _issue_batch(
    session: Session,
    *,
    private_key: Ed25519PrivateKey,
    signer: str,
    clock: Clock,
    batch: int,
    after: int,
) -> tuple[int, int, int]:
    """Up to `batch` pending invoices after id `after`: (found, issued, last id seen).

    The serials of a (series, year) are taken under the lock of its sequence row, and the
    invoices are checked again under that lock: two workers never issue for one invoice,
    and a serial is never lost."""
    rows = session.execute(_pending_query(batch, after)).all()
    if not rows:
        return 0, 0, after
    groups: dict[tuple[str, bool, int], list[tuple[int, Account, Subscription, datetime]]] = (
        defaultdict(list)
    )
    for invoice_id, account, subscription in rows:
        now, today = _account_time(session, account, clock)
        series, test = _series(account)
        groups[(series, test, today.year)].append((invoice_id, account, subscription, now))
    issued = 0
    for (series, test, year), pending in sorted(groups.items(), key=lambda item: item[0]):
        take_numbers(session, series, year, 0)  # lock the sequence row of this series
        ids = [invoice_id for invoice_id, *_ in pending]
        done = set(
            session.scalars(select(LicenseFile.invoice_id).where(LicenseFile.invoice_id.in_(ids)))
        )
        ready: list[tuple[int, Account, Subscription, datetime, LicensePayload]] = []
        for invoice_id, account, subscription, now in pending:
            if invoice_id in done:
                continue
            try:  # everything but the serial: a file that cannot be made takes no number
                draft = _payload(session, account, subscription, serial="", now=now, key=signer)
            except (ValueError, KeyError, DomainError):
                log.exception("license for invoice %s cannot be made", invoice_id)
                continue
            ready.append((invoice_id, account, subscription, now, draft))
        if not ready:
            continue
        first = take_numbers(session, series, year, len(ready))
        for n, (invoice_id, account, subscription, now, draft) in enumerate(ready):
            payload = replace(draft, serial=license_serial(year, first + n, test=test))
            _store(
                session,
                payload,
                subscription_id=subscription.id,
                invoice_id=invoice_id,
                private_key=private_key,
                today=now.astimezone(ZoneInfo(account.timezone)).date(),
                actor=SYSTEM_LICENSES,
            )
            issued += 1
    return len(rows), issued, rows[-1][0]


def issue_pending_licenses(
    session: Session,
    *,
    private_key: Ed25519PrivateKey,
    clock: Clock,
    batch: int = BATCH,
    max_batches: int | None = None,
) -> int:
    """The worker's step: a license file for every paid invoice of an on-premise account
    that has none (see the module's docstring), `batch` per transaction, at most
    `max_batches` transactions (a queue job's bounded share; the rest waits for the next
    one). Returns how many were issued."""
    signer = key_id(private_key)
    total = batches = 0
    after = 0
    while True:
        with session.begin():
            found, issued, after = _issue_batch(
                session,
                private_key=private_key,
                signer=signer,
                clock=clock,
                batch=batch,
                after=after,
            )
        total += issued
        batches += 1
        if found < batch or (max_batches is not None and batches >= max_batches):
            return total


# -- reading ---------------------------------------------------------------------------------


def list_licenses(session: Session, *, account_id: int) -> list[LicenseFile]:
    """The account's license files, the latest first."""
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(LicenseFile)
                .where(LicenseFile.account_id == account_id)
                .order_by(LicenseFile.id.desc())
            )
        )


def latest_license(session: Session, *, account_id: int) -> LicenseFile:
    """The account's latest license file; `license_not_found` when it has none."""
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        found = session.scalars(
            select(LicenseFile)
            .where(LicenseFile.account_id == account_id)
            .order_by(LicenseFile.id.desc())
            .limit(1)
        ).first()
    if found is None:
        raise DomainError("license_not_found", account_id=account_id)
    return found
