"""Use-case: demo accounts in every state of the lifecycle, for `podpiska init --demo`.

Each account is written through the real use-cases at a moment in the past, then the daily
lifecycle run catches up to today, so the states are the ones the system itself reaches.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts import accounts
from podpiska.accounts.models import Account, ApiKey
from podpiska.catalog.models import CatalogDocument
from podpiska.catalog.store import catalog_in_force, latest_document
from podpiska.core.clocks import FixedTime
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import DEMO_ACTOR
from podpiska.invoicing.models import Invoice
from podpiska.payments.bank import domain as bank_statement
from podpiska.ports import Clock, PaymentGateway
from podpiska.subscriptions import billing, lifecycle, settlement, users
from podpiska.subscriptions.catalogs import load_catalog_text

ACTOR = DEMO_ACTOR  # plays each made-up customer too (their consent to autopay)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    name: str
    email: str
    inn: str | None
    plan: str
    months: int
    days_ago: int  # when it ordered
    pay: bool = True
    autopay: bool = False
    cancel: bool = False
    users: int = 0  # users to add besides the administrator
    add_ons: tuple[str, ...] = ()


DEMO = (
    DemoAccount(
        "ООО «Ромашка»",
        "admin@romashka.example",
        "7707083893",
        "standard",
        12,
        200,
        autopay=True,
        users=12,
        add_ons=("marketplace",),
    ),
    DemoAccount("ИП Петров П. П.", "petrov@example.ru", "500100732259", "basic", 1, 25, users=3),
    DemoAccount("ООО «Вектор»", "it@vector.example", "7736050003", "professional", 1, 40, users=20),
    DemoAccount("ООО «Старт»", "hello@start.example", None, "basic", 1, 80),
    DemoAccount(
        "ООО «Новые горизонты»", "buh@horizons.example", "7702070139", "standard", 6, 2, pay=False
    ),
    DemoAccount("АО «Прощай»", "ceo@bye.example", None, "standard", 3, 30, cancel=True),
    DemoAccount(
        "ООО «Автоплатёж»", "fin@autopay.example", "7710140679", "basic", 1, 27, autopay=True
    ),
)


def _demo_apps(session: Session, clock: Clock) -> None:
    """The demo app registry (4 000 apps), and a few installed where the account may."""
    from podpiska.catalog import apps as app_registry
    from podpiska.entitlements import apps

    registry = app_registry.demo_registry(4000)
    app_registry.load_registry(session, registry, actor=ACTOR, clock=clock)
    with session.begin():
        ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    wanted = [e["code"] for e in registry if e["kind"] in ("migrator", "vendor_basic")][:3]
    wanted += [e["code"] for e in registry if e["kind"] == "regular"][:2]
    for account_id in ids:
        for code in wanted:
            try:
                apps.install_app(session, account_id=account_id, app_code=code, actor=ACTOR,
                                 clock=clock)  # fmt: skip
            except DomainError:
                continue  # not entitled: the demo shows both answers


def _pay_by_card(
    session: Session,
    gateway: PaymentGateway,
    pay_with_test_card: Callable[[str], str],
    invoice_id: int,
    *,
    clock: Clock,
) -> None:
    """The customer pays at the gateway's checkout and keeps the card for autopay."""
    from podpiska.payments.checkout import refresh_invoice_payment, start_checkout

    attempt = start_checkout(
        session,
        gateway,
        invoice_id=invoice_id,
        method_type="bank_card",
        save_method=True,
        consent_accepted=True,
        return_url=None,
        actor=ACTOR,
        clock=clock,
    )
    pay_with_test_card(str(attempt.external_id))
    refresh_invoice_payment(session, gateway, invoice_id=invoice_id, clock=clock)


def has_accounts(session: Session) -> bool:
    with session.begin():
        return bool(session.scalar(select(func.count()).select_from(Account)))


