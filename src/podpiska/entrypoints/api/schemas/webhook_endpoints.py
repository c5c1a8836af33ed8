"""Bodies of the vendor's webhook endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool

from podpiska.entrypoints.api.schemas.common import Code, In, Line


class WebhookEndpointIn(In):
    url: Line = Field(examples=["https://crm.example/hooks/podpiska"])
    secret: Code | None = Field(None, description="Signing secret; generated when absent")
    event_types: list[Code] = Field(
        default_factory=list,
        max_length=100,
        description="Event types it receives (`invoice.paid`, or `subscription.*` for an "
        "area); empty: every event",
        examples=[["invoice.paid", "subscription.*"]],
    )


class WebhookEndpointPatch(In):
    event_types: list[Code] | None = Field(
        None, max_length=100, description="Replaces the list; [] means every event"
    )
    active: StrictBool | None = None


class WebhookEndpointOut(BaseModel):
    id: int
    url: str
    active: bool
    event_types: list[str] = Field(description="What it receives; empty: every event")
    created_at: datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(description="The signing secret: answered only when it is added")


class WebhookEndpointDeletedOut(BaseModel):
    id: int
    deleted: bool = True
    pending_deliveries_given_up: int = Field(
        description="Deliveries to it not sent yet: given up (dead), never sent"
    )


class WebhookTestOut(BaseModel):
    endpoint_id: int
    delivery: str = Field(description="The Podpiska-Delivery header sent (test_...)")
    delivered: bool = Field(description="True when the endpoint answered 2xx")
    status_code: int | None = Field(description="The endpoint's HTTP status; null: not reached")
    duration_ms: int
    error: str | None
