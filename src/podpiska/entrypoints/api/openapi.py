"""The OpenAPI document the API serves at `/openapi.json`: FastAPI's, with the refusals
as the API answers them and the webhooks it sends.

- Every 422 is `ErrorOut` (`invalid_request`, `invalid_field`): FastAPI documents its own
  `HTTPValidationError` for a route with parameters, a shape the API never answers (the
  handlers in `errors.py` answer `{"error": {...}}`); those schemas are dropped.
- `webhooks` (OpenAPI 3.1): one entry per event type of `core.domain.events.EVENT_TYPES`,
  its body the envelope of `notifications.messages.webhook_body` with the type's payload
  (`schemas.webhooks`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from podpiska.core.domain.events import EVENT_TYPES
from podpiska.entrypoints.api.docs import ErrorOut, PageOut
from podpiska.entrypoints.api.schemas.webhooks import envelope_of

_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _receiver(event_type: str) -> Callable[..., None]:
    model = envelope_of(event_type)

    def receive(body: Any) -> None:
        """What the endpoint receives."""

    receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model)]
    )
    receive.__name__ = event_type.replace(".", "_")
    receive.__doc__ = (model.__doc__ or "") + (
        " Signed: `Podpiska-Signature` over `Podpiska-Timestamp` and the body; answer 2xx"
        " to acknowledge, anything else is retried."
    )
    return receive


def _add_webhooks(app: FastAPI) -> None:
    for event_type in EVENT_TYPES:
        app.webhooks.post(
            event_type,
            summary=event_type,
            operation_id=event_type.replace(".", "_"),
            tags=[event_type.split(".", 1)[0]],
        )(_receiver(event_type))


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for section in ("paths", "webhooks"):
        for item in (document.get(section) or {}).values():
            found += [op for method, op in item.items() if method in _METHODS]
    return found


def _json_errors(operation: dict[str, Any]) -> None:
    """An error of a route that answers a file (`text/plain`...) is JSON all the same."""
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content") or {}
        if status[:1] in "45" and content and "application/json" not in content:
            schema = next(iter(content.values())).get("schema")
            if schema == _ERROR_REF:
                answer["content"] = {"application/json": {"schema": schema}}


def _retype_errors(document: dict[str, Any]) -> None:
    hooks = (document.get("webhooks") or {}).values()
    webhooks = {id(op) for item in hooks for op in item.values()}
    for operation in _operations(document):
        _json_errors(operation)
        responses = operation.get("responses", {})
        answer = responses.get("422")
        if answer is None:
            continue
        if id(operation) in webhooks:  # the receiver's answer: only its status counts
            operation["responses"] = {
                "2XX": {"description": "Received: any 2xx acknowledges; else retried"}
            }
            continue
        content = answer.get("content", {}).get("application/json", {})
        ref = content.get("schema", {}).get("$ref", "")
        if ref.rsplit("/", 1)[-1] in _FASTAPI_ERRORS:
            responses["422"] = {
                "description": "Codes: `invalid_field`, `invalid_request`",
                "content": {"application/json": {"schema": dict(_ERROR_REF)}},
            }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        schemas.pop(name, None)
    if "ErrorOut" not in schemas:
        shape = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(shape.pop("$defs", {}))
        schemas["ErrorOut"] = shape


_PAGE = re.compile(r"^PageOut_(\w+?)_$")


def _name_pages(document: dict[str, Any]) -> None:
    """A page of a collection is named after its item, `EventPage` (pydantic names the
    generic's schema `PageOut_EventOut_`): the class a generated client makes for it."""
    schemas = document.get("components", {}).get("schemas", {})
    renamed = {}
    for name in list(schemas):
        found = _PAGE.match(name)
        if found:
            title = PageOut.model_parametrized_name((type(found[1], (), {}),))
            renamed[f"#/components/schemas/{name}"] = f"#/components/schemas/{title}"
            schemas[title] = {**schemas.pop(name), "title": title}
    if renamed:
        _swap_refs(document, renamed)


def _swap_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renamed:
            node["$ref"] = renamed[ref]
        for value in node.values():
            _swap_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _swap_refs(value, renamed)


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` by the document described above (built once, then cached)."""
    _add_webhooks(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                webhooks=app.webhooks.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            _retype_errors(document)
            _name_pages(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