def create_demo(
    session: Session,
    *,
    clock: Clock,
    gateway: PaymentGateway | None = None,
    pay_with_test_card: Callable[[str], str] | None = None,
) -> list[tuple[str, str]]:
    """The demo accounts; returns (name, state) for each. The catalog must be loaded.

    An account with autopay pays its first invoice by card at the gateway and keeps the card
    (the customer's consent given at the checkout), so its autopay has a method to charge;
    without a test card to pay with (a real gateway) it pays by bank transfer, autopay off."""
    now = clock.now()
    by_card = gateway is not None and pay_with_test_card is not None
    with session.begin():
        catalog = catalog_in_force(session)
    first_day = clock.today(catalog.timezone) - timedelta(days=max(d.days_ago for d in DEMO))
    for demo in sorted(DEMO, key=lambda d: -d.days_ago):
        then = FixedTime(now - timedelta(days=demo.days_ago))
        account = accounts.open_account(
            session, name=demo.name, admin_email=demo.email, inn=demo.inn, actor=ACTOR, clock=then
        )
        for n in range(demo.users):
            local = demo.email.split("@")[1]
            users.add_user(
                session,
                account_id=account.id,
                email=f"user{n + 1}@{local}",
                actor=ACTOR,
                clock=then,
            )
        order = billing.order_subscription(
            session,
            account_id=account.id,
            plan=demo.plan,
            months=demo.months,
            add_ons=demo.add_ons,
            autopay=demo.autopay and by_card,
            actor=ACTOR,
            clock=then,
        )
        if demo.pay and demo.autopay and gateway is not None and pay_with_test_card is not None:
            _pay_by_card(session, gateway, pay_with_test_card, order.invoice.id, clock=then)
        elif demo.pay:
            settlement.register_payment(
                session,
                invoice_id=order.invoice.id,
                amount=Decimal(order.invoice.total),
                method="bank_transfer",
                external_id=f"demo-{account.id}",
                actor=ACTOR,
                clock=then,
            )
        if demo.cancel:
            billing.cancel_subscription(session, account_id=account.id, actor=ACTOR, clock=then)
    lifecycle.run_lifecycle(session, at=clock.today(catalog.timezone), clock=clock, since=first_day)
    _demo_apps(session, clock)
    add_demo_price_plan(session, clock=clock)
    with session.begin():
        rows = session.execute(select(Account.id, Account.name).order_by(Account.id)).all()
    result = []
    for account_id, name in rows:
        try:
            state = billing.get_subscription(session, account_id).status
        except DomainError:  # a cancelled one has no live subscription
            state = "cancelled"
        result.append((name, state))
    return result


# The demo's price plan: dearer plans from a day two months ahead, and the subscribers moved
# to them at renewal, the basic plan's first, everyone a month later (docs/catalog.md).
PRICE_PLAN_CODE = "demo-prices"
PRICE_RISE_PERCENT = 10
PRICE_PLAN_STARTS_IN_DAYS = 60
PRICE_PLAN_EVERYONE_IN_DAYS = 90


def _risen(price: object) -> int:
    """A monthly price raised by PRICE_RISE_PERCENT, ending in 90 like the catalog's own."""
    raised = Decimal(str(price)) * (100 + PRICE_RISE_PERCENT) / 100
    return int((raised / 100).to_integral_value(rounding=ROUND_CEILING)) * 100 - 10


