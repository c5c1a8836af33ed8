"""Request and response bodies of the API. Amounts are strings with two decimals.

Input goes through a few reusable types, so a rule lives in one place: `Amount` (money,
through `parse_money`), `Name`/`Code`/`Line` (one line of text, capped), `BodyId` (a row's
id), `Moment` (a time, aware and in a sane window); and every request body (`In`) refuses a
NUL, another control character or a lone surrogate in any of its strings, and caps them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from podpiska.core.db.models import (
    Account,
    AccountUser,
    Invoice,
    InvoiceLine,
    Payment,
    Subscription,
)
from podpiska.core.domain.money import MAX_AMOUNT_DIGITS, AmountFormatError, parse_money
from podpiska.core.records import MAX_ID
from podpiska.entitlements.domain import Decision
from podpiska.entrypoints.presenters import amount

# --- input types ---------------------------------------------------------------------------

_MAX_WHOLE_ROUBLES = 10**MAX_AMOUNT_DIGITS - 1


def _amount_in(value: object) -> Decimal:
    """A JSON string read by `parse_money` ("1500.00", "1500,5", "1500"), or a JSON integer
    of roubles; a JSON float (`1500.5`, `1e3`) is refused: it may already have lost digits.
    The error's type is the domain code `invalid_amount` (see errors.py)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= _MAX_WHOLE_ROUBLES:  # checked before str(): no 4 300-digit trap
            raise _invalid_amount("too large" if value > 0 else "negative", value)
        return Decimal(value).quantize(Decimal("0.01"))
    if not isinstance(value, str):
        raise _invalid_amount("not a string", value)
    try:
        return parse_money(value)
    except AmountFormatError as exc:
        raise _invalid_amount(exc.reason, value) from None


def _invalid_amount(reason: str, value: object) -> PydanticCustomError:
    shown = value if isinstance(value, str) else repr(value)
    return PydanticCustomError(
        "invalid_amount", "is not an amount ({reason})", {"reason": reason, "amount": shown[:40]}
    )


# Money in a request body: a string of ASCII digits with at most two decimals after one `.`
# or `,` (13 digits at most before it), or a JSON integer of roubles. Nothing else.
Amount = Annotated[
    Decimal,
    PlainValidator(_amount_in),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": rf"^[0-9]{{1,{MAX_AMOUNT_DIGITS}}}([.,][0-9]{{1,2}})?$",
                },
                {"type": "integer", "minimum": 0, "maximum": _MAX_WHOLE_ROUBLES},
            ],
            "description": "Roubles: ASCII digits, `.` or `,` and at most two decimals "
            '("1500.00"), or a JSON integer; no exponent, spaces or other digits',
        }
    ),
]


# --- text ----------------------------------------------------------------------------------

# Never stored, whatever the field: NUL (PostgreSQL refuses it; SQLite keeps it), the other
# C0 controls but tab and line breaks, DEL, and lone surrogates (not encodable as UTF-8).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# One line of text (a name, a code, an id): no control character at all.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
MAX_TEXT = 2000  # the longest string any body may carry (a URL, a reason)


def _unsafe_in(value: Any, where: str = "") -> str | None:
    """The path of the first string in `value` (a JSON document) with an unsafe character."""
    if isinstance(value, str):
        return where or "body" if _UNSAFE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unsafe_in(key, where) or _unsafe_in(item, f"{where}.{key}" if where else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unsafe_in(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _one_line(value: str) -> str:
    if _NOT_ONE_LINE.search(value):
        raise PydanticCustomError(
            "text_control_character",
            "must be one line of text without control characters or lone surrogates",
        )
    return value


_ONE_LINE_SCHEMA = {"pattern": "^[^\\x00-\\x1f\\x7f]*$"}
# A name people read (an account, a test clock): one line, 1-200 characters.
Name = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra=_ONE_LINE_SCHEMA),
    AfterValidator(_one_line),
]
# A code or a short value (plan, add-on, promotion, method, language, INN, e-mail): one line.
Code = Annotated[
    str, Field(max_length=254, json_schema_extra=_ONE_LINE_SCHEMA), AfterValidator(_one_line)
]
# A line of free text (a reason, a URL, a token).
Line = Annotated[
    str,
    Field(max_length=MAX_TEXT, json_schema_extra=_ONE_LINE_SCHEMA),
    AfterValidator(_one_line),
]
# A row's id in a body: a positive 64-bit integer.
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
# How many of something (users, seats, months, days) a body may ask for: a sane integer.
Count = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]

# --- time ------------------------------------------------------------------------------------

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "timezone_aware", "must carry its UTC offset, e.g. 2027-01-01T00:00:00+03:00"
        )
    return value


