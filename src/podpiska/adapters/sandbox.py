"""The sandbox payment gateway: a provider without a network, for `make run`, demos and tests.

It behaves like a real provider (YooKassa's model): a customer payment is `pending` with a
confirmation URL where the customer enters a test card (or confirms a wallet or SBP
payment); 3-D Secure asks for one more confirmation; the outcome is sent later, as a signed
webhook to our own endpoint; a saved method is charged at once without the customer; the
same idempotency key never charges twice; refunds go back to the payment.

Test cards (any expiry date and CVC):

| card                | what happens                                                  |
|---------------------|---------------------------------------------------------------|
| 4242 4242 4242 4242 | succeeds (Visa)                                               |
| 5555 5555 5555 4444 | succeeds (Mastercard)                                         |
| 2200 0000 0000 0004 | succeeds (Mir)                                                |
| 4000 0000 0000 3220 | asks for 3-D Secure, then succeeds (or fails if refused)      |
| 4000 0000 0000 0002 | declined (general_decline)                                    |
| 4000 0000 0000 9995 | declined: insufficient funds                                  |
| 4000 0000 0000 0341 | succeeds and can be saved, but every later charge is declined |

Its state lives in its own SQLite file (stdlib `sqlite3`, not our database): the server
and the worker processes share it, as they would share a real provider.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from podpiska.ports import (
    METHOD_TYPES,
    ChargeRequest,
    GatewayError,
    GatewayNotification,
    GatewayPayment,
    GatewayReceipt,
    GatewayRefund,
    MethodInfo,
    NotificationRejected,
    RefundRequest,
    SettlementReceiptRequest,
)

SIGNATURE_HEADER = "x-sandbox-signature"


@dataclass(frozen=True, slots=True)
class TestCard:
    __test__ = False  # not a pytest class

    number: str
    brand: str
    outcome: str  # succeeded | 3ds | a failure reason
    recurring: str = "succeeded"  # what a later charge of the saved card does


TEST_CARDS: dict[str, TestCard] = {
    c.number: c
    for c in (
        TestCard("4242424242424242", "Visa", "succeeded"),
        TestCard("5555555555554444", "Mastercard", "succeeded"),
        TestCard("2200000000000004", "Mir", "succeeded"),
        TestCard("4000000000003220", "Visa", "3ds"),
        TestCard("4000000000000002", "Visa", "general_decline"),
        TestCard("4000000000009995", "Visa", "insufficient_funds"),
        TestCard("4000000000000341", "Visa", "succeeded", recurring="insufficient_funds"),
    )
}

DEMO_CARD = "2200000000000004"  # Mir, succeeds: the card the demo's autopay customers keep

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE, status TEXT, amount TEXT,
    currency TEXT, description TEXT, method_type TEXT, save_method INTEGER,
    capture INTEGER, method_id TEXT, failure_reason TEXT, return_url TEXT,
    metadata TEXT, receipt TEXT, card TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS methods (
    id TEXT PRIMARY KEY, type TEXT, title TEXT, card TEXT, saved INTEGER,
    script TEXT DEFAULT '[]');
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE, payment_id TEXT, amount TEXT,
    status TEXT, failure_reason TEXT, receipt TEXT);
CREATE TABLE IF NOT EXISTS receipts (
    id TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE, payment_id TEXT, body TEXT);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, delivered INTEGER DEFAULT 0);
"""


