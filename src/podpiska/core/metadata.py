"""Reading, writing and filtering by the metadata of accounts, subscriptions and invoices
(`core.domain.metadata` for the bounds), in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from podpiska.core.domain.metadata import Metadata, check_key, merged
from podpiska.core.models import MetadataEntry
from podpiska.core.records import audit

OBJECT_TYPES = ("account", "subscription", "invoice")

__all__ = ["OBJECT_TYPES", "metadata_filter", "metadata_of", "write_metadata"]


def metadata_of(session: Session, object_type: str, ids: Iterable[int]) -> dict[int, Metadata]:
    """The metadata of each of `ids` (an object without any: absent from the answer)."""
    wanted = sorted(set(ids))
    found: dict[int, Metadata] = {}
    if not wanted:
        return found
    rows = session.execute(
        select(MetadataEntry.object_id, MetadataEntry.key, MetadataEntry.value)
        .where(MetadataEntry.object_type == object_type, MetadataEntry.object_id.in_(wanted))
        .order_by(MetadataEntry.object_id, MetadataEntry.key)
    )
    for object_id, key, value in rows:
        found.setdefault(object_id, {})[key] = value
    return found


def write_metadata(
    session: Session,
    *,
    object_type: str,
    object_id: int,
    account_id: int | None,
    changes: Mapping[str, Any],
    actor: str,
    at: datetime,
) -> Metadata:
    """Apply `changes` (a string sets a key, None removes it) to the object's metadata,
    audited as `<object_type>.metadata_changed` with the actor. Answers the result."""
    before = metadata_of(session, object_type, [object_id]).get(object_id, {})
    after = merged(before, changes)
    if after == before:
        return after
    session.execute(
        delete(MetadataEntry).where(
            MetadataEntry.object_type == object_type,
            MetadataEntry.object_id == object_id,
            MetadataEntry.key.in_(
                sorted(
                    set(before) - set(after)
                    | {k for k in after if k in before and before[k] != after[k]}
                )
            ),
        )
    )
    session.add_all(
        MetadataEntry(object_type=object_type, object_id=object_id, key=k, value=v)
        for k, v in sorted(after.items())
        if before.get(k) != v
    )
    audit(
        session,
        actor=actor,
        action=f"{object_type}.metadata_changed",
        object_type=object_type,
        object_id=object_id,
        account_id=account_id,
        at=at,
        before={"metadata": before},
        after={"metadata": after},
    )
    return after


def metadata_filter(
    column: Any, object_type: str, wanted: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    """Conditions on `column` (the object's id): it has every key of `wanted` with its
    value (AND), each an index lookup on (object_type, key, value, object_id)."""
    return [
        column.in_(
            select(MetadataEntry.object_id).where(
                MetadataEntry.object_type == object_type,
                MetadataEntry.key == check_key(key),
                MetadataEntry.value == value,
            )
        )
        for key, value in sorted(wanted.items())
    ]
