"""A delivery's statuses and its retry policy (pure): the wait after each failed attempt,
and when to give up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
STATUSES = (PENDING, DELIVERED, DEAD)

# The wait after the 1st, 2nd, ... failed attempt; after the last one, every 24 hours.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
BACKOFF_AFTER = timedelta(hours=24)
# A delivery that still fails this long after it was created is dead.
GIVE_UP_AFTER = timedelta(days=3)


def backoff(failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, then
    24 h each time."""
    if failed_attempts < 1:
        return timedelta(0)
    if failed_attempts <= len(BACKOFF):
        return BACKOFF[failed_attempts - 1]
    return BACKOFF_AFTER


def next_attempt(created_at: datetime, failed_attempts: int, now: datetime) -> datetime | None:
    """When to try again after a failure at `now`, or None when it is time to give up.

    The last attempt is made when `GIVE_UP_AFTER` has passed since the delivery was
    created; a failure then (or later, after a redelivery) is final.
    """
    deadline = created_at + GIVE_UP_AFTER
    if now >= deadline:
        return None
    return min(now + backoff(failed_attempts), deadline)
