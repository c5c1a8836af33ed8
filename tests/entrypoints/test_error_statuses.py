"""A domain error's HTTP status is decided by the entry point, from the error's kind: the
API in `api/errors.py`, the web pages in `web/deps.py`, with the same answers."""

from __future__ import annotations

import pytest

from podpiska.core.domain.errors import REGISTRY, DomainError, Kind
from podpiska.entrypoints.api import errors as api_errors
from podpiska.entrypoints.web import deps as web_deps

# Each code's status before the codes moved to their areas (issue 15): none changed.
BEFORE: dict[int, tuple[str, ...]] = {
    422: (
        "add_on_not_offered",
        "add_on_not_sold",
        "bad_statement",
        "bank_payment_reason_required",
        "bank_payment_reason_too_long",
        "change_outside_term",
        "change_token_invalid",
        "consent_required",
        "duplicate_add_on",
        "duplicate_promotion",
        "gateway_refused",
        "invalid_amount",
        "invalid_app",
        "invalid_field",
        "invalid_method_type",
        "invalid_months",
        "invalid_payment_method",
        "invalid_users",
        "license_expired",
        "license_key_invalid",
        "license_malformed",
        "license_tampered",
        "license_wrong_key",
        "method_not_savable",
        "no_catalog_loaded",
        "no_catalog_version",
        "no_trial",
        "nothing_to_change",
        "overpayment",
        "period_not_offered",
        "promotion_not_active",
        "promotion_not_applicable",
        "promotion_not_eligible",
        "promotions_overlap",
        "refund_exceeds_credit",
        "renewal_too_short",
        "seats_not_sold",
        "test_clock_advance_too_far",
        "too_many_users",
        "unknown_action",
        "unknown_add_on",
        "unknown_event_type",
        "unknown_gateway",
        "unknown_plan",
        "unknown_promotion",
        "user_limit_reached",
    ),
    409: (
        "autopay_needs_method",
        "bank_payment_not_dismissed",
        "bank_payment_resolved",
        "cancel_not_allowed",
        "catalog_version_in_use",
        "change_not_allowed",
        "change_pending",
        "change_stale",
        "credit_note_change_in_force",
        "credit_note_exists",
        "credit_note_not_allowed",
        "credit_note_term_ahead",
        "downgrade_blocked",
        "idempotency_conflict",
        "idempotency_in_progress",
        "invalid_transition",
        "invoice_not_payable",
        "last_admin",
        "license_not_on_premise",
        "license_not_paid",
        "payment_in_progress",
        "person_exists",
        "renewal_not_allowed",
        "renewal_partly_paid",
        "renewal_too_early",
        "renewed_ahead",
        "subscription_exists",
        "test_clock_backwards",
        "trial_not_needed",
        "trial_used",
        "user_exists",
    ),
    404: (
        "document_not_found",
        "license_not_found",
        "no_subscription",
        "not_found",
        "payment_attempt_not_found",
        "payment_method_not_found",
        "unknown_app",
        "unknown_migration",
    ),
    403: (
        "consent_by_customer_only",
        "login_failed",
        "login_locked",
        "not_entitled",
        "notification_rejected",
    ),
    503: ("gateway_unavailable",),
    413: ("body_too_large",),
}


def test_every_kind_has_its_status() -> None:
    assert api_errors.STATUS_BY_KIND == {
        Kind.INVALID: 422,
        Kind.CONFLICT: 409,
        Kind.NOT_FOUND: 404,
        Kind.FORBIDDEN: 403,
        Kind.UNAVAILABLE: 503,
        Kind.TOO_LARGE: 413,
    }


def test_the_web_pages_answer_as_the_api() -> None:
    assert web_deps.STATUS_BY_KIND == api_errors.STATUS_BY_KIND


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("unknown_plan", 422),
        ("subscription_exists", 409),
        ("credit_note_change_in_force", 409),
        ("no_subscription", 404),
        ("license_not_found", 404),
        ("not_entitled", 403),
        ("consent_by_customer_only", 403),
        ("gateway_unavailable", 503),
        ("body_too_large", 413),
    ],
)
def test_a_code_answers_the_status_of_its_kind(code: str, status: int) -> None:
    error = DomainError.__new__(DomainError)
    error.code = code  # details do not matter to the status
    assert api_errors.http_status(error) == web_deps.http_status(error) == status


@pytest.mark.parametrize(
    ("code", "status"), [(code, status) for status, codes in BEFORE.items() for code in codes]
)
def test_every_code_answers_as_before_the_registry(code: str, status: int) -> None:
    assert api_errors.STATUS_BY_KIND[REGISTRY[code].kind] == status
