"""The answers of entitlement checks, serialized once for the hot routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response

from podpiska.entitlements.domain import Decision


class DecisionOut(BaseModel):
    action: str
    allowed: bool
    reason: str
    message: str
    details: dict[str, Any]

    @classmethod
    def of(cls, decision: Decision, lang: str) -> DecisionOut:
        return cls(
            action=decision.action,
            allowed=decision.allowed,
            reason=decision.reason,
            message=decision.message(lang),
            details=decision.details,
        )


_DECISIONS = TypeAdapter(list[DecisionOut])


def json_response(answer: DecisionOut | list[DecisionOut]) -> Response:
    """The answer serialized once, by pydantic-core, for the hot routes: FastAPI would
    validate a returned model against `response_model` again before serializing it."""
    if isinstance(answer, list):
        body = _DECISIONS.dump_json(answer)
    else:
        body = answer.__pydantic_serializer__.to_json(answer)
    return Response(content=body, media_type="application/json")