def demo_price_plan(text: str, *, today: date) -> str | None:
    """The catalog text with a new version (plans PRICE_RISE_PERCENT dearer) and a
    `migrations:` plan moving subscribers to it at renewal, dated from `today`; None when
    the catalog has migration plans of its own or does not end with its `versions:` list
    (the plan is appended to the text, which keeps the file's comments)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "migrations" in data or list(data)[-1:] != ["versions"]:
        return None
    starts = today + timedelta(days=PRICE_PLAN_STARTS_IN_DAYS)
    everyone = today + timedelta(days=PRICE_PLAN_EVERYONE_IN_DAYS)
    version = copy.deepcopy(data["versions"][-1])
    version["version"] = f"{starts:%Y.%m.%d}"
    version["effective_from"] = starts
    for plan in version.get("plans", []):
        plan["monthly_price"] = _risen(plan["monthly_price"])
    plan = {
        "code": PRICE_PLAN_CODE,
        "name": {
            "ru": f"Новые цены с {starts:%d.%m.%Y} (демо)",
            "en": f"New prices from {starts:%Y-%m-%d} (demo)",
        },
        "kind": "version",
        "to_version": version["version"],
        "mode": "at_renewal",
        "notify_days": [30, 7],
        "cohorts": [
            {"code": "basic", "cut_over": starts, "select": {"plans": ["basic"]}},
            {"code": "everyone", "cut_over": everyone},
        ],
    }

    def dump(data: object) -> str:
        return yaml.safe_dump(
            data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
        )

    appended = textwrap.indent(dump([version]), "  ")
    return (
        text.rstrip("\n")
        + f"\n\n  # The demo's price plan, added by `podpiska init --demo` on {today}.\n"
        + appended
        + "\n"
        + dump({"migrations": [plan]})
    )


def add_demo_price_plan(session: Session, *, clock: Clock) -> str | None:
    """Load the catalog in force again with the demo's price plan; returns the plan's code,
    or None when the catalog has plans of its own."""
    with session.begin():
        catalog = catalog_in_force(session)
        latest = session.execute(latest_document()).one()
        content = session.scalar(
            select(CatalogDocument.content).where(CatalogDocument.id == latest[0])
        )
        source = session.scalar(
            select(CatalogDocument.source).where(CatalogDocument.id == latest[0])
        )
    text = demo_price_plan(content or "", today=clock.today(catalog.timezone))
    if text is None:
        return None
    load_catalog_text(
        session, text=text, source=f"{source} + demo price plan", actor=ACTOR, clock=clock
    )
    return PRICE_PLAN_CODE


DEMO_BANK_ACCOUNT = "40702810900000000001"  # the vendor's account in the demo statement
UNMATCHED_PURPOSE = "Оплата по договору за ноябрь, без счёта. НДС не облагается"


def demo_statement(session: Session, *, clock: Clock, our_accounts: frozenset[str]) -> bytes:
    """A 1C statement to try `bank import` with: each customer's unpaid invoice paid by bank
    transfer with its number in the purpose (matched), and one payment naming no invoice
    (left for the review queue). Accounts on test clocks are left out."""
    now = clock.now()
    with session.begin():
        zone = catalog_in_force(session).timezone
        unpaid = session.execute(
            select(Invoice.number, Invoice.total, Invoice.amount_paid, Account.name, Account.inn)
            .join(Account, Account.id == Invoice.account_id)
            .where(
                Invoice.status == "issued",
                Invoice.number.is_not(None),
                Account.test_clock_id.is_(None),
            )
            .order_by(Invoice.id)
        ).all()
    today = clock.today(zone)
    account = min(our_accounts) if our_accounts else DEMO_BANK_ACCOUNT
    documents = [
        bank_statement.BankDocument(
            kind="Платежное поручение",
            number=str(100 + n),
            day=today,
            amount=Decimal(total) - Decimal(paid),
            payer=name,
            payer_inn=inn or "",
            payer_account=f"40702810{n:012d}",
            recipient_account=account,
            purpose=f"Оплата по счёту № {number}, в т.ч. НДС",
            line=0,
        )
        for n, (number, total, paid, name, inn) in enumerate(unpaid, 1)
    ]
    documents.append(
        bank_statement.BankDocument(
            kind="Платежное поручение",
            number="777",
            day=today,
            amount=Decimal("4990.00"),
            payer="ООО «Неизвестный плательщик»",
            payer_inn="7728168971",
            payer_account="40702810500000000777",
            recipient_account=account,
            purpose=UNMATCHED_PURPOSE,
            line=0,
        )
    )
    return bank_statement.write(
        documents,
        account=account,
        starts_on=today - timedelta(days=1),
        ends_on=today,
        created=now.astimezone(ZoneInfo(zone)),
    )


# The demo's logins to the web application: deterministic passwords, for the demo only. An
# account_admin runs the demo account whose administrator e-mail is theirs.
DEMO_PEOPLE = (
    ("admin@podpiska.example", "vendor_admin", "demo-vendor-admin"),
    ("operator@podpiska.example", "vendor_operator", "demo-vendor-operator"),
    ("admin@romashka.example", "account_admin", "demo-romashka-admin"),
)
DEMO_CUSTOMER_EMAIL = "admin@romashka.example"  # the demo account its account_admin runs
DEMO_KEY_NAME = "demo admin"  # the vendor_admin API key `podpiska init --demo` makes


def demo_credentials(session: Session) -> list[str]:
    """The doors `podpiska init --demo` left open: demo people who still log in with their
    published demo password, and demo API keys not revoked. Production refuses to start
    while there is any."""
    from podpiska.accounts import people

    found = [
        f"{email} logs in with its demo password"
        for email, _, password in (*DEMO_PEOPLE, DEMO_RENEWER)
        if people.password_is(session, email=email, password=password)
    ]
    with session.begin():
        keys = session.scalars(
            select(ApiKey.prefix).where(ApiKey.name == DEMO_KEY_NAME, ApiKey.revoked_at.is_(None))
        ).all()
    found += [f"demo API key {prefix} is not revoked" for prefix in keys]
    return found


# ИП Петров: a month bought 25 days before the demo's day, so its renewal window is open and
# a customer can try renewing and paying (Ромашка's renewal opens months later).
DEMO_RENEWER = ("petrov@example.ru", "account_admin", "demo-petrov-admin")


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    role: str
    password: str
    account_id: int | None = None
    can_renew: bool = False  # an account_admin whose account may be renewed today
    renewal_opens_on: date | None = None  # else, from when


def create_demo_people(session: Session, *, clock: Clock) -> list[DemoLogin]:
    """One person of each role, and a second account_admin whose account can be renewed
    today; returns each login with whether its account can renew. People already there are
    left as they are (and listed: the demo passwords are the same every time)."""
    from podpiska.accounts import people

    made = []
    for email, role, password in (*DEMO_PEOPLE, DEMO_RENEWER):
        account_id = None
        if role == "account_admin":
            with session.begin():
                account_id = session.scalar(
                    select(Account.id)
                    .where(Account.admin_email == email)
                    .order_by(Account.id)
                    .limit(1)
                )
            if account_id is None:
                continue  # a database with other accounts than the demo's
        try:
            people.create_person(
                session,
                email=email,
                role=role,
                account_id=account_id,
                password=password,
                actor=ACTOR,
                clock=clock,
            )
        except DomainError as error:
            if error.code != "person_exists":
                raise
        if account_id is None:
            made.append(DemoLogin(email, role, password))
            continue
        try:
            offers = billing.renewal_offers(session, account_id=account_id, clock=clock)
        except DomainError:
            made.append(DemoLogin(email, role, password, account_id))
            continue
        made.append(DemoLogin(email, role, password, account_id, offers.can_renew, offers.opens_on))
    return made
