"""Request id and access log; bounded request bodies; `Idempotency-Key` on every POST."""

from __future__ import annotations

import json
import logging
import time
import uuid

import anyio
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podpiska.accounts.apikeys import authenticate, key_prefix
from podpiska.core import idempotency
from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.api.errors import error_response, http_status, request_lang
from podpiska.entrypoints.observability import HTTP_REQUESTS, HTTP_SECONDS, request_id

log = logging.getLogger("podpiska.http")


_TEMPLATES: dict[tuple[str, int], str] = {}


def _route_template(scope: Scope) -> str:
    """The matched route with its prefix (`/api/v1/accounts/{account_id}`): a bounded set of
    metric labels. FastAPI keeps an included router's routes relative to its prefix, so the
    prefix is taken from the request's own path (and kept per route and prefix length)."""
    route = scope.get("route")
    relative = getattr(route, "path", None)
    if not relative:
        return "unmatched"
    path_parts = scope["path"].strip("/").split("/")
    relative_parts = relative.strip("/").split("/")
    cut = max(0, len(path_parts) - len(relative_parts))
    prefix = path_parts[:cut]
    key = ("/".join(prefix), id(route))
    found = _TEMPLATES.get(key)
    if found is None:
        found = "/" + "/".join([*prefix, *relative_parts]).strip("/")
        if len(_TEMPLATES) < 10_000:  # routes × prefixes: a few hundred
            _TEMPLATES[key] = found
    return found


SLOW_SECONDS = 0.5  # float-ok: seconds; a quiet route slower than this is logged


class RequestContextMiddleware:
    """The request id (`X-Request-ID`, given or made), the metrics and the access log of
    every HTTP request. Plain ASGI, not `BaseHTTPMiddleware`: no task and no streaming
    detour per request (it costs the hot routes a third of their time).

    Routes in `quiet` (entitlement checks, health probes: thousands a second) are logged only
    when they fail (status 400 and up) or are slow, unless `log_all`; the metrics count them
    all."""

    def __init__(
        self, app: ASGIApp, *, quiet: frozenset[str] = frozenset(), log_all: bool = True
    ) -> None:
        self.app = app
        self.quiet = frozenset() if log_all else quiet

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
        if not rid:
            rid = uuid.uuid4().hex[:16]
        status = 500
        header = (b"x-request-id", rid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = request_id.set(rid[:64])
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            template = _route_template(scope)
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_SECONDS.labels(method, template).observe(elapsed)
            if template not in self.quiet or status >= 400 or elapsed >= SLOW_SECONDS:
                log.info(
                    "%s %s %s %.1f ms",
                    method,
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={"request_id": rid},
                )
            request_id.reset(token)


def _is_json(text: str) -> bool:
    """Only JSON bodies are stored (and replayed as JSON)."""
    try:
        json.loads(text or "null")
    except ValueError:
        return False
    return True


# Request bodies are read into memory: each route takes at most this many bytes (413 above),
# counted while they are read, never after.
BODY_LIMIT = 1024 * 1024  # JSON and forms: a megabyte is far more than any of them needs
UPLOAD_LIMIT = 10 * 1024 * 1024  # bank statements (a year of a busy account is ~2 MB)
BODY_LIMITS: dict[tuple[str, str], int] = {
    ("POST", "/api/v1/bank-statements"): UPLOAD_LIMIT,
    ("POST", "/office/bank/statements"): UPLOAD_LIMIT,
}


def body_too_large(request: Request, limit: int) -> Response:
    refused = DomainError("body_too_large", limit=limit)
    return error_response(
        413, refused.code, refused.message(request_lang(request)), {"limit": limit}
    )


class BodyLimitMiddleware:
    """Every request body is bounded by its route's limit (`BODY_LIMITS`, else `BODY_LIMIT`):
    a declared Content-Length above it is refused before a byte is read; a body that grows
    past it (chunked, or longer than it said) is cut off as it is read: whoever reads it (a
    route, a form parser, a middleware) sees the client gone, and the client gets 413 with
    the error JSON instead of whatever that reader answers. Plain ASGI: nothing is buffered
    here."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int = BODY_LIMIT,
        limits: dict[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.limits = BODY_LIMITS if limits is None else limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.default)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    await body_too_large(Request(scope), limit)(scope, receive, send)
                    return
                break
        received = 0
        cut = started = False

        async def counted() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not started:
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if cut:  # the reader's answer to a body cut off is not sent: 413 is
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not cut:
                raise
        if cut:
            await body_too_large(Request(scope), limit)(scope, receive, send)


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """The first response to a POST with an Idempotency-Key is stored per API key and
    replayed to that key only; the same key with another body or path answers 409.
    Authentication comes first: a request whose key is missing, unknown or revoked goes on
    to its route (which answers 401) and never reads or writes the store. Responses of 500
    are not stored."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":  # nothing to do: no detour
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or key is None:
            return await call_next(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or key_prefix(token.strip()) is None:
            return await call_next(request)  # no usable key: authentication answers first
        ctx = request.app.state.context
        db = ctx.session()
        try:
            caller = await run_in_threadpool(authenticate, db, token.strip())
            if caller is None:  # unknown or revoked: the route answers 401, nothing stored
                return await call_next(request)
            body = await request.body()
            digest = idempotency.request_hash(
                request.method, request.url.path, request.url.query, body
            )
            try:
                claimed = await run_in_threadpool(
                    idempotency.claim,
                    db,
                    api_key_id=caller.key_id,
                    key=key,
                    method=request.method,
                    path=request.url.path,
                    request_hash=digest,
                    clock=ctx.clock,
                )
            except DomainError as exc:
                return error_response(
                    http_status(exc),
                    exc.code,
                    exc.message(request_lang(request)),
                    dict(exc.details),
                )
            if isinstance(claimed, idempotency.Replay):
                return Response(
                    content=claimed.body,
                    status_code=claimed.status_code,
                    media_type="application/json",
                    headers={"Idempotent-Replayed": "true"},
                )
            try:
                response = await call_next(request)
                chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
            except BaseException:  # the request failed or was cancelled: a retry may run
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(idempotency.release, db, record_id=claimed)
                raise
            content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
            text = content.decode("utf-8", "replace")
            if response.status_code >= 500 or not _is_json(text):
                await run_in_threadpool(idempotency.release, db, record_id=claimed)
            else:
                await run_in_threadpool(
                    idempotency.complete,
                    db,
                    record_id=claimed,
                    status_code=response.status_code,
                    body=text,
                )
            headers = {k: v for k, v in response.headers.items() if k != "content-length"}
            return Response(
                content=content,
                status_code=response.status_code,
                headers=headers,
                media_type=response.media_type,
            )
        finally:
            db.close()
