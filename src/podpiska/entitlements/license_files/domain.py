"""License files of on-premise editions: what a license says, and whether it holds today.

An on-premise customer runs the vendor's product on its own servers, offline. Its license
is a payload signed by the vendor (Ed25519, see
`entitlements/license_files/signing.py`); this module is the payload and its rules, with
no cryptography and no I/O:

- the payload is **canonical JSON**: the keys sorted, no spaces, UTF-8 (non-ASCII kept as
  it is), dates `YYYY-MM-DD`, `issued_at` in UTC to the second (`2026-11-22T09:00:00Z`).
  The same license always gives the same bytes, and a payload that is not in this form is
  not ours (`license_malformed`);
- `verify(payload, today)`: valid through `paid_through`; in grace (valid, but read-only:
  the product lets people read and export, not write) through `grace_until`; expired
  after that.

Reasons are stable codes with ru/en messages (`podpiska.core.domain.errors`): `license_valid`
and `license_grace` here, `license_expired`, `license_tampered`, `license_wrong_key` and
`license_malformed` as errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.text import Text

if TYPE_CHECKING:
    from podpiska.catalog.domain.catalog import CatalogVersion, LifecycleSettings

FORMAT_VERSION = 1
ONE_DAY = timedelta(days=1)

# The payload's keys, each with the type its JSON value has.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "format": int,
    "serial": str,
    "account_id": int,
    "account_name": str,
    "inn": (str, type(None)),
    "edition": str,
    "plan": str,
    "users": int,
    "features": list,
    "term_start": str,
    "paid_through": str,
    "grace_until": str,
    "issued_at": str,
    "key_id": str,
}


@dataclass(frozen=True, slots=True)
class LicensePayload:
    """What a license file says: signed as `canonical_json(payload)`."""

    serial: str  # LIC-2026-000001
    account_id: int
    account_name: str
    inn: str | None
    edition: str  # on_premise
    plan: str  # the plan's code
    users: int  # the seats paid for
    features: tuple[str, ...]  # the plan's and the add-ons', sorted
    term_start: date  # the first day of the paid term
    paid_through: date  # the last paid day
    grace_until: date  # the last day of grace (read-only)
    issued_at: datetime  # UTC, to the second
    key_id: str  # which vendor key signs it
    format: int = FORMAT_VERSION

    def as_json(self) -> dict[str, Any]:
        """The payload as JSON values (what is signed)."""
        return {
            "format": self.format,
            "serial": self.serial,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "inn": self.inn,
            "edition": self.edition,
            "plan": self.plan,
            "users": self.users,
            "features": sorted(self.features),
            "term_start": self.term_start.isoformat(),
            "paid_through": self.paid_through.isoformat(),
            "grace_until": self.grace_until.isoformat(),
            "issued_at": _utc(self.issued_at),
            "key_id": self.key_id,
        }


def _utc(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    return instant.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_json(payload: LicensePayload) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        payload.as_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _malformed(problem_ru: str, problem_en: str) -> DomainError:
    return DomainError("license_malformed", problem={"ru": problem_ru, "en": problem_en})


def _day(data: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(data[name])
    except ValueError:
        raise _malformed(f"поле {name} — не дата", f"field {name} is not a date") from None


def parse_payload(raw: bytes) -> LicensePayload:
    """The payload of signed bytes; `license_malformed` when they are not a canonical
    payload of a format this code knows."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _malformed("данные лицензии — не JSON", "the license data is not JSON") from None
    if not isinstance(data, dict):
        raise _malformed("данные лицензии — не объект JSON", "the license data is not an object")
    version = data.get("format")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise _malformed(
            f"неизвестная версия формата {version!r}", f"unknown format version {version!r}"
        )
    missing = sorted(set(_FIELDS) - data.keys())
    extra = sorted(data.keys() - set(_FIELDS))
    if missing or extra:
        names = ", ".join(missing or extra)
        raise _malformed(
            f"{'нет полей' if missing else 'лишние поля'}: {names}",
            f"{'missing fields' if missing else 'unknown fields'}: {names}",
        )
    for name, kind in _FIELDS.items():
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _malformed(f"поле {name} неверного типа", f"field {name} has a wrong type")
    features = data["features"]
    if not all(isinstance(item, str) for item in features):
        raise _malformed("features — не список строк", "features is not a list of strings")
    try:
        issued_at = datetime.strptime(data["issued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _malformed(
            "issued_at — не время UTC", "issued_at is not a UTC time YYYY-MM-DDTHH:MM:SSZ"
        ) from None
    payload = LicensePayload(
        serial=data["serial"],
        account_id=data["account_id"],
        account_name=data["account_name"],
        inn=data["inn"],
        edition=data["edition"],
        plan=data["plan"],
        users=data["users"],
        features=tuple(features),
        term_start=_day(data, "term_start"),
        paid_through=_day(data, "paid_through"),
        grace_until=_day(data, "grace_until"),
        issued_at=issued_at,
        key_id=data["key_id"],
        format=version,
    )
    if canonical_json(payload) != raw:
        raise _malformed("данные не в каноническом виде", "the data is not in the canonical form")
    return payload


# -- what goes into a payload ----------------------------------------------------------------


def granted_features(
    version: CatalogVersion, plan: str, add_ons: Iterable[str], edition: str | None = None
) -> tuple[str, ...]:
    """The features a plan and its add-ons grant in a catalog version, sorted (the same
    union `entitlements.check` uses; an add-on the version does not know grants nothing).
    An `edition` the version's marketplace rule does not cover (on-premise: the rule is
    cloud-only) also has what the rule would sell (the offer's features: apps, the REST
    API, webhooks), as `entitlements.check` allows them there."""
    granted = set(version.plan(plan).features)
    for code in add_ons:
        add_on = version.add_ons.get(code)
        if add_on is not None:
            granted |= add_on.features
    rule = version.marketplace
    if rule is not None and edition is not None and edition not in rule.editions:
        offer = version.add_ons.get(rule.offer)
        if offer is not None:
            granted |= offer.features
    return tuple(sorted(granted))


def grace_until(ends_on: date, settings: LifecycleSettings) -> date:
    """The last day of grace of a term that ends (exclusive) on `ends_on`: the day before
    `lifecycle.grace_ends_on`, the first day of suspension."""
    return ends_on + timedelta(days=settings.grace_days) - ONE_DAY


# -- the verdict ---------------------------------------------------------------------------


class LicenseStatus(StrEnum):
    VALID = "valid"  # paid through today or later
    GRACE = "grace"  # the paid term is over: read-only until grace_until
    EXPIRED = "expired"  # past grace_until
    TAMPERED = "tampered"  # the payload or the signature was changed
    WRONG_KEY = "wrong_key"  # signed by another key than the one verifying it
    MALFORMED = "malformed"  # not a license file (or not one this code can read)


_STATUS_OF_CODE = {
    "license_expired": LicenseStatus.EXPIRED,
    "license_tampered": LicenseStatus.TAMPERED,
    "license_wrong_key": LicenseStatus.WRONG_KEY,
    "license_malformed": LicenseStatus.MALFORMED,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a license holds on a day, and why (a stable code)."""

    status: LicenseStatus
    code: str  # license_valid | license_grace | license_expired | license_tampered | ...
    message_ru: str
    message_en: str
    license: LicensePayload | None = None  # None when the file cannot be trusted
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """The product may run (in grace: read-only)."""
        return self.status in (LicenseStatus.VALID, LicenseStatus.GRACE)

    @property
    def read_only(self) -> bool:
        return self.status is LicenseStatus.GRACE

    def message(self, lang: str = "ru") -> str:
        return Text(self.message_ru, self.message_en).get(lang)


def rejected(error: DomainError, license: LicensePayload | None = None) -> Verdict:
    """The verdict of a license-file error (`license_tampered`, `license_expired`, ...)."""
    return Verdict(
        status=_STATUS_OF_CODE[error.code],
        code=error.code,
        message_ru=error.message("ru"),
        message_en=error.message("en"),
        license=license,
        details={name: _plain(value) for name, value in error.details.items()},
    )


def _plain(value: Any) -> Any:
    """A detail as a JSON value (dates as YYYY-MM-DD)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def verify(payload: LicensePayload, today: date) -> Verdict:
    """The verdict on `today` of a license whose signature was checked: valid through
    `paid_through`, read-only in grace through `grace_until`, expired after."""
    if today <= payload.paid_through:
        return Verdict(
            LicenseStatus.VALID,
            "license_valid",
            f"Лицензия {payload.serial} действительна: тариф «{payload.plan}», "
            f"{payload.users} польз., оплачена по {_ru(payload.paid_through)}.",
            f"License {payload.serial} is valid: plan {payload.plan}, {payload.users} users, "
            f"paid through {payload.paid_through.isoformat()}.",
            payload,
            {"paid_through": payload.paid_through.isoformat()},
        )
    if today <= payload.grace_until:
        days = (payload.grace_until - today).days + 1
        return Verdict(
            LicenseStatus.GRACE,
            "license_grace",
            f"Лицензия {payload.serial} оплачена по {_ru(payload.paid_through)}: льготный "
            f"период до {_ru(payload.grace_until)} включительно (осталось дней: {days}), "
            "работа только в режиме чтения. Продлите подписку и установите новый файл.",
            f"License {payload.serial} was paid through {payload.paid_through.isoformat()}: "
            f"grace period through {payload.grace_until.isoformat()} ({days} days left), "
            "read-only. Renew the subscription and install the new file.",
            payload,
            {
                "paid_through": payload.paid_through.isoformat(),
                "grace_until": payload.grace_until.isoformat(),
                "days_left": days,
            },
        )
    return rejected(
        DomainError(
            "license_expired",
            serial=payload.serial,
            paid_through=payload.paid_through,
            grace_until=payload.grace_until,
        ),
        payload,
    )
