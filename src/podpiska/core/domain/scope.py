"""Which accounts an actor may see: the vendor sees every account, an account's own
administrator or API key only that account. (A partner, later, will see its clients'
accounts: a scope over their ids.)

One answer serves a single check (`may_see`) and a query (`account_ids`: None for every
account, else the ids to filter by; an empty set sees nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScopeKind(StrEnum):
    VENDOR = "vendor"  # every account
    ACCOUNT = "account"  # one account: its own administrator or API key
    NOTHING = "nothing"  # no account (an account's role without an account)


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    account_ids: frozenset[int] | None  # None: every account

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.VENDOR) != (self.account_ids is None):
            raise ValueError(f"a {self.kind} scope with account_ids={self.account_ids}")

    @classmethod
    def vendor(cls) -> Scope:
        return cls(ScopeKind.VENDOR, None)

    @classmethod
    def account(cls, account_id: int) -> Scope:
        return cls(ScopeKind.ACCOUNT, frozenset({account_id}))

    @classmethod
    def nothing(cls) -> Scope:
        return cls(ScopeKind.NOTHING, frozenset())

    def may_see(self, account_id: int) -> bool:
        return self.account_ids is None or account_id in self.account_ids
