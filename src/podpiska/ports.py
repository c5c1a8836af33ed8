"""Ports: the outside world as Protocols. Concrete adapters are wired in `podpiska.app`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


class Clock(Protocol):
    """Where time comes from. Domain and services never read the wall clock themselves."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self, timezone: str) -> date:
        """Today's date in the given IANA timezone (Europe/Moscow by default in catalogs)."""
        ...


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class Mailer(Protocol):
    """Sends an e-mail or raises `DeliveryFailed`."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int
    body: str = ""


class WebhookSender(Protocol):
    """POSTs a webhook; returns the response or raises `DeliveryFailed` (network errors)."""

    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse: ...


class DeliveryFailed(Exception):
    """A mail server or a webhook endpoint could not be reached or refused the message.
    `permanent`: trying again cannot help (a mail server's 5xx for the recipient or the
    message), so the delivery is dead at once instead of retried for three days."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


# --- payments ------------------------------------------------------------------------------

# How a customer pays through a gateway: a bank card, a YooMoney wallet, the Faster Payments
# System (СБП). Which of them a provider takes, and which it can keep (save) for autopay when
# the customer consents, each gateway says itself (`PaymentGateway.method_types`,
# `.savable_method_types`).
METHOD_TYPES = ("bank_card", "yoo_money", "sbp")

# 54-FZ VAT codes of YooKassa receipts: 1 "без НДС", 11 "22 %", 12 "22/122" (prepayment).
VAT_CODE_EXEMPT = 1
VAT_CODE_22 = 11
VAT_CODE_22_122 = 12
# Every VAT rate a receipt can carry (percent, as the catalog writes it) and its two codes:
# (the rate, the calculated rate a prepayment is taxed at). A rate not here has no receipt
# code: the catalog refuses it, and a receipt for it is an error, never "без НДС".
VAT_CODES: dict[str, tuple[int, int]] = {
    "22": (VAT_CODE_22, VAT_CODE_22_122),
    "20": (4, 6),
    "10": (3, 5),
    "7": (8, 10),
    "5": (7, 9),
    "0": (2, 2),
}


@dataclass(frozen=True, slots=True)
class ReceiptItem:
    """One line of a 54-FZ receipt. `amount` is the line's total (price × quantity)."""

    description: str  # at most 128 characters
    quantity: Decimal
    amount: Decimal
    vat_code: int
    payment_subject: str = "service"
    payment_mode: str = "full_payment"  # or full_prepayment (paid before the term starts)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The receipt sent with a payment or a refund: the items sum to its amount."""

    items: tuple[ReceiptItem, ...]
    customer_email: str | None = None
    customer_phone: str | None = None


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """A payment to create. The same `idempotency_key` never charges twice: sent again (after
    a timeout, a crash), the gateway answers with the payment it made the first time."""

    idempotency_key: str
    amount: Decimal
    currency: str
    description: str  # at most 128 characters
    method_type: str | None = None  # one of METHOD_TYPES; None with `saved_method_id`
    return_url: str | None = None  # where the customer comes back after confirming
    save_method: bool = False  # the customer consented to keep the method for autopay
    saved_method_id: str | None = None  # a recurring charge, without the customer
    capture: bool = True  # False: two-stage, the money is held until captured
    receipt: Receipt | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """The payment method a payment was made with, as the gateway describes it."""

    id: str
    type: str
    title: str  # "Bank card *4242", "YooMoney wallet 410011…"
    saved: bool  # may be charged again without the customer


@dataclass(frozen=True, slots=True)
class GatewayPayment:
    """A payment as the gateway sees it."""

    id: str
    status: str  # pending | waiting_for_capture | succeeded | canceled
    amount: Decimal
    currency: str
    paid: bool = False
    confirmation_url: str | None = None  # where the customer confirms (3-D Secure, wallet)
    method: MethodInfo | None = None
    failure_reason: str | None = None  # canceled: card_declined, insufficient_funds, ...
    metadata: Mapping[str, str] = field(default_factory=dict)
    test: bool = False


@dataclass(frozen=True, slots=True)
class RefundRequest:
    idempotency_key: str
    payment_id: str  # the gateway's payment to refund from
    amount: Decimal
    currency: str
    description: str
    receipt: Receipt | None = None


