"""API keys: `pk_<prefix>_<secret>`. Only the prefix and a SHA-256 of the secret are stored
(the secret is 32 random characters, so a fast hash is as safe as a slow one), and the key
is shown once, when it is created."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account, ApiKey
from podpiska.core.db.paging import Page, page
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.records import audit, get_or_404, record_event
from podpiska.ports import Clock

ROLES = ("vendor_admin", "vendor_operator", "account_admin")
# Outbox events (recorded, not delivered) that make a kept principal stale everywhere.
CREDENTIAL_EVENTS = frozenset({"api_key.revoked"})
VENDOR_ROLES = frozenset({"vendor_admin", "vendor_operator"})
# A key's `last_used_at` is written at most this often (per key and process): to the minute.
USE_MARK_EVERY = timedelta(minutes=1)

log = logging.getLogger(__name__)


def scope_of(role: str, account_id: int | None) -> Scope:
    """The accounts a key or a person of `role` may see: every one for the vendor's roles,
    else its own account (none when it has no account)."""
    if role in VENDOR_ROLES:
        return Scope.vendor()
    return Scope.nothing() if account_id is None else Scope.account(account_id)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's role and, for an account's key, its account; `scope`,
    the accounts it may see."""

    key_id: int
    prefix: str
    role: str
    account_id: int | None
    scope: Scope

    @property
    def actor(self) -> str:
        return f"apikey:{self.prefix}"

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES

    def may_see(self, account_id: int) -> bool:
        return self.scope.may_see(account_id)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session,
    *,
    role: str,
    account_id: int | None = None,
    name: str = "",
    actor: str,
    clock: Clock,
) -> tuple[ApiKey, str]:
    """A new key; returns (row, the full key to show once)."""
    if role not in ROLES:
        raise DomainError(
            "invalid_field",
            field="role",
            problem_ru=f"роль должна быть одной из: {', '.join(ROLES)}",
            problem_en=f"role must be one of {', '.join(ROLES)}",
        )
    if (role == "account_admin") != (account_id is not None):
        raise DomainError(
            "invalid_field",
            field="account",
            problem_ru="ключ account_admin выдаётся для одного портала, ключи вендора — без него",
            problem_en="an account_admin key needs an account; vendor keys take none",
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    with session.begin():
        if account_id is not None:
            get_or_404(session, Account, account_id, "account")
        key = ApiKey(
            prefix=prefix,
            secret_hash=_hash(secret),
            role=role,
            account_id=account_id,
            name=name or role,
            created_at=clock.now(),
            created_by=actor,
        )
        session.add(key)
        session.flush()
        audit(
            session,
            actor=actor,
            action="api_key.created",
            object_type="api_key",
            object_id=key.id,
            account_id=account_id,
            at=clock.now(),
            after={"prefix": prefix, "role": role, "name": key.name},
        )
    return key, f"pk_{prefix}_{secret}"


def key_prefix(token: str) -> str | None:
    if not token.isascii() or not token.isprintable():  # a key is printable ASCII
        return None
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "pk" or not parts[1] or not parts[2]:
        return None
    return parts[1]


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal for a bearer token, or None for a wrong, unknown or revoked key."""
    prefix = key_prefix(token)
    if prefix is None:
        return None
    secret = token.split("_", 2)[2]
    with session.begin():
        read_only(session)  # every request of the API asks: no BEGIN and COMMIT round trips
        key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(key.secret_hash, _hash(secret)):
            return None
        return Principal(
            key.id, key.prefix, key.role, key.account_id, scope_of(key.role, key.account_id)
        )


def revoke_api_key(session: Session, *, prefix: str, actor: str, clock: Clock) -> ApiKey:
    with session.begin():
        key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if key is None:
            raise DomainError("not_found", what={"ru": "Ключ API", "en": "API key"}, id=prefix)
        if key.revoked_at is None:
            key.revoked_at = clock.now()
            audit(
                session,
                actor=actor,
                action="api_key.revoked",
                object_type="api_key",
                object_id=key.id,
                account_id=key.account_id,
                at=clock.now(),
            )
            # Seen by every process's entitlement snapshot: keys kept in memory are dropped.
            now = clock.now()
            record_event(session, "api_key.revoked", account_id=key.account_id,
                         occurred_on=now.date(), at=now, prefix=key.prefix)  # fmt: skip
        return key


def list_api_keys(session: Session) -> list[ApiKey]:
    with session.begin():
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


class PrincipalCache:
    """The principals of keys seen lately, for hot routes (entitlement checks): a key is
    looked up once per process and epoch instead of once per request.

    The epoch is `EntitlementSnapshots.credentials_epoch`, read right after the request's
    `refresh()`: it changes when the outbox shows a revoked key (`api_key.revoked`, written
    in the revoking transaction) or the snapshot starts over, and is None while the snapshot
    cannot vouch for what it has seen (then nothing is kept). So a key revoked before the
    request is never taken from memory. Keys are kept by their SHA-256, never in clear."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._kept: dict[bytes, Principal] = {}
        self.hits = self.misses = 0

    def kept(self, token: str, epoch: int | None) -> Principal | None:
        """The principal kept for `token` in this epoch (no query), else None."""
        if epoch is None:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            if self._epoch != epoch:
                self._kept.clear()
                self._epoch = epoch
            found = self._kept.get(digest)
        if found is not None:
            self.hits += 1
        return found

    def authenticate(self, session: Session, token: str, epoch: int | None) -> Principal | None:
        """The kept principal, or the database's answer (kept when it is a key)."""
        found = self.kept(token, epoch)
        if found is not None:
            return found
        self.misses += 1
        found = authenticate(session, token)
        if found is not None and epoch is not None:
            digest = hashlib.sha256(token.encode()).digest()
            with self._lock:
                if self._epoch == epoch and len(self._kept) < self.max_keys:
                    self._kept[digest] = found
        return found


class UseMarks:
    """When a key was last used, written to `api_keys.last_used_at` at most once a minute
    per key and process (`USE_MARK_EVERY`, by the Clock), so the API's read-only requests
    stay read-only on all but one request a minute. Several processes marking the same
    minute write once: the update skips a key marked less than a minute before."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._marked: dict[int, datetime] = {}  # key id -> when this process last marked it

    def due(self, key_id: int, now: datetime) -> bool:
        """True once a minute per key (the caller then writes the mark)."""
        with self._lock:
            last = self._marked.get(key_id)
            if last is not None and abs(now - last) < USE_MARK_EVERY:
                return False
            if last is None and len(self._marked) >= self.max_keys:
                self._marked.clear()
            self._marked[key_id] = now
            return True

    def mark(self, session: Session, key_id: int, *, clock: Clock) -> None:
        """Write `last_used_at` if it is due."""
        now = clock.now()
        if self.due(key_id, now):
            self.write(session, key_id, now)

    @staticmethod
    def write(session: Session, key_id: int, now: datetime) -> None:
        """Write `last_used_at` (the caller asked `due`), in its own short transaction; a
        failure is logged, never the request's: the key was already accepted."""
        try:
            with session.begin():
                session.execute(
                    update(ApiKey)
                    .where(
                        ApiKey.id == key_id,
                        or_(
                            ApiKey.last_used_at.is_(None),
                            ApiKey.last_used_at <= now - USE_MARK_EVERY,
                        ),
                    )
                    .values(last_used_at=now)
                    .execution_options(synchronize_session=False)
                )
        except SQLAlchemyError:
            log.warning("the last use of API key %s was not recorded", key_id, exc_info=True)


def page_api_keys(session: Session, *, after: int = 0, limit: int = 100) -> Page[ApiKey]:
    """The keys by id, revoked ones too, a page at a time (rows with the secret's hash:
    the caller shows none of it)."""
    with session.begin():
        return page(session, select(ApiKey), key=ApiKey.id, after=after, limit=limit)
