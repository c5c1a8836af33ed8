"""Unit and property tests of podpiska.core.domain.scope: which accounts an actor sees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podpiska.core.domain.scope import Scope, ScopeKind

ids = st.integers(min_value=1, max_value=2**63 - 1)


@given(ids)
def test_the_vendor_sees_every_account(account_id: int) -> None:
    assert Scope.vendor().may_see(account_id)
    assert Scope.vendor().account_ids is None


@given(ids, ids)
def test_an_account_sees_itself_only(own: int, other: int) -> None:
    scope = Scope.account(own)
    assert scope.may_see(own)
    assert scope.may_see(other) == (other == own)
    assert scope.account_ids == frozenset({own})


@given(ids)
def test_nothing_sees_no_account(account_id: int) -> None:
    assert not Scope.nothing().may_see(account_id)
    assert Scope.nothing().account_ids == frozenset()


@given(st.sampled_from([Scope.vendor(), Scope.nothing()]) | ids.map(Scope.account), ids)
def test_the_check_and_the_query_filter_agree(scope: Scope, account_id: int) -> None:
    """A query restricted by `account_ids` returns exactly the accounts `may_see` allows."""
    in_query = scope.account_ids is None or account_id in scope.account_ids
    assert scope.may_see(account_id) == in_query


def test_a_scope_is_a_value() -> None:
    assert Scope.account(7) == Scope.account(7) != Scope.account(8)
    assert hash(Scope.vendor()) == hash(Scope.vendor())
    assert Scope.account(7).kind is ScopeKind.ACCOUNT


def test_an_inconsistent_scope_is_refused() -> None:
    with pytest.raises(ValueError):
        Scope(ScopeKind.VENDOR, frozenset({1}))
    with pytest.raises(ValueError):
        Scope(ScopeKind.ACCOUNT, None)
