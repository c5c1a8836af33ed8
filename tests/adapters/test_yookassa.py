"""The YooKassa gateway against recorded-looking API v3 answers, fully offline.

`responses` intercepts every HTTP request of `requests` (which the SDK uses) and refuses
any URL not registered; on top of that, sockets may not connect at all during these tests.
Each test asserts what is sent (headers, JSON) and what comes back (the port's dataclasses).
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from yookassa import Configuration

from podpiska.adapters import yookassa as yookassa_module
from podpiska.adapters.yookassa import YOOKASSA_NETWORKS, YooKassaGateway
from podpiska.ports import (
    VAT_CODE_22,
    VAT_CODE_22_122,
    VAT_CODE_EXEMPT,
    ChargeRequest,
    GatewayError,
    GatewayNotification,
    GatewayPayment,
    GatewayRefund,
    MethodInfo,
    NotificationRejected,
    PaymentGateway,
    Receipt,
    ReceiptItem,
    RefundRequest,
    SettlementReceiptRequest,
)

API = "https://api.yookassa.ru/v3"
SHOP_ID = "506751"
SECRET = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0"
RETURN_URL = "https://billing.example.ru/pay/return"
PAYMENT_ID = "2ea3e0a6-000f-5000-9000-1b4c9f6a8d21"
PAYMENT_URL = f"{API}/payments/{PAYMENT_ID}"
REFUND_ID = "2ea3f1c2-0015-5000-a000-16f2a1b0c9e3"
CONFIRMATION_URL = f"https://yoomoney.ru/checkout/payments/v2/contract?orderId={PAYMENT_ID}"
ATTEMPT_KEY = "podpiska-attempt-8f14e45f-ceea-467a-9575-0b5c0c4b1e2d"

RECEIPT = Receipt(
    items=(
        ReceiptItem(
            "Тариф «Бизнес», 12 месяцев с 01.12.2026",
            quantity=Decimal(1),
            amount=Decimal("36000.00"),
            vat_code=VAT_CODE_22_122,
            payment_mode="full_prepayment",
        ),
        ReceiptItem(
            "Дополнительные пользователи сверх тарифа, 12 месяцев",
            quantity=Decimal(3),
            amount=Decimal("6480.00"),
            vat_code=VAT_CODE_22,
        ),
        ReceiptItem(
            "Приложение маркетплейса «Склад+», 7 пользователей",
            quantity=Decimal(7),
            amount=Decimal("612.00"),  # 87.428571... a user: sent as 1 × 612.00
            vat_code=VAT_CODE_EXEMPT,
        ),
    ),
    customer_email="buh@romashka.ru",
)


# -- recorded-looking answers of YooKassa API v3 ------------------------------------------


def pending_payment() -> dict[str, Any]:
    return {
        "id": PAYMENT_ID,
        "status": "pending",
        "amount": {"value": "43092.00", "currency": "RUB"},
        "description": "Счёт № 2026-000123: тариф «Бизнес» на 12 месяцев",
        "recipient": {"account_id": SHOP_ID, "gateway_id": "2231742"},
        "payment_method": {
            "type": "bank_card",
            "id": PAYMENT_ID,
            "saved": False,
            "status": "inactive",
        },
        "created_at": "2026-11-23T09:15:42.318Z",
        "confirmation": {"type": "redirect", "confirmation_url": CONFIRMATION_URL},
        "test": True,
        "paid": False,
        "refundable": False,
        "metadata": {"attempt_id": "8f14e45f-ceea-467a-9575-0b5c0c4b1e2d", "invoice": "123"},
    }


def succeeded_card_payment() -> dict[str, Any]:
    return {
        "id": PAYMENT_ID,
        "status": "succeeded",
        "amount": {"value": "43092.00", "currency": "RUB"},
        "income_amount": {"value": "41584.78", "currency": "RUB"},
        "description": "Счёт № 2026-000123: тариф «Бизнес» на 12 месяцев",
        "recipient": {"account_id": SHOP_ID, "gateway_id": "2231742"},
        "payment_method": {
            "type": "bank_card",
            "id": PAYMENT_ID,
            "saved": True,
            "status": "active",
            "title": "Bank card *4242",
            "card": {
                "first6": "424242",
                "last4": "4242",
                "expiry_year": "2029",
                "expiry_month": "07",
                "card_type": "Visa",
                "card_product": {"code": "A", "name": "VISA Traditional"},
                "issuer_country": "RU",
                "issuer_name": "Sberbank",
            },
        },
        "captured_at": "2026-11-23T09:17:03.512Z",
        "created_at": "2026-11-23T09:15:42.318Z",
        "test": True,
        "refunded_amount": {"value": "0.00", "currency": "RUB"},
        "paid": True,
        "refundable": True,
        "receipt_registration": "succeeded",
        "metadata": {"attempt_id": "8f14e45f-ceea-467a-9575-0b5c0c4b1e2d", "invoice": "123"},
        "authorization_details": {
            "rrn": "603668680243",
            "auth_code": "000000",
            "three_d_secure": {
                "applied": True,
                "method_completed": True,
                "challenge_completed": True,
            },
        },
    }


def canceled_payment() -> dict[str, Any]:
    return {
        "id": PAYMENT_ID,
        "status": "canceled",
        "amount": {"value": "43092.00", "currency": "RUB"},
        "description": "Автопродление: тариф «Бизнес» на 12 месяцев",
        "recipient": {"account_id": SHOP_ID, "gateway_id": "2231742"},
        "payment_method": {
            "type": "bank_card",
            "id": "2e9b7a1d-000f-5000-8000-1c5a3b2d4e6f",
            "saved": True,
            "status": "active",
            "title": "Bank card *9995",
            "card": {
                "first6": "400000",
                "last4": "9995",
                "expiry_year": "2028",
                "expiry_month": "03",
                "card_type": "Visa",
                "issuer_country": "RU",
            },
        },
        "created_at": "2026-11-23T03:00:12.004Z",
        "test": True,
        "paid": False,
        "refundable": False,
        "metadata": {"attempt_id": "c4ca4238-a0b9-3382-8dcc-509a6f75849b"},
        "cancellation_details": {"party": "payment_network", "reason": "insufficient_funds"},
    }


def waiting_for_capture_payment() -> dict[str, Any]:
    return {
        "id": PAYMENT_ID,
        "status": "waiting_for_capture",
        "amount": {"value": "43092.00", "currency": "RUB"},
        "description": "Счёт № 2026-000123: тариф «Бизнес» на 12 месяцев",
        "recipient": {"account_id": SHOP_ID, "gateway_id": "2231742"},
        "payment_method": {
            "type": "bank_card",
            "id": PAYMENT_ID,
            "saved": False,
            "status": "inactive",
            "title": "Bank card *4444",
            "card": {
                "first6": "555555",
                "last4": "4444",
                "expiry_year": "2030",
                "expiry_month": "01",
                "card_type": "MasterCard",
                "issuer_country": "RU",
            },
        },
        "created_at": "2026-11-23T09:15:42.318Z",
        "expires_at": "2026-11-30T09:16:10.112Z",
        "test": True,
        "paid": True,
        "refundable": False,
        "metadata": {"attempt_id": "8f14e45f-ceea-467a-9575-0b5c0c4b1e2d"},
    }


def succeeded_refund() -> dict[str, Any]:
    return {
        "id": REFUND_ID,
        "payment_id": PAYMENT_ID,
        "status": "succeeded",
        "created_at": "2026-12-02T11:04:27.941Z",
        "amount": {"value": "6480.00", "currency": "RUB"},
        "description": "Возврат: отказ от 3 дополнительных пользователей",
        "receipt_registration": "succeeded",
    }


def error_body(code: str, description: str, parameter: str | None = None) -> dict[str, Any]:
    body = {
        "type": "error",
        "id": "019a4f3e-6c1d-7c5b-9e2f-3a8b1c2d4e5f",
        "code": code,
        "description": description,
    }
    if parameter:
        body["parameter"] = parameter
    return body


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a request that slipped past `responses` could not leave this machine."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in a YooKassa test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # not even a DNS query
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    # Strict: unregistered URLs raise, and every registered answer must have been asked.
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def gateway() -> YooKassaGateway:
    return YooKassaGateway(shop_id=SHOP_ID, secret_key=SECRET, return_url_default=RETURN_URL)


def sent_json(call: Any) -> Any:
    return json.loads(call.request.body)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def charge(**changes: Any) -> ChargeRequest:
    fields: dict[str, Any] = {
        "idempotency_key": ATTEMPT_KEY,
        "amount": Decimal("43092.00"),
        "currency": "RUB",
        "description": "Счёт № 2026-000123: тариф «Бизнес» на 12 месяцев",
        "method_type": "bank_card",
        "receipt": RECEIPT,
        "metadata": {"attempt_id": "8f14e45f-ceea-467a-9575-0b5c0c4b1e2d", "invoice": "123"},
    }
    fields.update(changes)
    return ChargeRequest(**fields)


# -- payments ------------------------------------------------------------------------------


def test_it_is_a_payment_gateway(gateway: YooKassaGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "yookassa"
    assert SECRET not in repr(gateway)


def test_customer_payment_sends_everything_and_returns_the_confirmation_url(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.post(f"{API}/payments", json=pending_payment())

    payment = gateway.create_payment(charge(save_method=True))

    assert payment == GatewayPayment(
        id=PAYMENT_ID,
        status="pending",
        amount=Decimal("43092.00"),
        currency="RUB",
        paid=False,
        confirmation_url=CONFIRMATION_URL,
        method=MethodInfo(PAYMENT_ID, "bank_card", "Bank card", saved=False),
        failure_reason=None,
        metadata={"attempt_id": "8f14e45f-ceea-467a-9575-0b5c0c4b1e2d", "invoice": "123"},
        test=True,
    )
    (call,) = api.calls
    assert call.request.method == "POST"
    assert call.request.headers["Idempotence-Key"] == ATTEMPT_KEY
    assert call.request.headers["Authorization"] == basic_auth(SHOP_ID, SECRET)
    assert call.request.headers["Content-Type"] == "application/json"
    assert "YooKassa.Python" in call.request.headers["YM-User-Agent"]
    assert sent_json(call) == {
        "amount": {"value": "43092.00", "currency": "RUB"},
        "capture": True,
        "description": "Счёт № 2026-000123: тариф «Бизнес» на 12 месяцев",
        "payment_method_data": {"type": "bank_card"},
        "confirmation": {"type": "redirect", "return_url": RETURN_URL},
        "save_payment_method": True,
        "metadata": {"attempt_id": "8f14e45f-ceea-467a-9575-0b5c0c4b1e2d", "invoice": "123"},
        "receipt": {
            "customer": {"email": "buh@romashka.ru"},
            "items": [
                {
                    "description": "Тариф «Бизнес», 12 месяцев с 01.12.2026",
                    "quantity": "1",
                    "amount": {"value": "36000.00", "currency": "RUB"},
                    "vat_code": 12,
                    "payment_subject": "service",
                    "payment_mode": "full_prepayment",
                },
                {
                    "description": "Дополнительные пользователи сверх тарифа, 12 месяцев",
                    "quantity": "3",
                    "amount": {"value": "2160.00", "currency": "RUB"},
                    "vat_code": 11,
                    "payment_subject": "service",
                    "payment_mode": "full_payment",
                },
                {
                    "description": "Приложение маркетплейса «Склад+», 7 пользователей",
                    "quantity": "1",
                    "amount": {"value": "612.00", "currency": "RUB"},
                    "vat_code": 1,
                    "payment_subject": "service",
                    "payment_mode": "full_payment",
                },
            ],
        },
    }


def test_receipt_items_sum_exactly_to_the_payment(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.post(f"{API}/payments", json=pending_payment())
    gateway.create_payment(charge())
    items = sent_json(api.calls[0])["receipt"]["items"]
    total = sum(Decimal(i["amount"]["value"]) * Decimal(i["quantity"]) for i in items)
    assert total == Decimal("43092.00")
    assert all(isinstance(i["quantity"], str) for i in items)


def test_own_return_url_wallet_and_sbp_and_no_method(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    for _ in range(3):
        api.post(f"{API}/payments", json=pending_payment())

    gateway.create_payment(charge(method_type="yoo_money", return_url="https://x.ru/back"))
    gateway.create_payment(charge(method_type="sbp", receipt=None))
    gateway.create_payment(charge(method_type=None, metadata={}))

    wallet, sbp, any_method = (sent_json(c) for c in api.calls)
    assert wallet["payment_method_data"] == {"type": "yoo_money"}
    assert wallet["confirmation"] == {"type": "redirect", "return_url": "https://x.ru/back"}
    assert "save_payment_method" not in wallet
    assert sbp["payment_method_data"] == {"type": "sbp"}
    assert "receipt" not in sbp
    assert "payment_method_data" not in any_method  # the customer chooses on YooKassa's page
    assert "metadata" not in any_method  # and no "cms_name" the SDK would have added
    assert any_method["confirmation"]["return_url"] == RETURN_URL


def test_recurring_charge_uses_the_saved_method_without_confirmation(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.post(f"{API}/payments", json=succeeded_card_payment())

    payment = gateway.create_payment(
        charge(method_type=None, saved_method_id=PAYMENT_ID, description="Автопродление")
    )

    body = sent_json(api.calls[0])
    assert body["payment_method_id"] == PAYMENT_ID
    assert "confirmation" not in body
    assert "payment_method_data" not in body
    assert "save_payment_method" not in body
    assert body["capture"] is True
    assert api.calls[0].request.headers["Idempotence-Key"] == ATTEMPT_KEY
    assert payment.status == "succeeded"
    assert payment.paid is True
    assert payment.confirmation_url is None
    assert payment.method == MethodInfo(PAYMENT_ID, "bank_card", "Visa *4242", saved=True)


def test_get_succeeded_payment_with_saved_card(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.get(PAYMENT_URL, json=succeeded_card_payment())

    payment = gateway.get_payment(PAYMENT_ID)

    assert payment.status == "succeeded"
    assert payment.amount == Decimal("43092.00")
    assert payment.method == MethodInfo(PAYMENT_ID, "bank_card", "Visa *4242", saved=True)
    assert payment.failure_reason is None
    assert payment.test is True
    (call,) = api.calls
    assert call.request.method == "GET"
    assert "Idempotence-Key" not in call.request.headers
    assert call.request.headers["Authorization"] == basic_auth(SHOP_ID, SECRET)


def test_canceled_payment_says_why(api: responses.RequestsMock, gateway: YooKassaGateway) -> None:
    api.get(PAYMENT_URL, json=canceled_payment())

    payment = gateway.get_payment(PAYMENT_ID)

    assert payment.status == "canceled"
    assert payment.paid is False
    assert payment.failure_reason == "insufficient_funds"
    assert payment.method is not None
    assert payment.method.title == "Visa *9995"
    assert payment.metadata == {"attempt_id": "c4ca4238-a0b9-3382-8dcc-509a6f75849b"}


def test_wallet_and_sbp_titles(api: responses.RequestsMock, gateway: YooKassaGateway) -> None:
    wallet = succeeded_card_payment()
    wallet["payment_method"] = {
        "type": "yoo_money",
        "id": PAYMENT_ID,
        "saved": True,
        "status": "active",
        "title": "YooMoney wallet 410011758831136",
        "account_number": "410011758831136",
    }
    sbp = succeeded_card_payment()
    sbp["payment_method"] = {
        "type": "sbp",
        "id": PAYMENT_ID,
        "saved": False,
        "status": "inactive",
        "sbp_operation_id": "1027088AE4CB48CB81287833347A8777",
        "payer_bank_details": {"bank_id": "100000000111", "bic": "044525225"},
    }
    api.get(PAYMENT_URL, json=wallet)
    api.get(PAYMENT_URL, json=sbp)

    assert gateway.get_payment(PAYMENT_ID).method == MethodInfo(
        PAYMENT_ID, "yoo_money", "YooMoney wallet 410011…", saved=True
    )
    assert gateway.get_payment(PAYMENT_ID).method == MethodInfo(
        PAYMENT_ID, "sbp", "SBP", saved=False
    )


def test_two_stage_payment_capture_and_cancel(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.post(f"{API}/payments", json=waiting_for_capture_payment())
    captured = succeeded_card_payment()
    captured["payment_method"]["saved"] = False
    api.post(f"{PAYMENT_URL}/capture", json=captured)
    canceled = waiting_for_capture_payment() | {
        "status": "canceled",
        "paid": False,
        "cancellation_details": {"party": "merchant", "reason": "canceled_by_merchant"},
    }
    api.post(f"{PAYMENT_URL}/cancel", json=canceled)

    held = gateway.create_payment(charge(capture=False))
    done = gateway.capture_payment(
        PAYMENT_ID, amount=Decimal("43092"), currency="RUB", idempotency_key="capture-1"
    )
    dropped = gateway.cancel_payment(PAYMENT_ID, idempotency_key="cancel-1")

    create, capture, cancel = api.calls
    assert sent_json(create)["capture"] is False
    assert held.status == "waiting_for_capture"
    assert held.paid is True
    assert held.method == MethodInfo(PAYMENT_ID, "bank_card", "MasterCard *4444", saved=False)
    assert capture.request.headers["Idempotence-Key"] == "capture-1"
    assert sent_json(capture) == {"amount": {"value": "43092.00", "currency": "RUB"}}
    assert done.status == "succeeded"
    assert cancel.request.headers["Idempotence-Key"] == "cancel-1"
    assert cancel.request.headers["Authorization"] == basic_auth(SHOP_ID, SECRET)
    assert dropped.status == "canceled"
    assert dropped.failure_reason == "canceled_by_merchant"


def test_amounts_never_go_through_float(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    # The SDK's own Amount would send Decimal(str(float(...))): "12345678901234568.00".
    api.post(f"{API}/payments", json=pending_payment())
    gateway.create_payment(charge(amount=Decimal("12345678901234567.89"), receipt=None))
    assert sent_json(api.calls[0])["amount"]["value"] == "12345678901234567.89"


def test_long_descriptions_are_cut_to_128(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.post(f"{API}/payments", json=pending_payment())
    long_text = "Продление тарифа «Бизнес» и дополнительных приложений маркетплейса " * 4
    receipt = Receipt(
        items=(ReceiptItem(long_text, Decimal(1), Decimal("43092.00"), VAT_CODE_22),),
        customer_phone="+7 (916) 123-45-67",
    )

    gateway.create_payment(charge(description=long_text, receipt=receipt))

    body = sent_json(api.calls[0])
    assert len(body["description"]) == 128
    assert body["description"].endswith("…")
    assert len(body["receipt"]["items"][0]["description"]) == 128
    assert body["receipt"]["customer"] == {"phone": "79161234567"}


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"amount": Decimal("43092.005")}, "invalid amount"),
        ({"amount": Decimal(0), "receipt": None}, "positive"),
        ({"method_type": "crypto"}, "unknown payment method type"),
        ({"amount": Decimal("43093.00")}, "receipt items sum to 43092.00"),
        ({"receipt": Receipt(items=RECEIPT.items)}, "e-mail or phone"),
        ({"idempotency_key": ""}, "empty idempotency key"),
    ],
)
def test_bad_requests_are_refused_before_sending(
    api: responses.RequestsMock, gateway: YooKassaGateway, changes: dict[str, Any], why: str
) -> None:
    with pytest.raises(GatewayError, match=why) as caught:
        gateway.create_payment(charge(**changes))
    assert caught.value.final is True
    assert caught.value.code == "invalid_request"
    assert len(api.calls) == 0


@pytest.mark.parametrize("bad_id", ["../refunds/x", "2ea3e0a6?limit=1", "", "a" * 65])
def test_ids_are_never_pasted_into_paths(
    api: responses.RequestsMock, gateway: YooKassaGateway, bad_id: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        gateway.get_payment(bad_id)
    assert caught.value.final is True
    assert len(api.calls) == 0


# -- refunds -------------------------------------------------------------------------------


def test_refund_with_receipt(api: responses.RequestsMock, gateway: YooKassaGateway) -> None:
    api.post(f"{API}/refunds", json=succeeded_refund())
    api.get(f"{API}/refunds/{REFUND_ID}", json=succeeded_refund())
    receipt = Receipt(items=(RECEIPT.items[1],), customer_email="buh@romashka.ru")

    refund = gateway.create_refund(
        RefundRequest(
            idempotency_key="refund-attempt-77",
            payment_id=PAYMENT_ID,
            amount=Decimal("6480.00"),
            currency="RUB",
            description="Возврат: отказ от 3 дополнительных пользователей",
            receipt=receipt,
        )
    )
    again = gateway.get_refund(REFUND_ID)

    expected = GatewayRefund(REFUND_ID, PAYMENT_ID, "succeeded", Decimal("6480.00"), None)
    assert refund == expected
    assert again == expected
    create, get = api.calls
    assert create.request.headers["Idempotence-Key"] == "refund-attempt-77"
    assert create.request.headers["Authorization"] == basic_auth(SHOP_ID, SECRET)
    assert sent_json(create) == {
        "payment_id": PAYMENT_ID,
        "amount": {"value": "6480.00", "currency": "RUB"},
        "description": "Возврат: отказ от 3 дополнительных пользователей",
        "receipt": {
            "customer": {"email": "buh@romashka.ru"},
            "items": [
                {
                    "description": "Дополнительные пользователи сверх тарифа, 12 месяцев",
                    "quantity": "3",
                    "amount": {"value": "2160.00", "currency": "RUB"},
                    "vat_code": 11,
                    "payment_subject": "service",
                    "payment_mode": "full_payment",
                }
            ],
        },
    }
    assert get.request.method == "GET"


def test_canceled_refund_says_why(api: responses.RequestsMock, gateway: YooKassaGateway) -> None:
    body = succeeded_refund() | {
        "status": "canceled",
        "cancellation_details": {"party": "yoo_money", "reason": "insufficient_funds"},
    }
    api.get(f"{API}/refunds/{REFUND_ID}", json=body)
    refund = gateway.get_refund(REFUND_ID)
    assert refund.status == "canceled"
    assert refund.failure_reason == "insufficient_funds"


def test_settlement_receipt_offsets_the_prepayment(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    receipt_id = "rt-2ea3f1c2-0015-5000-a000-16f2a1b0c9e4"
    api.post(
        f"{API}/receipts",
        json={
            "id": receipt_id,
            "type": "payment",
            "payment_id": PAYMENT_ID,
            "status": "pending",
            "items": [],
            "settlements": [
                {"type": "prepayment", "amount": {"value": "3591.00", "currency": "RUB"}}
            ],
        },
    )
    item = ReceiptItem(
        "Услуги по УПД № UPD-2026-000001 (зачёт предоплаты)",
        quantity=Decimal(1),
        amount=Decimal("3591.00"),
        vat_code=VAT_CODE_22,
        payment_mode="full_payment",
    )
    answer = gateway.create_receipt(
        SettlementReceiptRequest(
            idempotency_key="settlement-7",
            payment_id=PAYMENT_ID,
            amount=Decimal("3591.00"),
            currency="RUB",
            receipt=Receipt(items=(item,), customer_email="buh@romashka.ru"),
        )
    )
    assert (answer.id, answer.payment_id, answer.status) == (receipt_id, PAYMENT_ID, "pending")
    (create,) = api.calls
    assert create.request.headers["Idempotence-Key"] == "settlement-7"
    assert sent_json(create) == {
        "type": "payment",
        "payment_id": PAYMENT_ID,
        "send": True,
        "customer": {"email": "buh@romashka.ru"},
        "items": [
            {
                "description": "Услуги по УПД № UPD-2026-000001 (зачёт предоплаты)",
                "quantity": "1",
                "amount": {"value": "3591.00", "currency": "RUB"},
                "vat_code": 11,
                "payment_subject": "service",
                "payment_mode": "full_payment",
            }
        ],
        "settlements": [{"type": "prepayment", "amount": {"value": "3591.00", "currency": "RUB"}}],
    }


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("Connection reset by peer"),
        requests.ConnectTimeout("connect timeout"),
        requests.ReadTimeout("read timeout"),
    ],
)
def test_network_errors_leave_the_outcome_unknown(
    api: responses.RequestsMock, gateway: YooKassaGateway, failure: Exception
) -> None:
    api.post(f"{API}/payments", body=failure)
    with pytest.raises(GatewayError) as caught:
        gateway.create_payment(charge())
    assert caught.value.final is False
    assert "outcome unknown" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            500,
            error_body("internal_server_error", "Internal server error"),
            "internal_server_error",
        ),
        (429, error_body("too_many_requests", "Too many requests"), "too_many_requests"),
        (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", None),
        (503, "", None),
        (200, "<html>maintenance</html>", None),
    ],
)
def test_server_errors_leave_the_outcome_unknown(
    api: responses.RequestsMock,
    gateway: YooKassaGateway,
    status: int,
    body: Any,
    code: str | None,
) -> None:
    if isinstance(body, dict):
        api.post(f"{API}/payments", json=body, status=status)
    else:
        api.post(f"{API}/payments", body=body, status=status, content_type="text/html")
    with pytest.raises(GatewayError) as caught:
        gateway.create_payment(charge())
    assert caught.value.final is False
    assert caught.value.code == code


def test_still_processing_202_is_asked_again_then_left_unknown(
    monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock
) -> None:
    monkeypatch.setattr(yookassa_module, "RETRY_DELAY_MS", 0)
    gateway = YooKassaGateway(shop_id=SHOP_ID, secret_key=SECRET, return_url_default=RETURN_URL)
    processing = {"type": "processing", "description": "Request accepted", "retry_after": 1800}
    api.post(f"{API}/payments", json=processing, status=202)
    with pytest.raises(GatewayError) as caught:
        gateway.create_payment(charge())
    assert caught.value.final is False
    assert len(api.calls) == 4  # the first request and the SDK's three retries
    assert {c.request.headers["Idempotence-Key"] for c in api.calls} == {ATTEMPT_KEY}


@pytest.mark.parametrize(
    ("status", "code", "description", "parameter"),
    [
        (400, "invalid_request", "Receipt is missing or illegal", "receipt"),
        (401, "invalid_credentials", "Login or password is incorrect", None),
        (403, "forbidden", "Recurring payments are not allowed for this shop", None),
        (404, "not_found", "Payment doesn't exist or access denied", None),
    ],
)
def test_refusals_are_final_with_the_yookassa_code(
    api: responses.RequestsMock,
    gateway: YooKassaGateway,
    status: int,
    code: str,
    description: str,
    parameter: str | None,
) -> None:
    api.post(f"{API}/payments", json=error_body(code, description, parameter), status=status)
    with pytest.raises(GatewayError) as caught:
        gateway.create_payment(charge())
    assert caught.value.final is True
    assert caught.value.code == code
    assert description in str(caught.value)
    if parameter:
        assert parameter in str(caught.value)


def test_not_found_payment_is_final(api: responses.RequestsMock, gateway: YooKassaGateway) -> None:
    body = error_body("not_found", "Payment doesn't exist or access denied")
    api.get(PAYMENT_URL, json=body, status=404)
    with pytest.raises(GatewayError) as caught:
        gateway.get_payment(PAYMENT_ID)
    assert (caught.value.final, caught.value.code) == (True, "not_found")


def test_unreadable_answer_is_a_gateway_error(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    api.get(PAYMENT_URL, json={"id": PAYMENT_ID, "status": "succeeded"})  # no amount
    api.get(f"{API}/refunds/{REFUND_ID}", json={"id": REFUND_ID, "amount": "lots"})
    with pytest.raises(GatewayError) as payment_error:
        gateway.get_payment(PAYMENT_ID)
    with pytest.raises(GatewayError) as refund_error:
        gateway.get_refund(REFUND_ID)
    assert payment_error.value.final is False
    assert refund_error.value.final is False


# -- configuration: one client per gateway, no global state, no real network ---------------


def test_the_global_sdk_configuration_is_never_used(api: responses.RequestsMock) -> None:
    before = (Configuration.account_id, Configuration.secret_key, Configuration.auth_token)
    first = YooKassaGateway(shop_id="111111", secret_key="test_first", return_url_default="x")
    second = YooKassaGateway(shop_id="222222", secret_key="live_second", return_url_default="y")
    api.get(PAYMENT_URL, json=succeeded_card_payment())
    api.get(PAYMENT_URL, json=succeeded_card_payment())

    first.get_payment(PAYMENT_ID)
    second.get_payment(PAYMENT_ID)

    assert api.calls[0].request.headers["Authorization"] == basic_auth("111111", "test_first")
    assert api.calls[1].request.headers["Authorization"] == basic_auth("222222", "live_second")
    assert (Configuration.account_id, Configuration.secret_key, Configuration.auth_token) == before


def test_no_request_reaches_the_real_network(
    api: responses.RequestsMock, gateway: YooKassaGateway
) -> None:
    # Nothing registered: `responses` refuses the call, which is a network error to us.
    with pytest.raises(GatewayError) as caught:
        gateway.get_refund(REFUND_ID)
    assert caught.value.final is False
    assert "Connection refused by Responses" in str(caught.value)
    (call,) = api.calls
    assert call.request.url == f"{API}/refunds/{REFUND_ID}"
    with pytest.raises(OSError, match="network access"):
        socket.create_connection(("api.yookassa.ru", 443), timeout=1)
    with socket.socket() as sock, pytest.raises(OSError, match="network access"):
        sock.connect(("185.71.76.5", 443))


# -- notifications -------------------------------------------------------------------------


def notification(event: str = "payment.succeeded", object_id: str = PAYMENT_ID) -> bytes:
    body = {
        "type": "notification",
        "event": event,
        "object": succeeded_card_payment() | {"id": object_id},
    }
    return json.dumps(body, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "address", ["185.71.76.5", "185.71.77.30", "77.75.156.11", "2a02:5180::1", "::ffff:77.75.153.7"]
)
def test_notification_from_yookassa_networks(gateway: YooKassaGateway, address: str) -> None:
    assert gateway.parse_notification(
        notification(), remote_addr=address, headers={"Content-Type": "application/json"}
    ) == GatewayNotification("payment.succeeded", PAYMENT_ID)


@pytest.mark.parametrize(
    ("event", "object_id"),
    [
        ("payment.waiting_for_capture", PAYMENT_ID),
        ("payment.canceled", PAYMENT_ID),
        ("refund.succeeded", REFUND_ID),
    ],
)
def test_notification_events(gateway: YooKassaGateway, event: str, object_id: str) -> None:
    parsed = gateway.parse_notification(
        notification(event, object_id), remote_addr="77.75.154.200", headers={}
    )
    assert parsed == GatewayNotification(event, object_id)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("8.8.8.8", "not one of YooKassa's notification networks"),
        ("185.71.76.32", "not one of YooKassa's notification networks"),  # just outside /27
        ("77.75.156.12", "not one of YooKassa's notification networks"),
        ("2a03:5180::1", "not one of YooKassa's notification networks"),
        (None, "no sender address"),
        ("", "no sender address"),
        ("yookassa.ru", "not an IP address"),
    ],
)
def test_notification_from_elsewhere_is_rejected(
    gateway: YooKassaGateway, address: str | None, why: str
) -> None:
    with pytest.raises(NotificationRejected, match=why):
        gateway.parse_notification(notification(), remote_addr=address, headers={})


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"event=payment.succeeded", "not JSON"),
        (b"\xff\xfe{", "not JSON"),
        (b"[]", "not a YooKassa notification"),
        (b'{"event": "payment.succeeded", "object": {"id": "x"}}', "not a YooKassa notification"),
        (notification("payout.succeeded"), "unexpected event 'payout.succeeded'"),
        (b'{"type": "notification", "event": "payment.succeeded"}', "no valid object id"),
        (
            b'{"type": "notification", "event": "payment.succeeded", "object": {"id": 5}}',
            "no valid object id",
        ),
        (notification(object_id="../../me"), "no valid object id"),
    ],
)
def test_malformed_notification_is_rejected(
    gateway: YooKassaGateway, body: bytes, why: str
) -> None:
    with pytest.raises(NotificationRejected, match=why):
        gateway.parse_notification(body, remote_addr="185.71.76.5", headers={})


def test_allowed_networks_can_be_overridden() -> None:
    local = YooKassaGateway(
        shop_id=SHOP_ID,
        secret_key=SECRET,
        return_url_default=RETURN_URL,
        allowed_networks=["10.0.0.0/8", "::1"],
    )
    assert local.parse_notification(notification(), remote_addr="10.1.2.3", headers={})
    assert local.parse_notification(notification(), remote_addr="::1", headers={})
    with pytest.raises(NotificationRejected):
        local.parse_notification(notification(), remote_addr="185.71.76.5", headers={})
    with pytest.raises(ValueError, match="host bits"):
        YooKassaGateway(
            shop_id=SHOP_ID,
            secret_key=SECRET,
            return_url_default=RETURN_URL,
            allowed_networks=["185.71.76.5/27"],
        )
    assert "2a02:5180::/32" in YOOKASSA_NETWORKS