def _moment(value: datetime) -> datetime:
    """A time sent to the API: with its offset, from 2000 to 2100 (a test clock at 1970 or
    at year 1 is a typo; 9999-12-31 would overflow the first day added to it)."""
    _aware(value)
    if not EARLIEST <= value < LATEST:
        raise PydanticCustomError(
            "moment_out_of_range",
            "must be from 2000-01-01 to 2099-12-31, got {got}",
            {"got": value.isoformat()},
        )
    return value


Moment = Annotated[datetime, AfterValidator(_moment)]
# A time an advance goes to: its range is the service's rule (`test_clock_advance_too_far`).
AwareMoment = Annotated[datetime, AfterValidator(_aware)]


class In(BaseModel):
    """A request body: unknown fields refused, every string safe and capped."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)

    @model_validator(mode="before")
    @classmethod
    def _safe_strings(cls, data: Any) -> Any:
        where = _unsafe_in(data)
        if where is not None:
            raise PydanticCustomError(
                "text_control_character",
                "{where} must not contain NUL, control characters or lone surrogates",
                {"where": where},
            )
        return data


class AccountIn(In):
    name: Name = Field(examples=["ООО «Ромашка»"])
    admin_email: Code = Field(examples=["admin@romashka.ru"])
    edition: Code = Field("cloud", description="cloud or on_premise")
    admin_phone: Code | None = None
    inn: Code | None = Field(None, description="ИНН: 10 or 12 digits with a valid checksum")
    kpp: Code | None = Field(None, description="КПП of an organisation: 9 characters")
    timezone: Code = "Europe/Moscow"
    language: Code = Field("ru", description="Language of the e-mails to the account: ru or en")
    test_clock_id: BodyId | None = Field(None, description="Live in a test clock's time")


class AccountPatch(In):
    language: Code | None = Field(
        None, description="Language of the e-mails to the account: ru or en"
    )


class UserIn(In):
    email: Code
    role: Code = Field("user", description="admin or user")


class SubscriptionIn(In):
    plan: Code = Field(examples=["standard"])
    months: StrictInt = Field(examples=[12])
    users: Count | None = None
    add_ons: list[Code] = Field(default_factory=list, max_length=100)
    promotions: list[Code] = Field(default_factory=list, max_length=100)
    autopay: StrictBool = False


class RenewalIn(In):
    months: StrictInt | None = Field(None, description="Default: the subscription's period")


class PaymentIn(In):
    amount: Amount = Field(examples=["43092.00"])
    method: Code = Field("manual", description="card, bank_transfer, e_wallet or manual")
    external_id: Code | None = Field(None, description="The bank's or gateway's payment id")


class RefundIn(In):
    amount: Amount = Field(examples=["1500.00"])
    reason: Line = "requested by the customer"


class ResolveIn(In):
    invoice_id: BodyId


class BankCreditIn(In):
    account_id: BodyId


class DismissIn(In):
    reason: str = Field(description="Why it is not ours (≤ 500 characters, not blank)",
                        examples=["paid to us by mistake: the bank returns it"])  # fmt: skip


class CreditNoteIn(In):
    reason: Line = Field(min_length=1, examples=["charged twice"])


class AutopayIn(In):
    enabled: StrictBool


class CancelIn(In):
    undo: StrictBool = Field(False, description="Take a scheduled cancellation back")


class TestClockIn(In):
    name: Name = "test clock"
    now: Moment | None = Field(
        None, description="Start time (with its offset, 2000 to 2099); default: now"
    )


class AdvanceIn(In):
    # Any integer: the service refuses more than its maximum with the maximum in the message.
    days: StrictInt | None = None
    to: AwareMoment | None = None


class WebhookEndpointIn(In):
    url: Line = Field(examples=["https://crm.example/hooks/podpiska"])
    secret: Code | None = Field(None, description="Signing secret; generated when absent")
    event_types: list[Code] = Field(
        default_factory=list,
        max_length=100,
        description="Event types it receives (`invoice.paid`, or `subscription.*` for an "
        "area); empty: every event",
        examples=[["invoice.paid", "subscription.*"]],
    )


class WebhookEndpointPatch(In):
    event_types: list[Code] | None = Field(
        None, max_length=100, description="Replaces the list; [] means every event"
    )
    active: StrictBool | None = None


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    status: str

    @classmethod
    def of(cls, user: AccountUser) -> UserOut:
        return cls(id=user.id, email=user.email, role=user.role, status=user.status)


class AccountOut(BaseModel):
    id: int
    name: str
    edition: str
    admin_email: str
    admin_phone: str | None
    inn: str | None
    kpp: str | None
    timezone: str
    language: str
    test_clock_id: int | None
    active_users: int
    blocked_users: int
    created_at: datetime

    @classmethod
    def of(cls, account: Account, active: int, blocked: int) -> AccountOut:
        return cls(
            id=account.id,
            name=account.name,
            edition=account.edition,
            admin_email=account.admin_email,
            admin_phone=account.admin_phone,
            inn=account.inn,
            kpp=account.kpp,
            timezone=account.timezone,
            language=account.language,
            test_clock_id=account.test_clock_id,
            active_users=active,
            blocked_users=blocked,
            created_at=account.created_at,
        )


class SubscriptionOut(BaseModel):
    id: int
    account_id: int
    status: str
    plan: str
    months: int
    seats: int
    add_ons: list[str]
    catalog_version: str
    starts_on: date | None = Field(description="First day of the current term")
    ends_on: date | None = Field(description="First day after the term (exclusive)")
    paid_through: date | None = Field(description="The last paid day: what people read")
    autopay: bool
    cancel_at_period_end: bool
    renewal_invoice_id: int | None

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionOut:
        return cls(
            id=sub.id,
            account_id=sub.account_id,
            status=sub.status,
            plan=sub.plan,
            months=sub.months,
            seats=sub.seats,
            add_ons=list(sub.add_ons or ()),
            catalog_version=sub.catalog_version,
            starts_on=sub.starts_on,
            ends_on=sub.ends_on,
            paid_through=sub.ends_on - timedelta(days=1) if sub.ends_on else None,
            autopay=sub.autopay,
            cancel_at_period_end=sub.cancel_at_period_end,
            renewal_invoice_id=sub.renewal_invoice_id,
        )


class InvoiceLineOut(BaseModel):
    position: int
    code: str
    description: str
    quantity: int
    months: int
    unit_price: str
    discount_percent: str
    amount: str
    explain: str
    vat_mode: str
    vat_rate: str


class InvoiceOut(BaseModel):
    id: int
    number: str | None
    account_id: int
    subscription_id: int
    kind: str
    status: str
    currency: str
    catalog_version: str
    plan: str
    months: int
    term_starts_on: date | None
    term_ends_on: date | None
    lines: list[InvoiceLineOut]
    subtotal: str
    discount: str
    total: str
    vat: dict[str, Any]
    amount_paid: str
    amount_due: str
    issued_on: date | None
    due_on: date | None
    paid_at: datetime | None

    @classmethod
    def of(cls, invoice: Invoice, lines: list[InvoiceLine]) -> InvoiceOut:
        return cls(
            id=invoice.id,
            number=invoice.number,
            account_id=invoice.account_id,
            subscription_id=invoice.subscription_id,
            kind=invoice.kind,
            status=invoice.status,
            currency=invoice.currency,
            catalog_version=invoice.catalog_version,
            plan=invoice.plan,
            months=invoice.months,
            term_starts_on=invoice.term_starts_on,
            term_ends_on=invoice.term_ends_on,
            lines=[
                InvoiceLineOut(
                    position=line.position,
                    code=line.code,
                    description=line.description,
                    quantity=line.quantity,
                    months=line.months,
                    unit_price=amount(line.unit_price),
                    discount_percent=line.discount_percent,
                    amount=amount(line.amount),
                    explain=line.explain,
                    vat_mode=line.vat_mode,
                    vat_rate=line.vat_rate,
                )
                for line in lines
            ],
            subtotal=amount(invoice.subtotal),
            discount=amount(invoice.discount),
            total=amount(invoice.total),
            vat={
                "mode": invoice.vat_mode,
                "rate": invoice.vat_rate,
                "amount": amount(invoice.vat_amount),
            },
            amount_paid=amount(invoice.amount_paid),
            amount_due=amount(invoice.total - invoice.amount_paid)
            if invoice.status == "issued"
            else amount(invoice.total - invoice.total),
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            paid_at=invoice.paid_at,
        )


class PaymentOut(BaseModel):
    id: int
    invoice_id: int
    amount: str
    method: str
    status: str
    external_id: str | None
    received_on: date
    replayed: bool = False

    @classmethod
    def of(cls, payment: Payment, replayed: bool = False) -> PaymentOut:
        return cls(
            id=payment.id,
            invoice_id=payment.invoice_id,
            amount=amount(payment.amount),
            method=payment.method,
            status=payment.status,
            external_id=payment.external_id,
            received_on=payment.received_on,
            replayed=replayed,
        )


class DecisionOut(BaseModel):
    action: str
    allowed: bool
    reason: str
    message: str
    details: dict[str, Any]

    @classmethod
    def of(cls, decision: Decision, lang: str) -> DecisionOut:
        return cls(
            action=decision.action,
            allowed=decision.allowed,
            reason=decision.reason,
            message=decision.message(lang),
            details=decision.details,
        )


_DECISIONS = TypeAdapter(list[DecisionOut])


def json_response(answer: DecisionOut | list[DecisionOut]) -> Response:
    """The answer serialized once, by pydantic-core, for the hot routes: FastAPI would
    validate a returned model against `response_model` again before serializing it."""
    if isinstance(answer, list):
        body = _DECISIONS.dump_json(answer)
    else:
        body = answer.__pydantic_serializer__.to_json(answer)
    return Response(content=body, media_type="application/json")
