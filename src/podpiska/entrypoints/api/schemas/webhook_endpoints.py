"""Bodies of the vendor's webhook endpoints."""

from __future__ import annotations

from pydantic import Field, StrictBool

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
