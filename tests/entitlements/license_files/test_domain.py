"""Unit tests of podpiska.entitlements.license_files.domain: the canonical payload (the
bytes that are signed) and the verdict of a license by date: valid, in grace (read-only),
expired."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from podpiska.catalog.domain.catalog import LifecycleSettings
from podpiska.catalog.loading import load_catalog
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.entitlements.license_files.domain import (
    LicensePayload,
    LicenseStatus,
    canonical_json,
    grace_until,
    granted_features,
    parse_payload,
    verify,
)
from podpiska.subscriptions.domain.lifecycle import grace_ends_on
from tests.factories import seed_version

CRM_SHOP = Path(__file__).resolve().parents[3] / "catalogs" / "crm-shop.yaml"

PAYLOAD = LicensePayload(
    serial="LIC-2026-000001",
    account_id=7,
    account_name="ООО «Ромашка»",
    inn="7707083893",
    edition="on_premise",
    plan="standard",
    users=50,
    features=("rest_api.call", "crm.read", "crm.create_deal"),
    term_start=date(2026, 11, 22),
    paid_through=date(2027, 11, 21),
    grace_until=date(2027, 12, 21),
    issued_at=datetime(2026, 11, 22, 12, 0, 5, 123456, tzinfo=ZoneInfo("Europe/Moscow")),
    key_id="0123456789abcdef",
)
CANONICAL = (
    '{"account_id":7,"account_name":"ООО «Ромашка»","edition":"on_premise",'
    '"features":["crm.create_deal","crm.read","rest_api.call"],"format":1,'
    '"grace_until":"2027-12-21","inn":"7707083893","issued_at":"2026-11-22T09:00:05Z",'
    '"key_id":"0123456789abcdef","paid_through":"2027-11-21","plan":"standard",'
    '"serial":"LIC-2026-000001","term_start":"2026-11-22","users":50}'
).encode()


def malformed(raw: bytes) -> DomainError:
    with pytest.raises(DomainError) as info:
        parse_payload(raw)
    assert info.value.code == "license_malformed"
    assert info.value.kind == Kind.INVALID
    return info.value


# -- the canonical payload -------------------------------------------------------------------


def test_the_payload_is_canonical_json_sorted_without_spaces_in_utf8() -> None:
    raw = canonical_json(PAYLOAD)
    assert raw == CANONICAL
    assert "ООО «Ромашка»".encode() in raw  # UTF-8 as it is, not \\u escapes
    assert b" :" not in raw
    assert b", " not in raw
    assert list(json.loads(raw)) == sorted(json.loads(raw))


def test_issued_at_is_utc_to_the_second_and_must_know_its_timezone() -> None:
    assert json.loads(canonical_json(PAYLOAD))["issued_at"] == "2026-11-22T09:00:05Z"
    naive = replace(PAYLOAD, issued_at=datetime(2026, 11, 22, 9, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone"):
        canonical_json(naive)


def test_the_same_license_always_gives_the_same_bytes() -> None:
    shuffled = replace(PAYLOAD, features=tuple(reversed(PAYLOAD.features)))
    assert canonical_json(shuffled) == canonical_json(PAYLOAD)


def test_parse_gives_back_the_payload() -> None:
    parsed = parse_payload(CANONICAL)
    assert parsed.serial == "LIC-2026-000001"
    assert parsed.features == ("crm.create_deal", "crm.read", "rest_api.call")
    assert parsed.issued_at == datetime(2026, 11, 22, 9, 0, 5, tzinfo=UTC)
    assert parsed.paid_through == date(2027, 11, 21)
    assert canonical_json(parsed) == CANONICAL


def test_no_inn_is_null() -> None:
    raw = canonical_json(replace(PAYLOAD, inn=None))
    assert b'"inn":null' in raw
    assert parse_payload(raw).inn is None


def test_a_payload_not_in_canonical_form_is_malformed() -> None:
    spaced = json.dumps(json.loads(CANONICAL), sort_keys=True, ensure_ascii=False).encode()
    assert "canonical" in malformed(spaced).message("en")
    escaped = json.dumps(
        json.loads(CANONICAL), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode()
    malformed(escaped)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"format": 2}, "unknown format version 2"),
        ({"format": True}, "unknown format version True"),
        ({"users": "50"}, "field users has a wrong type"),
        ({"users": True}, "field users has a wrong type"),
        ({"features": ["crm", 1]}, "features is not a list of strings"),
        ({"paid_through": "21.11.2027"}, "field paid_through is not a date"),
        ({"issued_at": "2026-11-22T12:00:05+03:00"}, "issued_at is not a UTC time"),
        ({"extra": 1}, "unknown fields: extra"),
    ],
)
def test_a_payload_that_is_not_ours_is_malformed(change: dict[str, object], words: str) -> None:
    data = {**json.loads(CANONICAL), **change}
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert words in malformed(raw).message("en")


def test_missing_fields_garbage_and_not_an_object_are_malformed() -> None:
    data = json.loads(CANONICAL)
    del data["serial"]
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "missing fields: serial" in malformed(raw).message("en")
    assert "не JSON" in malformed(b"\xff\xfe garbage").message("ru")
    malformed(b"[1,2,3]")
    malformed(b"")


# -- what goes into it -----------------------------------------------------------------------


def test_features_are_the_plans_and_the_add_ons_sorted() -> None:
    version = seed_version()
    assert granted_features(version, "basic", ()) == ("crm.create_deal", "crm.read")
    assert granted_features(version, "basic", ["webhooks", "marketplace", "gone"]) == (
        "apps.install",
        "apps.use",
        "crm.create_deal",
        "crm.read",
        "webhooks.use",
    )
    with pytest.raises(DomainError):
        granted_features(version, "no_such_plan", ())


def test_an_edition_outside_the_marketplace_rule_has_what_it_sells() -> None:
    """The crm-shop rule is cloud-only: on-premise, apps, the REST API and webhooks come
    without the Marketplace (as `entitlements.check` answers); in the cloud they do not."""
    version = load_catalog(CRM_SHOP).version("2026.1")
    cloud = set(granted_features(version, "standard", (), "cloud"))
    on_premise = set(granted_features(version, "standard", (), "on_premise"))
    assert not cloud & {"apps", "rest_api", "webhooks"}
    assert on_premise - cloud == {"apps", "rest_api", "webhooks", "local_apps"}


def test_grace_until_is_the_day_before_suspension() -> None:
    settings = LifecycleSettings(grace_days=30)
    ends_on = date(2027, 11, 22)  # paid through 2027-11-21
    assert grace_until(ends_on, settings) == date(2027, 12, 21)
    assert grace_until(ends_on, settings) == grace_ends_on(ends_on, settings) - timedelta(days=1)


# -- the verdict by date ---------------------------------------------------------------------


@pytest.mark.parametrize("today", [date(2026, 11, 1), date(2026, 11, 22), date(2027, 11, 21)])
def test_valid_through_the_last_paid_day(today: date) -> None:
    verdict = verify(PAYLOAD, today)
    assert verdict.status is LicenseStatus.VALID
    assert verdict.code == "license_valid"
    assert verdict.valid
    assert not verdict.read_only
    assert verdict.license == PAYLOAD
    assert verdict.message("en") == (
        "License LIC-2026-000001 is valid: plan standard, 50 users, paid through 2027-11-21."
    )
    assert "оплачена по 21.11.2027" in verdict.message("ru")


def test_in_grace_after_the_last_paid_day_read_only_and_it_says_so() -> None:
    first = verify(PAYLOAD, date(2027, 11, 22))
    assert first.status is LicenseStatus.GRACE
    assert first.code == "license_grace"
    assert first.valid
    assert first.read_only
    assert first.details == {
        "paid_through": "2027-11-21",
        "grace_until": "2027-12-21",
        "days_left": 30,
    }
    assert "read-only" in first.message("en")
    assert "режиме чтения" in first.message("ru")
    last = verify(PAYLOAD, date(2027, 12, 21))
    assert last.status is LicenseStatus.GRACE
    assert last.details["days_left"] == 1


def test_expired_after_grace() -> None:
    verdict = verify(PAYLOAD, date(2027, 12, 22))
    assert verdict.status is LicenseStatus.EXPIRED
    assert verdict.code == "license_expired"
    assert not verdict.valid
    assert not verdict.read_only
    assert verdict.license == PAYLOAD  # what it was is still shown
    assert verdict.message("en") == (
        "License LIC-2026-000001 has expired: it was paid through 2027-11-21 and its grace "
        "period ended on 2027-12-21. Renew the subscription and install the new license file."
    )
    assert "истекла" in verdict.message("ru")
    assert "21.12.2027" in verdict.message("ru")
