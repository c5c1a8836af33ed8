"""Ports: the outside world as Protocols. Concrete adapters are wired in `podpiska.app`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
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
    """A mail server or a webhook endpoint could not be reached or refused the message."""
