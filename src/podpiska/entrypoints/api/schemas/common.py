"""What every request body of the API stands on. Amounts are strings with two decimals.

Input goes through a few reusable types, so a rule lives in one place: `Amount` (money,
through `parse_money`), `Name`/`Code`/`Line` (one line of text, capped), `BodyId` (a row's
id), `Moment` (a time, aware and in a sane window); and every request body (`In`) refuses a
NUL, another control character or a lone surrogate in any of its strings, and caps them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from podpiska.core.domain.money import MAX_AMOUNT_DIGITS, AmountFormatError, parse_money
from podpiska.core.records import MAX_ID

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