@dataclass(frozen=True, slots=True)
class GatewayRefund:
    id: str
    payment_id: str
    status: str  # pending | succeeded | canceled
    amount: Decimal
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SettlementReceiptRequest:
    """A 54-FZ settlement receipt ("полный расчёт", чек зачёта предоплаты): the service a
    prepayment paid for is rendered, so its items are `full_payment` at the rendering rate
    and the whole `amount` is settled by the prepayment made with the gateway's payment
    `payment_id`. Sent again under the same `idempotency_key`, the gateway answers with the
    receipt it made the first time."""

    idempotency_key: str
    payment_id: str  # the gateway's payment the prepayment came with
    amount: Decimal  # the prepayment offset: the items sum to it
    currency: str
    receipt: Receipt  # the customer's contact and the items (payment_mode full_payment)


@dataclass(frozen=True, slots=True)
class GatewayReceipt:
    """A receipt as the gateway sees it."""

    id: str
    payment_id: str
    status: str  # pending | succeeded | canceled


@dataclass(frozen=True, slots=True)
class GatewayNotification:
    """What a webhook says happened. Never trusted as it is: the object is fetched from the
    gateway's API before anything is recorded."""

    event: str  # payment.succeeded | payment.canceled | payment.waiting_for_capture | refund.*
    object_id: str


class GatewayError(Exception):
    """The gateway failed. `final=False` (a network error, a timeout, a 5xx): the outcome is
    unknown, ask again with the same idempotency key. `final=True`: the request was refused
    and nothing happened (`code` says why)."""

    def __init__(self, message: str, *, final: bool = False, code: str | None = None) -> None:
        super().__init__(message)
        self.final = final
        self.code = code


class NotificationRejected(Exception):
    """A webhook that does not come from the gateway (address, signature) or cannot be read."""


