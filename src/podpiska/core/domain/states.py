"""The states of a subscription: the words every area reads a subscription's row by (a
catalog move picks the live ones, entitlements decide by them, billing and the daily run
move between them). Which event moves a subscription from one to another is
`subscriptions.domain.lifecycle`'s."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"  # ordered, not paid yet
    ACTIVE = "active"  # paid through a day in the future (or today)
    GRACE = "grace"  # the term ended: restricted (read-only) mode for the grace days
    SUSPENDED = "suspended"  # after grace: nothing but reading billing and paying
    CANCELLED = "cancelled"  # ended at the end of a cancelled term (or never paid)
