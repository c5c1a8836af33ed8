"""The metadata of accounts, subscriptions and invoices: changed by the integrator (its own
ids, string keys and values; `core.domain.metadata` for the bounds), audited with the actor.
An invoice's metadata is not part of its document: changing it never changes the invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.session import read_only
from podpiska.core.domain.metadata import Metadata
from podpiska.core.domain.scope import Scope
from podpiska.core.metadata import metadata_of, write_metadata
from podpiska.core.records import get_or_404, not_found
from podpiska.invoicing.models import Invoice
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription

MODELS: dict[str, type[Account] | type[Subscription] | type[Invoice]] = {
    "account": Account,
    "subscription": Subscription,
    "invoice": Invoice,
}

__all__ = ["get_metadata", "set_metadata"]


def _owner(session: Session, object_type: str, object_id: int, scope: Scope) -> int:
    """The account of the object, if the caller may see it (else 404, as if it were not)."""
    row = get_or_404(session, MODELS[object_type], object_id, object_type)
    account_id = row.id if isinstance(row, Account) else row.account_id
    if not scope.may_see(account_id):
        raise not_found(object_type, object_id)
    return account_id


def set_metadata(
    session: Session,
    *,
    object_type: str,
    object_id: int,
    changes: Mapping[str, Any],
    scope: Scope,
    actor: str,
    clock: Clock,
) -> Metadata:
    """Set (a string) or remove (None) keys of the object's metadata; answers the result."""
    with session.begin():
        account_id = _owner(session, object_type, object_id, scope)
        return write_metadata(
            session,
            object_type=object_type,
            object_id=object_id,
            account_id=account_id,
            changes=changes,
            actor=actor,
            at=clock.now(),
        )


def get_metadata(session: Session, *, object_type: str, object_id: int) -> Metadata:
    with session.begin():
        read_only(session)
        return metadata_of(session, object_type, [object_id]).get(object_id, {})
