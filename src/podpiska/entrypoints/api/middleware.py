"""Request id and access log; `Idempotency-Key` on every POST."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import Receive, Scope, Send

from podpiska.domain.errors import DomainError
from podpiska.entrypoints.api.errors import error_response, request_lang
from podpiska.entrypoints.observability import HTTP_REQUESTS, HTTP_SECONDS, request_id
from podpiska.services import idempotency
from podpiska.services.apikeys import key_prefix

log = logging.getLogger("podpiska.http")


def _route_template(request: Request) -> str:
    """The matched route with its prefix (`/api/v1/accounts/{account_id}`): a bounded set of
    metric labels. FastAPI keeps an included router's routes relative to its prefix, so the
    prefix is taken from the request's own path."""
    route = request.scope.get("route")
    relative = getattr(route, "path", None)
    if not relative:
        return "unmatched"
    relative_parts = relative.strip("/").split("/")
    path_parts = request.url.path.strip("/").split("/")
    prefix = path_parts[: max(0, len(path_parts) - len(relative_parts))]
    return "/" + "/".join([*prefix, *relative_parts]).strip("/")


class RequestContextMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        token = request_id.set(rid[:64])
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        elapsed = time.perf_counter() - started
        template = _route_template(request)
        HTTP_REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        HTTP_SECONDS.labels(request.method, template).observe(elapsed)
        response.headers["X-Request-ID"] = rid
        log.info(
            "%s %s %s %.1f ms",
            request.method,
            request.url.path,
            response.status_code,
            elapsed * 1000,
            extra={"request_id": rid},
        )
        return response


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """The first response to a POST with an Idempotency-Key is stored and replayed; the
    same key with another body or path answers 409. Responses of 500 are not stored."""

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
        owner = key_prefix(token.strip()) if scheme.lower() == "bearer" else None
        if owner is None:  # no usable key: authentication answers first
            return await call_next(request)
        body = await request.body()
        digest = hashlib.sha256(
            b"\n".join(
                [
                    request.method.encode(),
                    request.url.path.encode(),
                    request.url.query.encode(),
                    body,
                ]
            )
        ).hexdigest()
        ctx = request.app.state.context
        db = ctx.session()
        try:
            try:
                claimed = await run_in_threadpool(
                    idempotency.claim,
                    db,
                    owner=owner,
                    key=key,
                    method=request.method,
                    path=request.url.path,
                    request_hash=digest,
                    clock=ctx.clock,
                )
            except DomainError as exc:
                return error_response(
                    exc.http_status,
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
            response = await call_next(request)
            chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
            content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
            if response.status_code >= 500:
                await run_in_threadpool(idempotency.release, db, record_id=claimed)
            else:
                text = content.decode("utf-8", "replace")
                json.loads(text or "null")  # only JSON bodies are stored
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