class PaymentGateway(Protocol):
    """A payment provider. Calls are synchronous and may be slow: never inside a database
    transaction. Every call that moves money takes an idempotency key."""

    name: str
    # The method types (of METHOD_TYPES) its checkout takes, and those of them it can keep
    # for autopay (`ChargeRequest.save_method`): what a payment page may offer.
    method_types: tuple[str, ...]
    savable_method_types: tuple[str, ...]

    def create_payment(self, request: ChargeRequest) -> GatewayPayment: ...

    def get_payment(self, payment_id: str) -> GatewayPayment: ...

    def capture_payment(
        self, payment_id: str, *, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayPayment: ...

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> GatewayPayment: ...

    def create_refund(self, request: RefundRequest) -> GatewayRefund: ...

    def get_refund(self, refund_id: str) -> GatewayRefund: ...

    def create_receipt(self, request: SettlementReceiptRequest) -> GatewayReceipt:
        """A settlement receipt for a payment made before (54-FZ, зачёт предоплаты)."""
        ...

    def parse_notification(
        self, body: bytes, *, remote_addr: str | None, headers: Mapping[str, str]
    ) -> GatewayNotification:
        """Read a webhook or raise `NotificationRejected`."""
        ...


# --- documents -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or a buyer on a document, with the requisites it has."""

    name: str
    inn: str | None = None
    kpp: str | None = None
    address: str | None = None
    bank: str | None = None
    bik: str | None = None
    correspondent_account: str | None = None  # корр. счёт
    account: str | None = None  # расчётный счёт
    director: str | None = None
    accountant: str | None = None
    ogrn: str | None = None  # ОГРН (13 digits) or ОГРНИП (15)
    postal_address: str | None = None  # only when it differs from `address` (the legal one)
    director_position: str | None = None  # "Генеральный директор"
    accountant_position: str | None = None  # "Главный бухгалтер"
    proxy: Proxy | None = None  # signs for the director by a power of attorney
    tax_system: str = "osno"  # the seller's: osno (VAT) or usn (simplified, no VAT)


@dataclass(frozen=True, slots=True)
class Proxy:
    """A person who signs for the director by a power of attorney (доверенность)."""

    signer: str
    position: str
    number: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class DocumentLine:
    position: int
    description: str
    quantity: Decimal
    unit: str  # "шт.", "усл."
    price: Decimal
    amount: Decimal  # negative on a credit note


@dataclass(frozen=True, slots=True)
class DocumentData:
    """Everything a PDF shows; the renderer only lays it out (and writes the total in words)."""

    kind: str  # invoice | act | credit_note
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    total: Decimal
    vat_amount: Decimal | None  # None: exempt ("Без НДС")
    vat_rate: str | None  # "22"
    currency: str = "RUB"
    language: str = "ru"
    purpose: str | None = None  # invoice: the payment purpose, with the invoice's number
    basis: str | None = None  # act, credit note: the invoice (and contract) it refers to
    period: tuple[date, date] | None = None  # the term the services cover (inclusive)
    due_on: date | None = None
    reason: str | None = None  # credit note: why
    state_contract_id: str | None = None  # the buyer's идентификатор госконтракта
    vat_note: str | None = None  # a simplified-system seller's sentence instead of VAT


@dataclass(frozen=True, slots=True)
class UpdLine:
    """One service of a УПД (or an advance счёт-фактура): a period's share of a service.

    `amount_without_vat` + `vat_amount` = `amount`, exactly; `price` × `quantity` =
    `amount_without_vat` (the ФНС form's columns 4, 5, 9 and 8)."""

    position: int
    description: str  # "Тариф «Профессиональный», 5 польз., 01.12.2026–31.12.2026"
    unit_code: str  # ОКЕИ: "362" (мес.), "796" (шт.); "—" when there is no unit
    unit: str  # "мес."
    quantity: Decimal
    price: Decimal  # without VAT
    amount_without_vat: Decimal
    vat_rate: str | None  # "22", "10", "0"; None: without VAT ("без НДС")
    vat_amount: Decimal
    amount: Decimal  # with VAT


@dataclass(frozen=True, slots=True)
class PaymentReference:
    """A payment document the УПД's «К платёжно-расчётному документу» names (a prepayment)."""

    number: str
    paid_on: date


@dataclass(frozen=True, slots=True)
class UpdData:
    """A universal transfer document (УПД, the ФНС's form of приказ ЕД-7-26/970@, format 5.03).

    Status 1: счёт-фактура and act in one (a VAT payer's sale); status 2: the act only
    (exempt lines, or a simplified-system seller). `function` is СЧФДОП for status 1, ДОП
    for status 2. Everything comes computed: the PDF and the XML only lay it out."""

    status: int  # 1 | 2
    number: str
    issued_on: date  # the day the service was rendered: the period's last day
    seller: Party
    buyer: Party
    lines: tuple[UpdLine, ...]
    total_without_vat: Decimal
    vat_amount: Decimal
    total: Decimal
    period: tuple[date, date]  # the services' period, inclusive
    file_id: str  # a UUID, stable per document and version: the XML's file name uses it
    currency: str = "RUB"
    currency_code: str = "643"  # ОКВ
    language: str = "ru"
    payments: tuple[PaymentReference, ...] = ()  # prepayments this document offsets
    basis: str | None = None  # «Договор-оферта … » / the invoices the services were paid by
    state_contract_id: str | None = None
    vat_note: str | None = None  # exempt basis or USN_VAT_NOTE, printed under the lines
    correction: tuple[int, date] | None = None  # исправление № and its date
    shipped_on: date | None = None  # дата отгрузки (передачи) = issued_on by default

    @property
    def function(self) -> str:
        return "СЧФДОП" if self.status == 1 else "ДОП"


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    """One line of an акт сверки, the seller's side: a sale or a refund in `debit`, a
    payment or a correction in `credit` (the other one zero, both never negative)."""

    day: date
    description: str  # «Продажа (УПД № UPD-2026-000001 от 30.11.2026)»
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True, slots=True)
class ReconciliationData:
    """An акт сверки взаимных расчётов for one account and period, as the seller keeps it.

    Balances are the buyer's debt: positive, the buyer owes the seller; negative, the seller
    holds the buyer's advance. `opening` + `debit_turnover` − `credit_turnover` = `closing`,
    and the turnovers are the sums of the lines: checked when the object is made."""

    seller: Party
    buyer: Party
    first_day: date
    last_day: date  # inclusive
    opening: Decimal
    lines: tuple[ReconciliationLine, ...]
    debit_turnover: Decimal
    credit_turnover: Decimal
    closing: Decimal
    conclusion: str  # «на 31.12.2026 задолженность в пользу … 1 062,54 руб.»
    currency: str = "RUB"
    language: str = "ru"

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise ValueError(f"a period from {self.first_day} to {self.last_day}")
        if any(line.debit < 0 or line.credit < 0 for line in self.lines):
            raise ValueError("a reconciliation line with a negative amount")
        if sum((line.debit for line in self.lines), Decimal(0)) != self.debit_turnover:
            raise ValueError("the debit turnover is not the sum of the lines")
        if sum((line.credit for line in self.lines), Decimal(0)) != self.credit_turnover:
            raise ValueError("the credit turnover is not the sum of the lines")
        if self.opening + self.debit_turnover - self.credit_turnover != self.closing:
            raise ValueError("opening + debit − credit is not the closing balance")


