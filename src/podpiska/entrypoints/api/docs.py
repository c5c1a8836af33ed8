"""What the OpenAPI document says about a route's answers: its page shape and its errors.

Every JSON operation names its response model; every operation names the error codes it
may answer, with `responses=errors("invoice_not_payable", ...)`: the codes are grouped by
the HTTP status their kind answers (`errors.STATUS_BY_KIND`), each status documented with
the one error shape, `ErrorOut`, and the list of its codes. The codes every route of a kind
shares are added by `errors()` itself: 401 for a key, 422 for bad input, 404 for an id in
the path (`not_found`), 403 for a vendor's route.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from podpiska.core.domain.errors import REGISTRY
from podpiska.entrypoints.api.errors import STATUS_BY_KIND

T = TypeVar("T")

Responses = dict[int | str, dict[str, Any]]


class PageOut(BaseModel, Generic[T]):
    """One page of a collection: `data`, whether more follow, and the cursor to pass as
    `?after=` for the next page (the last row's id; null when `data` is empty)."""

    data: list[T]
    has_more: bool
    next_after: int | None = Field(description="Pass as ?after= to read the next page")

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`EventPage` for `PageOut[EventOut]`: the name a generated client's class takes."""
        name: str = params[0].__name__
        return name.removesuffix("Out").removesuffix("Item") + "Page"


class ErrorBody(BaseModel):
    code: str = Field(description="A stable code: decide by it, never by the message")
    message: str = Field(description="A human sentence in the request's language")
    details: dict[str, Any] = Field(description="The code's structured details")


class ErrorOut(BaseModel):
    """Every refusal of the API, whatever its status."""

    error: ErrorBody


# Answered by the API's own layers, not by a registered domain code.
_TRANSPORT: dict[str, int] = {
    "unauthorized": 401,
    "forbidden": 403,
    "invalid_request": 422,
    "method_not_allowed": 405,
    "request_too_large": 413,
}


def status_of(code: str) -> int:
    if code in _TRANSPORT:
        return _TRANSPORT[code]
    return STATUS_BY_KIND[REGISTRY[code].kind]


def errors(*codes: str, key: bool = True, vendor: bool = False, found: bool = True) -> Responses:
    """The documented error answers of an operation: its own `codes`, plus 401
    `unauthorized` when it takes a key, 403 `forbidden` for a vendor's route, 404
    `not_found` when it reads an id (`found`), 422 `invalid_request`/`invalid_field` always.
    An unknown code is a programming error (KeyError at import)."""
    every = list(codes)
    every += ["invalid_request", "invalid_field"]
    if key:
        every.append("unauthorized")
    if vendor:
        every.append("forbidden")
    if found:
        every.append("not_found")
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(every):
        by_status.setdefault(status_of(code), []).append(code)
    return {
        status: {
            "model": ErrorOut,
            "description": "Codes: " + ", ".join(f"`{c}`" for c in sorted(found_codes)),
        }
        for status, found_codes in sorted(by_status.items())
    }
