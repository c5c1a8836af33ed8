"""The accounts one step of the daily run works on: one shard of those living on one
clock. The month-end run's steps (`rendering_run`, `advances`) take it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import aliased

from podpiska.accounts.models import Account


@dataclass(frozen=True, slots=True)
class Scope:
    """One shard of the accounts living on one clock (0: real time, else a test clock)."""

    shard: int = 0
    shards: int = 1
    clock_id: int = 0

    @property
    def test(self) -> bool:
        return self.clock_id != 0

    def of(self, account_id: Any) -> list[ColumnElement[bool]]:
        """Conditions keeping the rows whose account (`account_id`) is in this scope."""
        owner = aliased(Account)  # never correlated with an Account of the outer query
        on_clock = (
            owner.test_clock_id.is_(None)
            if self.clock_id == 0
            else owner.test_clock_id == self.clock_id
        )
        conditions: list[ColumnElement[bool]] = [exists().where(owner.id == account_id, on_clock)]
        if self.shards > 1:
            conditions.append(account_id % self.shards == self.shard)
        return conditions
