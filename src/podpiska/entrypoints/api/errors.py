"""One error shape for the whole API: `{"error": {"code", "message", "details"}}`.

A domain error's HTTP status is decided here, by its kind (`STATUS_BY_KIND`): 422 for bad
input, 409 for conflicts, 404 for what the caller may not see, 403 for what it may not do,
503 when the outside world failed, 413 for a body too large. Never a traceback: an
unexpected failure answers 500 `internal_error` with a request id to quote.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from podpiska.catalog.problems import CatalogFileError
from podpiska.core.domain.errors import DomainError, Kind, is_error_code
from podpiska.core.domain.text import Text
from podpiska.core.records import jsonable

log = logging.getLogger("podpiska.api")

STATUS_BY_KIND: dict[Kind, int] = {
    Kind.INVALID: 422,
    Kind.CONFLICT: 409,
    Kind.NOT_FOUND: 404,
    Kind.FORBIDDEN: 403,
    Kind.UNAVAILABLE: 503,
    Kind.TOO_LARGE: 413,
}


def http_status(error: DomainError) -> int:
    """The HTTP status that answers `error`: the one place the API decides it."""
    return STATUS_BY_KIND[error.kind]


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details or {}}},
    )


def request_lang(request: Request) -> str:
    """`?lang=en`, else the first of Accept-Language that we speak, else the default."""
    chosen = request.query_params.get("lang")
    if chosen in {"ru", "en"}:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in {"ru", "en"}:
            return tag
    default: str = request.app.state.context.settings.language
    return default


def _where(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in {"body", "query", "path", "header"}]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(
            http_status(exc),
            exc.code,
            exc.message(request_lang(request)),
            jsonable(dict(exc.details)),
        )

    @app.exception_handler(CatalogFileError)
    async def _catalog(request: Request, exc: CatalogFileError) -> JSONResponse:
        log.error("catalog file unusable: %s", exc.summary())
        return error_response(
            503,
            "catalog_unavailable",
            "The catalog file configured on the server cannot be used: " + exc.summary(),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # An input type that raised with a domain code as its error type (`invalid_amount`)
        # answers that code and its sentence, like the use-case would.
        for e in exc.errors():
            if is_error_code(e["type"]):
                domain = DomainError(e["type"], **dict(e.get("ctx") or {}))
                details = {**jsonable(dict(domain.details)), "field": _where(tuple(e["loc"]))}
                return error_response(
                    http_status(domain), domain.code, domain.message(request_lang(request)), details
                )
        errors = [
            {
                "field": "body" if e["type"] == "json_invalid" else _where(tuple(e["loc"])),
                "problem": "is not valid JSON" if e["type"] == "json_invalid" else e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "request", "problem": "is invalid"}
        message = (
            Text("Неверный запрос: {field}: {problem}", "Invalid request: {field}: {problem}")
            .format(**first)
            .get(request_lang(request))
        )
        return error_response(422, "invalid_request", message, {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
        }
        code = codes.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = Text("Не найдено.", "Not found.").get(request_lang(request))
        response = error_response(exc.status_code, code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", incident, request.method, request.url.path)
        return error_response(
            500,
            "internal_error",
            f"Something went wrong on our side; nothing was changed. Incident {incident}.",
            {"incident": incident},
        )