@dataclass(frozen=True, slots=True)
class AdvanceLine:
    """What a prepayment was for (п. 5.1 ст. 169 НК РФ): «Предварительная оплата за …»,
    the amount received (with VAT), the estimated rate ("22/122") and its VAT."""

    position: int
    description: str
    amount: Decimal
    vat_rate: str  # "22/122", "10/110"
    vat_amount: Decimal


@dataclass(frozen=True, slots=True)
class AdvanceInvoiceData:
    """An advance счёт-фактура (счёт-фактура на аванс, п. 1, 3 ст. 168 and п. 5.1 ст. 169
    НК РФ): issued within 5 calendar days of a prepayment, on its amount at the estimated
    rate. Everything comes computed: the PDF and the XML only lay it out."""

    number: str
    issued_on: date
    seller: Party
    buyer: Party
    payment: PaymentReference  # «К платёжно-расчётному документу № … от …»
    lines: tuple[AdvanceLine, ...]
    total: Decimal
    vat_amount: Decimal
    file_id: str  # a UUID for the ФНС XML file's name
    currency: str = "RUB"
    currency_code: str = "643"
    language: str = "ru"
    state_contract_id: str | None = None
    correction: tuple[int, date] | None = None  # исправление № and its date


@dataclass(frozen=True, slots=True)
class CorrectionLine:
    """One line of a corrective document (УКД / корректировочный счёт-фактура): a service
    line of the УПД it corrects, before and after the change (п. 5.2 ст. 169 НК РФ).

    For each of the amounts, before − after is the decrease (after > before: an increase);
    `amount_*` = `amount_without_vat_*` + `vat_*`, exactly."""

    position: int
    description: str
    unit_code: str
    unit: str
    quantity_before: Decimal
    quantity_after: Decimal
    price_before: Decimal  # without VAT
    price_after: Decimal
    amount_without_vat_before: Decimal
    amount_without_vat_after: Decimal
    vat_rate: str | None  # None: without VAT
    vat_before: Decimal
    vat_after: Decimal
    amount_before: Decimal  # with VAT
    amount_after: Decimal


@dataclass(frozen=True, slots=True)
class CorrectionData:
    """A universal corrective document (УКД, the ФНС's form; format 5.03 in XML): status 1
    (корректировочный счёт-фактура and the document of the change in cost) or 2 (the latter
    only). It corrects one УПД (`corrected`: its number and date) by a credit note or an
    agreement (`basis`). Everything comes computed: the PDF and the XML only lay it out."""

    status: int  # 1 | 2
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    corrected: tuple[str, date]  # the УПД (счёт-фактура) corrected: number, date
    lines: tuple[CorrectionLine, ...]
    basis: str  # «Корректировочный документ № CN-2026-000001 от 10.02.2027»
    reason: str  # why the cost changed
    file_id: str
    currency: str = "RUB"
    currency_code: str = "643"
    language: str = "ru"
    state_contract_id: str | None = None

    @property
    def decrease(self) -> Decimal:
        """The decrease of the cost with VAT, over all lines (negative: an increase)."""
        return sum((line.amount_before - line.amount_after for line in self.lines), Decimal(0))

    @property
    def vat_decrease(self) -> Decimal:
        return sum((line.vat_before - line.vat_after for line in self.lines), Decimal(0))


class DocumentRenderer(Protocol):
    def render(self, document: DocumentData) -> bytes:
        """The document as a PDF."""
        ...

    def render_upd(self, data: UpdData) -> bytes:
        """A УПД (status 1 or 2) as a PDF."""
        ...

    def render_advance(self, data: AdvanceInvoiceData) -> bytes:
        """An advance счёт-фактура (on a prepayment) as a PDF."""
        ...

    def render_invoice_factura(self, data: UpdData) -> bytes:
        """The счёт-фактура of a closing printed as an act (a УПД's `UpdData` on the
        счёт-фактура form: no status box, no transfer part) as a PDF."""
        ...

    def render_reconciliation(self, data: ReconciliationData) -> bytes:
        """An акт сверки взаимных расчётов as a PDF."""
        ...

    def render_correction(self, data: CorrectionData) -> bytes:
        """A УКД (status 1: корректировочный счёт-фактура and the document of the change in
        cost; status 2: the latter alone) as a PDF."""
        ...