@contextmanager
def _setting_up(path: Path | None) -> Iterator[None]:
    """One process at a time sets up the state file (`podpiska serve --workers N` starts N
    at once): SQLite answers two connections switching a new file to WAL and creating its
    tables together with "database is locked" at once, without waiting its timeout."""
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class SandboxGateway:
    """The built-in test provider. `path=None` keeps its state in memory (one process)."""

    name = "sandbox"
    method_types: tuple[str, ...] = METHOD_TYPES
    # Like YooKassa by default: cards and YooMoney wallets can be kept for autopay, SBP
    # payments cannot (a test may change it on an instance).
    savable_method_types: tuple[str, ...] = ("bank_card", "yoo_money")

    def __init__(
        self,
        *,
        path: Path | None,
        base_url: str,
        secret: str,
        notify_url: str | None = None,
        post: Callable[[str, bytes, Mapping[str, str]], int] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret.encode()
        self.notify_url = notify_url
        self.post = post  # sends a webhook; returns the HTTP status
        self._lock = threading.RLock()
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        with _setting_up(path):
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            with self._tx() as db:
                db.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise

    # -- the port ---------------------------------------------------------------------------

    def create_payment(self, request: ChargeRequest) -> GatewayPayment:
        _check_amount(request.amount)
        with self._tx() as db:
            earlier = db.execute(
                "SELECT id FROM payments WHERE idempotency_key = ?", (request.idempotency_key,)
            ).fetchone()
            if earlier is not None:
                return self._payment(db, earlier["id"])
            if request.saved_method_id is None and request.method_type not in self.method_types:
                raise GatewayError(
                    f"unknown payment method type {request.method_type}",
                    final=True,
                    code="invalid_request",
                )
            if (
                request.saved_method_id is None
                and request.save_method
                and request.method_type not in self.savable_method_types
            ):
                raise GatewayError(
                    f"a {request.method_type} payment method cannot be saved",
                    final=True,
                    code="invalid_request",
                )
            if request.receipt is not None:
                items = sum((i.amount for i in request.receipt.items), Decimal(0))
                if items != request.amount:
                    raise GatewayError(
                        f"the receipt's items sum to {items}, the payment is {request.amount}",
                        final=True,
                        code="invalid_request",
                    )
            payment_id = "sbx_" + secrets.token_hex(10)
            db.execute(
                "INSERT INTO payments (id, idempotency_key, status, amount, currency, "
                "description, method_type, save_method, capture, return_url, metadata, receipt) "
                "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payment_id,
                    request.idempotency_key,
                    str(request.amount),
                    request.currency,
                    request.description[:128],
                    request.method_type,
                    int(request.save_method),
                    int(request.capture),
                    request.return_url,
                    json.dumps(dict(request.metadata)),
                    json.dumps(_receipt_json(request)),
                ),
            )
            if request.saved_method_id is not None:
                self._charge_saved(db, payment_id, request.saved_method_id)
            return self._payment(db, payment_id)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        with self._tx() as db:
            return self._payment(db, payment_id)

    def capture_payment(
        self, payment_id: str, *, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayPayment:
        with self._tx() as db:
            row = self._row(db, payment_id)
            if row["status"] == "waiting_for_capture":
                db.execute(
                    "UPDATE payments SET status = 'succeeded', amount = ? WHERE id = ?",
                    (str(amount), payment_id),
                )
                self._notify(db, "payment.succeeded", payment_id)
            elif row["status"] != "succeeded":
                raise GatewayError(
                    f"payment {payment_id} is {row['status']}", final=True, code="invalid_request"
                )
            return self._payment(db, payment_id)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> GatewayPayment:
        with self._tx() as db:
            row = self._row(db, payment_id)
            if row["status"] in ("pending", "waiting_for_capture"):
                self._finish(db, payment_id, "canceled_by_merchant")
            elif row["status"] != "canceled":
                raise GatewayError(
                    f"payment {payment_id} is {row['status']}", final=True, code="invalid_request"
                )
            return self._payment(db, payment_id)

    def create_refund(self, request: RefundRequest) -> GatewayRefund:
        _check_amount(request.amount)
        with self._tx() as db:
            earlier = db.execute(
                "SELECT id FROM refunds WHERE idempotency_key = ?", (request.idempotency_key,)
            ).fetchone()
            if earlier is not None:
                return self._refund(db, earlier["id"])
            payment = self._row(db, request.payment_id)
            if payment["status"] != "succeeded":
                raise GatewayError(
                    f"payment {request.payment_id} is {payment['status']}",
                    final=True,
                    code="invalid_request",
                )
            refunded = sum(
                (
                    Decimal(r["amount"])
                    for r in db.execute(
                        "SELECT amount FROM refunds WHERE payment_id = ? AND status = 'succeeded'",
                        (request.payment_id,),
                    )
                ),
                Decimal(0),
            )
            if refunded + request.amount > Decimal(payment["amount"]):
                raise GatewayError(
                    "the refund exceeds what is left of the payment",
                    final=True,
                    code="invalid_request",
                )
            refund_id = "sbr_" + secrets.token_hex(10)
            db.execute(
                "INSERT INTO refunds (id, idempotency_key, payment_id, amount, status, receipt) "
                "VALUES (?, ?, ?, ?, 'succeeded', ?)",
                (
                    refund_id,
                    request.idempotency_key,
                    request.payment_id,
                    str(request.amount),
                    json.dumps(request.receipt is not None),
                ),
            )
            self._notify(db, "refund.succeeded", refund_id)
            return self._refund(db, refund_id)

    def get_refund(self, refund_id: str) -> GatewayRefund:
        with self._tx() as db:
            return self._refund(db, refund_id)

    def create_receipt(self, request: SettlementReceiptRequest) -> GatewayReceipt:
        """A settlement receipt for a succeeded payment, registered at once; the same key
        answers the receipt made the first time."""
        _check_amount(request.amount)
        with self._tx() as db:
            earlier = db.execute(
                "SELECT id, payment_id FROM receipts WHERE idempotency_key = ?",
                (request.idempotency_key,),
            ).fetchone()
            if earlier is not None:
                return GatewayReceipt(earlier["id"], earlier["payment_id"], "succeeded")
            payment = self._row(db, request.payment_id)
            if payment["status"] != "succeeded":
                raise GatewayError(
                    f"payment {request.payment_id} is {payment['status']}",
                    final=True,
                    code="invalid_request",
                )
            items = sum((i.amount for i in request.receipt.items), Decimal(0))
            if items != request.amount:
                raise GatewayError(
                    f"the receipt's items sum to {items}, the settlement is {request.amount}",
                    final=True,
                    code="invalid_request",
                )
            if not (request.receipt.customer_email or request.receipt.customer_phone):
                raise GatewayError(
                    "a receipt needs the customer's e-mail or phone",
                    final=True,
                    code="invalid_request",
                )
            receipt_id = "sbc_" + secrets.token_hex(10)
            body = {
                "type": "payment",
                "payment_id": request.payment_id,
                "send": True,
                "customer": {
                    "email": request.receipt.customer_email,
                    "phone": request.receipt.customer_phone,
                },
                "items": [
                    {
                        "description": i.description,
                        "quantity": str(i.quantity),
                        "amount": str(i.amount),
                        "vat_code": i.vat_code,
                        "payment_mode": i.payment_mode,
                        "payment_subject": i.payment_subject,
                    }
                    for i in request.receipt.items
                ],
                "settlements": [{"type": "prepayment", "amount": str(request.amount)}],
            }
            db.execute(
                "INSERT INTO receipts (id, idempotency_key, payment_id, body) VALUES (?, ?, ?, ?)",
                (receipt_id, request.idempotency_key, request.payment_id, json.dumps(body)),
            )
            return GatewayReceipt(receipt_id, request.payment_id, "succeeded")

    def receipts(self) -> list[dict[str, Any]]:
        """Every settlement receipt the sandbox registered, with its id (tests read them)."""
        with self._tx() as db:
            return [
                {"id": r["id"], "idempotency_key": r["idempotency_key"], **json.loads(r["body"])}
                for r in db.execute("SELECT * FROM receipts ORDER BY rowid")
            ]

    def parse_notification(
        self, body: bytes, *, remote_addr: str | None, headers: Mapping[str, str]
    ) -> GatewayNotification:
        """A webhook of this sandbox: signed with its secret (a real provider is trusted by
        its networks instead). The caller still fetches the object before trusting it."""
        signature = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise NotificationRejected("the sandbox signature does not match")
        try:
            data = json.loads(body)
            return GatewayNotification(str(data["event"]), str(data["object"]["id"]))
        except (ValueError, KeyError, TypeError) as error:
            raise NotificationRejected(f"unreadable notification: {error}") from None

    # -- what the customer does on the checkout page (and tests do directly) ---------------

    def checkout(self, payment_id: str) -> dict[str, Any]:
        """What the checkout page shows."""
        with self._tx() as db:
            row = self._row(db, payment_id)
            return {
                "id": row["id"],
                "status": row["status"],
                "amount": Decimal(row["amount"]),
                "currency": row["currency"],
                "description": row["description"],
                "method_type": row["method_type"],
                "save_method": bool(row["save_method"]),
                "return_url": row["return_url"],
                "awaiting_3ds": row["failure_reason"] == "awaiting_3ds",
            }

    def pay(self, payment_id: str, *, card: str | None = None, approve: bool = True) -> str:
        """The customer pays on the checkout page: with a card (bank_card) or by approving
        in the wallet or bank app (yoo_money, sbp). Returns the new status."""
        with self._tx() as db:
            row = self._row(db, payment_id)
            if row["status"] != "pending" or row["failure_reason"] == "awaiting_3ds":
                return str(row["status"])
            if row["method_type"] == "bank_card":
                number = "".join(ch for ch in (card or "") if ch.isdigit())
                test_card = TEST_CARDS.get(number)
                if test_card is None:
                    self._finish(db, payment_id, "invalid_card_number")
                    return "canceled"
                db.execute("UPDATE payments SET card = ? WHERE id = ?", (number, payment_id))
                if test_card.outcome == "3ds":
                    db.execute(
                        "UPDATE payments SET failure_reason = 'awaiting_3ds' WHERE id = ?",
                        (payment_id,),
                    )
                    return "pending"
                outcome = test_card.outcome
                self._finish(db, payment_id, None if outcome == "succeeded" else outcome)
            else:
                self._finish(db, payment_id, None if approve else "canceled_by_user")
            return str(self._row(db, payment_id)["status"])

    def confirm_3ds(self, payment_id: str, *, approve: bool) -> str:
        with self._tx() as db:
            row = self._row(db, payment_id)
            if row["status"] == "pending" and row["failure_reason"] == "awaiting_3ds":
                self._finish(db, payment_id, None if approve else "3d_secure_failed")
            return str(self._row(db, payment_id)["status"])

    def script_method(self, method_id: str, outcomes: list[str]) -> None:
        """The next charges of a saved method: failure reasons, or "succeeded" (for tests
        and demos of dunning)."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM methods WHERE id = ?", (method_id,)).fetchone() is None:
                raise KeyError(method_id)
            db.execute(
                "UPDATE methods SET script = ? WHERE id = ?", (json.dumps(outcomes), method_id)
            )

    def payments(self) -> list[GatewayPayment]:
        """Every payment the sandbox knows (tests count them)."""
        with self._tx() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM payments ORDER BY rowid")]
            return [self._payment(db, i) for i in ids]

    def refunds(self) -> list[GatewayRefund]:
        """Every refund the sandbox knows (tests read where each went)."""
        with self._tx() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM refunds ORDER BY rowid")]
            return [self._refund(db, i) for i in ids]

    # -- webhooks to our own endpoint -------------------------------------------------------

    def deliver_notifications(self) -> int:
        """POST every undelivered notification to `notify_url`; what fails stays queued (a
        real provider retries too). Returns how many were delivered."""
        if self.post is None or self.notify_url is None:
            return 0
        with self._tx() as db:
            queued = db.execute(
                "SELECT id, body FROM notifications WHERE delivered = 0 ORDER BY id"
            ).fetchall()
        delivered = 0
        for row in queued:
            body = row["body"].encode()
            try:
                status = self.post(
                    self.notify_url,
                    body,
                    {"content-type": "application/json", SIGNATURE_HEADER: self._sign(body)},
                )
            except Exception:
                continue
            if 200 <= status < 300:
                delivered += 1
                with self._tx() as db:
                    db.execute("UPDATE notifications SET delivered = 1 WHERE id = ?", (row["id"],))
        return delivered

    def queued_notifications(self) -> list[bytes]:
        with self._tx() as db:
            return [
                r["body"].encode()
                for r in db.execute("SELECT body FROM notifications WHERE delivered = 0")
            ]

    def sign(self, body: bytes) -> str:
        return self._sign(body)

    # -- inside -----------------------------------------------------------------------------

    def _sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def _row(self, db: sqlite3.Connection, payment_id: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM payments WHERE id = ?", (payment_id,)).fetchone()
        if row is None:
            raise GatewayError(f"payment {payment_id} not found", final=True, code="not_found")
        return row  # type: ignore[no-any-return]

    def _charge_saved(self, db: sqlite3.Connection, payment_id: str, method_id: str) -> None:
        method = db.execute("SELECT * FROM methods WHERE id = ?", (method_id,)).fetchone()
        if method is None or not method["saved"]:
            self._finish(db, payment_id, "permission_revoked")
            return
        script = json.loads(method["script"])
        if script:
            outcome = script.pop(0)
            db.execute(
                "UPDATE methods SET script = ? WHERE id = ?", (json.dumps(script), method_id)
            )
        else:
            card = TEST_CARDS.get(method["card"] or "")
            outcome = card.recurring if card else "succeeded"
        db.execute(
            "UPDATE payments SET method_id = ?, method_type = ?, card = ? WHERE id = ?",
            (method_id, method["type"], method["card"], payment_id),
        )
        self._finish(db, payment_id, None if outcome == "succeeded" else outcome)

    def _finish(self, db: sqlite3.Connection, payment_id: str, failure: str | None) -> None:
        row = self._row(db, payment_id)
        if failure is not None:
            db.execute(
                "UPDATE payments SET status = 'canceled', failure_reason = ? WHERE id = ?",
                (failure, payment_id),
            )
            self._notify(db, "payment.canceled", payment_id)
            return
        status = "succeeded" if row["capture"] else "waiting_for_capture"
        db.execute(
            "UPDATE payments SET status = ?, failure_reason = NULL WHERE id = ?",
            (status, payment_id),
        )
        if row["method_id"] is None:
            method_id = "sbm_" + secrets.token_hex(10)
            db.execute(
                "INSERT INTO methods (id, type, title, card, saved) VALUES (?, ?, ?, ?, ?)",
                (
                    method_id,
                    row["method_type"],
                    _title(row["method_type"], row["card"]),
                    row["card"],
                    int(bool(row["save_method"])),
                ),
            )
            db.execute("UPDATE payments SET method_id = ? WHERE id = ?", (method_id, payment_id))
        self._notify(db, f"payment.{status}", payment_id)

    def _notify(self, db: sqlite3.Connection, event: str, object_id: str) -> None:
        body = json.dumps({"type": "notification", "event": event, "object": {"id": object_id}})
        db.execute("INSERT INTO notifications (body) VALUES (?)", (body,))

    def _payment(self, db: sqlite3.Connection, payment_id: str) -> GatewayPayment:
        row = self._row(db, payment_id)
        method = None
        if row["method_id"] is not None:
            m = db.execute("SELECT * FROM methods WHERE id = ?", (row["method_id"],)).fetchone()
            method = MethodInfo(m["id"], m["type"], m["title"], bool(m["saved"]))
        waiting = row["status"] == "pending" and row["failure_reason"] == "awaiting_3ds"
        confirmation = None
        if row["status"] == "pending" and row["method_id"] is None:
            path = "3ds" if waiting else "checkout"
            confirmation = f"{self.base_url}/sandbox/{path}/{payment_id}"
        return GatewayPayment(
            id=row["id"],
            status=row["status"],
            amount=Decimal(row["amount"]),
            currency=row["currency"],
            paid=row["status"] in ("succeeded", "waiting_for_capture"),
            confirmation_url=confirmation,
            method=method,
            failure_reason=None if waiting else row["failure_reason"],
            metadata=json.loads(row["metadata"] or "{}"),
            test=True,
        )

    def _refund(self, db: sqlite3.Connection, refund_id: str) -> GatewayRefund:
        row = db.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone()
        if row is None:
            raise GatewayError(f"refund {refund_id} not found", final=True, code="not_found")
        return GatewayRefund(
            id=row["id"],
            payment_id=row["payment_id"],
            status=row["status"],
            amount=Decimal(row["amount"]),
            failure_reason=row["failure_reason"],
        )


def _check_amount(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise GatewayError(f"invalid amount {amount}", final=True, code="invalid_request")


def _title(method_type: str, card: str | None) -> str:
    if method_type == "bank_card" and card:
        brand = TEST_CARDS[card].brand if card in TEST_CARDS else "Card"
        return f"{brand} *{card[-4:]}"
    return {"yoo_money": "YooMoney wallet", "sbp": "SBP"}.get(method_type, method_type)


def _receipt_json(request: ChargeRequest) -> Any:
    if request.receipt is None:
        return None
    return {
        "email": request.receipt.customer_email,
        "items": [
            {"description": i.description, "amount": str(i.amount), "vat_code": i.vat_code}
            for i in request.receipt.items
        ],
    }
