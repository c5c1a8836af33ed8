"""YooKassa (API v3) behind the `PaymentGateway` port.

How the official SDK (`yookassa`, pinned 3.13.0) is used, and why not all of it:

- Its `Configuration` is process-global (class attributes; even `Configuration(...)`
  ignores its arguments) and `Payment.create` & co. build a fresh `ApiClient` from it on
  every call. Reconfiguring it before each call would need a process-wide lock held for
  the whole (slow) HTTP call, and would still race with anything else in the process that
  touches it. So each gateway owns a `_ShopClient`: the SDK's `ApiClient` bound to one
  shop at construction. It never reads or writes the global `Configuration`; it keeps the
  SDK's headers (Basic auth, `YM-User-Agent`) and its retry policy (a `202 Accepted` "still
  processing" answer is asked again, with the same `Idempotence-Key`). It holds no mutable
  state, so one gateway may be used from several threads at once.
- Requests are plain JSON built here, not the SDK's request objects: those pass every
  amount through `float` (`Amount.value = Decimal(str(float(value)))`) and refuse a
  description over 128 characters instead of cutting it. Answers are read from the JSON
  the same way (Decimal from the string), never through the SDK's response objects.
- `ApiClient.request` is not used: it sends without any timeout (a hung connection would
  block a worker forever), turns network errors into `AttributeError` (`None.status_code`)
  and drops the HTTP status of unmapped errors (502, 503, 504), which decides whether an
  outcome is final. `_ShopClient.send` does the same request with a timeout and keeps both.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import requests
from yookassa import Payment, Refund
from yookassa import Receipt as ReceiptApi
from yookassa.client import ApiClient
from yookassa.domain.common import UserAgent

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
    Receipt,
    RefundRequest,
    SettlementReceiptRequest,
)

log = logging.getLogger(__name__)

API_URL = "https://api.yookassa.ru/v3"
TIMEOUT_SECONDS = 30  # per attempt: to connect, then between bytes of the answer
# The SDK's retry policy (`ApiClient.get_session`, urllib3's `Retry`): up to 3 more attempts,
# with the same Idempotence-Key, on a 202 ("processing, ask again") to a POST, on a failed
# connection, and on a read timeout of a POST; waiting 0, then `RETRY_DELAY_MS / 1000 × 2ⁿ` s.
# So a POST to an unresponsive YooKassa gives up after about 4 × `timeout` + 11 s.
RETRY_ATTEMPTS = 3
RETRY_DELAY_MS = 1800

# Where YooKassa sends notifications from, as published in "Входящие уведомления"
# (https://yookassa.ru/developers/using-api/webhooks#ip). The SDK's own
# `SecurityHelper.YOOKASSA_NETWORKS` (3.13.0) lists four /64 subnets of the IPv6 range only.
YOOKASSA_NETWORKS = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11",
    "77.75.156.35",
    "77.75.154.128/25",
    "2a02:5180::/32",
)

# The events to subscribe to in the YooKassa account (docs/yookassa.md).
NOTIFICATION_EVENTS = frozenset(
    {"payment.succeeded", "payment.waiting_for_capture", "payment.canceled", "refund.succeeded"}
)

DESCRIPTION_LIMIT = 128  # payments and receipt items
REFUND_DESCRIPTION_LIMIT = 250
CENT = Decimal("0.01")
QUANTITY_STEP = Decimal("0.001")  # a receipt quantity has at most three decimals
# YooKassa's ids look like "2f8c9b1e-000f-5000-9000-1b2c3d4e5f60"; anything else would be
# pasted into an API path, so it is refused before any request.
_OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_MESSAGE_LIMIT = 300


class _ShopClient(ApiClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's `ApiClient` bound to one shop, independent of the global `Configuration`."""

    def __init__(
        self,
        *,
        shop_id: str,
        secret_key: str,
        timeout: float,  # float-ok: seconds
    ) -> None:
        # Deliberately not `super().__init__()`: it copies the global `Configuration` (and
        # raises when it was never configured). These are the attributes the SDK reads.
        self.configuration = SimpleNamespace(verify=True)
        self.endpoint = API_URL
        self.shop_id = shop_id
        self.shop_password = secret_key
        self.auth_token = None
        self.timeout = RETRY_DELAY_MS  # the SDK's name for the delay between retries
        self.max_attempts = RETRY_ATTEMPTS
        self.user_agent = UserAgent()
        self.network_timeout = timeout

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        request_headers = self.prepare_request_headers(dict(headers or {}))
        session = self.get_session()
        try:
            response: requests.Response = session.request(
                method,
                self.endpoint + path,
                headers=request_headers,
                json=body,
                timeout=self.network_timeout,
            )
            return response
        finally:
            session.close()