class ReconciliationSheet(Protocol):
    def write(self, data: ReconciliationData) -> bytes:
        """An акт сверки as an XLSX workbook: the same lines, turnovers and balances."""
        ...


class XmlRefused(ValueError):
    """The data cannot make a valid ФНС file (a requisite the format requires is missing, a
    buyer without a 10- or 12-digit ИНН, lines that do not sum up): said, never written."""


class UpdXmlWriter(Protocol):
    def write(
        self,
        data: UpdData,
        *,
        sender_id: str,
        recipient_id: str,
        created_at: datetime,
        program: str = "Podpiska",
    ) -> tuple[str, bytes]:
        """The УПД as the ФНС's XML file (format 5.03): its name and its windows-1251 bytes.

        `sender_id`, `recipient_id`: the EDO participant ids of the seller and the buyer."""
        ...

    def write_advance(
        self,
        data: AdvanceInvoiceData,
        *,
        sender_id: str,
        recipient_id: str,
        created_at: datetime,
        program: str = "Podpiska",
    ) -> tuple[str, bytes]:
        """The advance счёт-фактура as the same ФНС file (format 5.03, Функция СЧФ): its
        name and its windows-1251 bytes."""
        ...

    def write_correction(
        self,
        data: CorrectionData,
        *,
        sender_id: str,
        recipient_id: str,
        created_at: datetime,
        program: str = "Podpiska",
    ) -> tuple[str, bytes]:
        """The УКД as the ФНС's XML file (ON_NKORSCHFDOPPR, Функция КСЧФДИС or ДИС): its
        name and its windows-1251 bytes."""
        ...


@dataclass(frozen=True, slots=True)
class Counterparty:
    """A party as 1C:Бухгалтерия keys it: the name, the ИНН and the КПП."""

    name: str
    inn: str | None = None
    kpp: str | None = None


@dataclass(frozen=True, slots=True)
class ExportSaleLine:
    description: str
    amount: Decimal  # with VAT
    vat_rate: str | None  # "22", or None: exempt
    vat: Decimal


@dataclass(frozen=True, slots=True)
class ExportSale:
    """A УПД as 1C's Реализация (акты, накладные, УПД), a service sold."""

    key: str  # stable per document: "upd:<closing id>"
    number: str
    issued_on: date
    counterparty: Counterparty
    lines: tuple[ExportSaleLine, ...]
    total: Decimal
    vat: Decimal
    status: int  # the УПД's: 1 (with a счёт-фактура) or 2


@dataclass(frozen=True, slots=True)
class ExportAdvance:
    """An advance счёт-фактура as 1C's Счёт-фактура выданный (на аванс)."""

    key: str  # "advance:<id>"
    number: str
    issued_on: date
    counterparty: Counterparty
    amount: Decimal
    vat: Decimal
    vat_rate: str  # "22/122"
    payment_key: str
    payment_number: str
    paid_on: date


@dataclass(frozen=True, slots=True)
class ExportPayment:
    """Money received from a buyer: by bank transfer (Поступление на расчётный счёт) or by
    card, SBP, e-wallet (Операция по платёжной карте, through the acquirer)."""

    key: str  # "payment:<id>"
    number: str
    received_on: date
    counterparty: Counterparty
    method: str  # bank_transfer | card | sbp | e_wallet | manual
    amount: Decimal
    vat: Decimal  # the VAT of its advance (22/122), zero when it was no advance
    purpose: str  # назначение платежа


@dataclass(frozen=True, slots=True)
class AccountingExport:
    """What 1C:Бухгалтерия is given for a period: computed by `invoicing`, laid out by the
    writer."""

    organization: Counterparty  # the seller
    start: date
    end: date
    created_at: datetime
    sales: tuple[ExportSale, ...]
    advances: tuple[ExportAdvance, ...]
    payments: tuple[ExportPayment, ...]


class AccountingExportWriter(Protocol):
    def write(self, data: AccountingExport, *, program: str = "Podpiska") -> bytes:
        """The period's documents and payments as a file 1C:Бухгалтерия 3.0 imports."""
        ...
