"""Unit tests of podpiska.accounts.apikeys: the accounts a key (or a person) of a role sees."""

from __future__ import annotations

import pytest

from podpiska.accounts.apikeys import ROLES, Principal, scope_of
from podpiska.core.domain.scope import Scope


@pytest.mark.parametrize(
    ("role", "account_id", "scope"),
    [
        ("vendor_admin", None, Scope.vendor()),
        ("vendor_operator", None, Scope.vendor()),
        ("account_admin", 7, Scope.account(7)),
        ("account_admin", None, Scope.nothing()),  # never created; sees nothing if it were
    ],
)
def test_the_scope_of_a_role(role: str, account_id: int | None, scope: Scope) -> None:
    assert role in ROLES
    assert scope_of(role, account_id) == scope


def test_a_principal_sees_what_its_scope_sees() -> None:
    own = Principal(1, "abc", "account_admin", 7, scope_of("account_admin", 7))
    vendor = Principal(2, "def", "vendor_operator", None, scope_of("vendor_operator", None))
    assert own.may_see(7) and not own.may_see(8) and not own.is_vendor
    assert vendor.may_see(7) and vendor.may_see(8) and vendor.is_vendor