class YooKassaGateway:
    """Payments through YooKassa: cards, YooMoney wallets and SBP, saved methods for autopay,
    two-stage payments, refunds, 54-FZ receipts.

    Calls are synchronous HTTP (`requests`) and may take seconds: never inside a database
    transaction. Every call that moves money sends the request's idempotency key as
    YooKassa's `Idempotence-Key`: asked again with the same key (after a `GatewayError`
    with `final=False`), YooKassa answers with what it did the first time.

    Notifications carry no signature. `parse_notification` accepts only those that come
    from YooKassa's published networks and only says *which* object changed: the caller
    must fetch it (`get_payment`, `get_refund`) and trust that answer, never the body.
    `remote_addr` must be the real peer address (the proxy's client address, not a header
    a client can set).
    """

    name = "yookassa"
    method_types: tuple[str, ...] = METHOD_TYPES
    # What YooKassa keeps for autopay in a usual shop: cards and YooMoney wallets. SBP
    # autopayments need a separate agreement with YooKassa, so SBP is not offered for saving.
    savable_method_types: tuple[str, ...] = ("bank_card", "yoo_money")

    def __init__(
        self,
        *,
        shop_id: str,
        secret_key: str,
        return_url_default: str,
        timeout: float = TIMEOUT_SECONDS,  # float-ok: seconds
        allowed_networks: Iterable[str] = YOOKASSA_NETWORKS,
    ) -> None:
        if not shop_id or not secret_key:
            raise ValueError("YooKassa needs a shop id and a secret key")
        self._client = _ShopClient(shop_id=shop_id, secret_key=secret_key, timeout=timeout)
        self._return_url_default = return_url_default
        self._timeout = timeout
        # strict: a network written with host bits (185.71.76.5/27) is a typo, refused here.
        self._networks = tuple(ipaddress.ip_network(n.strip()) for n in allowed_networks)

    def __repr__(self) -> str:
        return f"YooKassaGateway(shop_id={self._client.shop_id!r})"

    # -- payments ------------------------------------------------------------------------

    def create_payment(self, request: ChargeRequest) -> GatewayPayment:
        body: dict[str, Any] = {
            "amount": _amount(request.amount, request.currency),
            "capture": request.capture,
        }
        description = _cut(request.description, DESCRIPTION_LIMIT)
        if description:
            body["description"] = description
        if request.saved_method_id:
            # A recurring charge: the saved method, without the customer (no confirmation).
            body["payment_method_id"] = request.saved_method_id
        else:
            if request.method_type is not None:
                if request.method_type not in METHOD_TYPES:
                    raise _refused(f"unknown payment method type {request.method_type!r}")
                body["payment_method_data"] = {"type": request.method_type}
            body["confirmation"] = {
                "type": "redirect",
                "return_url": request.return_url or self._return_url_default,
            }
            if request.save_method:
                body["save_payment_method"] = True
        if request.receipt is not None:
            body["receipt"] = _receipt(request.receipt, request.amount, request.currency)
        if request.metadata:
            body["metadata"] = {str(k): str(v) for k, v in request.metadata.items()}
        answer = self._call("POST", Payment.base_path, body, request.idempotency_key)
        return _payment(answer)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return _payment(self._call("GET", f"{Payment.base_path}/{_object_id(payment_id)}"))

    def capture_payment(
        self, payment_id: str, *, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayPayment:
        path = f"{Payment.base_path}/{_object_id(payment_id)}/capture"
        body = {"amount": _amount(amount, currency)}
        return _payment(self._call("POST", path, body, idempotency_key))

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> GatewayPayment:
        path = f"{Payment.base_path}/{_object_id(payment_id)}/cancel"
        return _payment(self._call("POST", path, None, idempotency_key))

    # -- refunds -------------------------------------------------------------------------

    def create_refund(self, request: RefundRequest) -> GatewayRefund:
        body: dict[str, Any] = {
            "payment_id": _object_id(request.payment_id),
            "amount": _amount(request.amount, request.currency),
        }
        description = _cut(request.description, REFUND_DESCRIPTION_LIMIT)
        if description:
            body["description"] = description
        if request.receipt is not None:
            body["receipt"] = _receipt(request.receipt, request.amount, request.currency)
        return _refund(self._call("POST", Refund.base_path, body, request.idempotency_key))

    def get_refund(self, refund_id: str) -> GatewayRefund:
        return _refund(self._call("GET", f"{Refund.base_path}/{_object_id(refund_id)}"))

    # -- settlement receipts (чек зачёта предоплаты) ---------------------------------------

    def create_receipt(self, request: SettlementReceiptRequest) -> GatewayReceipt:
        """`POST /v3/receipts`: a receipt of type `payment` for the payment the prepayment
        came with, its items `full_payment`, settled by that prepayment (`settlements`:
        `prepayment`), sent to the customer by YooKassa (`send: true`)."""
        body: dict[str, Any] = {
            "type": "payment",
            "payment_id": _object_id(request.payment_id),
            "send": True,
            **_receipt(request.receipt, request.amount, request.currency),
            "settlements": [
                {"type": "prepayment", "amount": _amount(request.amount, request.currency)}
            ],
        }
        answer = self._call("POST", ReceiptApi.base_path, body, request.idempotency_key)
        try:
            return GatewayReceipt(
                id=str(answer["id"]),
                payment_id=str(answer.get("payment_id") or request.payment_id),
                status=str(answer["status"]),
            )
        except (KeyError, TypeError) as error:
            raise _unreadable("receipt", error) from None

    # -- notifications -------------------------------------------------------------------

    def parse_notification(
        self, body: bytes, *, remote_addr: str | None, headers: Mapping[str, str]
    ) -> GatewayNotification:
        """Which object a YooKassa notification is about, if it comes from YooKassa's
        networks; `NotificationRejected` otherwise. YooKassa signs nothing: `headers` are
        not used. Fetch the object before believing anything about it."""
        if not remote_addr or not remote_addr.strip():
            raise NotificationRejected("no sender address: cannot tell it comes from YooKassa")
        try:
            address = ipaddress.ip_address(remote_addr.strip())
        except ValueError:
            raise NotificationRejected(
                f"the sender address {remote_addr[:64]!r} is not an IP address"
            ) from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:185.71.76.5 on a dual-stack socket
        if not any(address in network for network in self._networks):
            raise NotificationRejected(f"{address} is not one of YooKassa's notification networks")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise NotificationRejected("the notification is not JSON") from None
        if not isinstance(data, dict) or data.get("type") != "notification":
            raise NotificationRejected('not a YooKassa notification (no "type": "notification")')
        event = data.get("event")
        if event not in NOTIFICATION_EVENTS:
            raise NotificationRejected(
                f"unexpected event {str(event)[:64]!r}; expected one of "
                + ", ".join(sorted(NOTIFICATION_EVENTS))
            )
        obj = data.get("object")
        object_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(object_id, str) or not _OBJECT_ID.fullmatch(object_id):
            raise NotificationRejected(f"the {event} notification has no valid object id")
        return GatewayNotification(event=event, object_id=object_id)

    # -- HTTP ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The answer of a 200, or a `GatewayError`. Nothing else leaves this method."""
        what = f"{method} {path}"
        headers = None
        if idempotency_key is not None:
            if not idempotency_key:
                raise _refused(f"{what}: an empty idempotency key")
            headers = {"Idempotence-Key": idempotency_key}
        try:
            response = self._client.send(method, path, body=body, headers=headers)
        except requests.Timeout as exc:
            log.warning("yookassa %s: no answer within %s s", what, self._timeout)
            raise GatewayError(
                f"YooKassa did not answer {what} within {self._timeout} s; outcome unknown"
            ) from exc
        except Exception as exc:  # requests' errors, and anything the SDK's code raises
            detail = _short(f"{type(exc).__name__}: {exc}")
            log.warning("yookassa %s failed: %s", what, detail)
            raise GatewayError(f"YooKassa {what} failed: {detail}; outcome unknown") from exc
        status = response.status_code
        try:
            answer = response.json()
        except ValueError:  # requests' JSONDecodeError
            answer = None
        if status == 200 and isinstance(answer, dict):
            return answer
        error = _http_error(status, answer, what)
        log.warning("yookassa %s: %s", what, error)
        raise error


# -- what is sent ----------------------------------------------------------------------------


def _refused(message: str) -> GatewayError:
    """A request refused before anything was sent."""
    return GatewayError(message, final=True, code="invalid_request")


def _money(value: Decimal) -> str:
    """ "43092.00": exactly two decimals from the Decimal (never through float)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(CENT):
        raise _refused(f"invalid amount {value!r}: a Decimal with at most two decimals")
    return f"{value.quantize(CENT):f}"


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise _refused(f"invalid amount {value!r}: it must be positive")
    return {"value": _money(value), "currency": currency}


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _object_id(value: str) -> str:
    if not isinstance(value, str) or not _OBJECT_ID.fullmatch(value):
        raise _refused(f"invalid YooKassa id {str(value)[:64]!r}")
    return value


def _receipt(receipt: Receipt, total: Decimal, currency: str) -> dict[str, Any]:
    """The 54-FZ receipt: a customer contact and items whose prices sum to the payment."""
    customer: dict[str, str] = {}
    if receipt.customer_email:
        customer["email"] = receipt.customer_email
    if receipt.customer_phone:
        digits = "".join(ch for ch in receipt.customer_phone if ch.isdigit())
        if digits:
            customer["phone"] = digits  # E.164 without "+": 79001234567
    if not customer:
        raise _refused("a 54-FZ receipt needs the customer's e-mail or phone")
    if not receipt.items:
        raise _refused("a 54-FZ receipt needs at least one item")
    items_total = sum((item.amount for item in receipt.items), Decimal(0))
    if items_total != total:
        raise _refused(f"the receipt items sum to {items_total}, not to the amount {total}")
    items = []
    for item in receipt.items:
        quantity, price = _quantity_and_price(item.quantity, item.amount)
        items.append(
            {
                "description": _cut(item.description, DESCRIPTION_LIMIT),
                "quantity": f"{quantity.normalize():f}",
                "amount": {"value": _money(price), "currency": currency},
                "vat_code": item.vat_code,
                "payment_subject": item.payment_subject,
                "payment_mode": item.payment_mode,
            }
        )
    return {"customer": customer, "items": items}


def _quantity_and_price(quantity: Decimal, line_amount: Decimal) -> tuple[Decimal, Decimal]:
    """YooKassa takes a unit price. When the line does not divide into whole kopecks (7 seats
    for 612.00), the line is one unit at its full amount, so that the receipt sums exactly."""
    _money(line_amount)
    try:
        if quantity > 0 and quantity == quantity.quantize(QUANTITY_STEP):
            price = (line_amount / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            if price * quantity == line_amount:
                return quantity, price
    except (InvalidOperation, TypeError):
        pass
    return Decimal(1), line_amount


# -- what is answered ------------------------------------------------------------------------


def _http_error(status: int, answer: object, what: str) -> GatewayError:
    """YooKassa's error (`{"type": "error", "code": ..., "description": ...}`): a 4xx was
    refused and changed nothing; a 429, a 5xx or anything unexpected leaves the outcome
    unknown."""
    data = answer if isinstance(answer, dict) else {}
    code = data.get("code") if isinstance(data.get("code"), str) else None
    description = _short(str(data.get("description") or "no description"))
    parameter = data.get("parameter")
    if parameter:
        description += f" (parameter {_short(str(parameter))})"
    if 400 <= status < 500 and status != 429:
        return GatewayError(
            f"YooKassa refused {what}: {status} {code or ''} {description}".replace("  ", " "),
            final=True,
            code=code or f"http_{status}",
        )
    if status == 200:
        description = "an answer that is not a JSON object"
    return GatewayError(
        f"YooKassa answered {what} with {status}: {description}; outcome unknown",
        final=False,
        code=code,
    )


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _unreadable(what: str, error: Exception) -> GatewayError:
    return GatewayError(f"YooKassa's {what} could not be read: {_short(str(error))}")


def _decimal(amount: Any) -> Decimal:
    value = Decimal(str(amount["value"]))
    if not value.is_finite():
        raise ValueError(f"amount {amount['value']!r}")
    return value


def _payment(data: dict[str, Any]) -> GatewayPayment:
    try:
        confirmation = data.get("confirmation") or {}
        cancellation = data.get("cancellation_details") or {}
        return GatewayPayment(
            id=str(data["id"]),
            status=str(data["status"]),
            amount=_decimal(data["amount"]),
            currency=str(data["amount"]["currency"]),
            paid=bool(data.get("paid", False)),
            confirmation_url=confirmation.get("confirmation_url"),
            method=_method(data.get("payment_method")),
            failure_reason=cancellation.get("reason"),
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
            test=bool(data.get("test", False)),
        )
    except (KeyError, TypeError, AttributeError, ValueError, InvalidOperation) as error:
        raise _unreadable("payment", error) from None


def _method(data: Any) -> MethodInfo | None:
    if not isinstance(data, dict) or not data.get("id"):
        return None
    kind = str(data.get("type", ""))
    return MethodInfo(
        id=str(data["id"]),
        type=kind,
        title=_method_title(kind, data),
        saved=bool(data.get("saved", False)),
    )


def _method_title(kind: str, data: dict[str, Any]) -> str:
    if kind == "bank_card":  # the brand and the last digits, as the notices name the card
        card = data.get("card") or {}
        last4, brand = card.get("last4"), str(card.get("card_type") or "")
        if last4 and brand and brand != "Unknown":
            return f"{brand} *{last4}"
        return f"Bank card *{last4}" if last4 else "Bank card"
    if kind == "yoo_money":
        account = str(data.get("account_number") or "")
        return f"YooMoney wallet {account[:6]}…" if account else "YooMoney wallet"
    if kind == "sbp":
        return "SBP"
    return str(data.get("title") or kind)


def _refund(data: dict[str, Any]) -> GatewayRefund:
    try:
        cancellation = data.get("cancellation_details") or {}
        return GatewayRefund(
            id=str(data["id"]),
            payment_id=str(data["payment_id"]),
            status=str(data["status"]),
            amount=_decimal(data["amount"]),
            failure_reason=cancellation.get("reason"),
        )
    except (KeyError, TypeError, AttributeError, ValueError, InvalidOperation) as error:
        raise _unreadable("refund", error) from None
