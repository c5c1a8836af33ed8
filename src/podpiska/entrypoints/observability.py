"""Logs and metrics: structured JSON logs with a request id, Prometheus metrics."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from prometheus_client import Counter, Gauge, Histogram

request_id: ContextVar[str] = ContextVar("request_id", default="-")

HTTP_REQUESTS = Counter(
    "podpiska_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "podpiska_http_request_seconds", "Time to answer an HTTP request", ["method", "route"]
)
LIFECYCLE_SECONDS = Histogram(
    "podpiska_lifecycle_day_seconds",
    "Time of one day of the lifecycle run for one shard",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),  # float-ok: seconds
)
LIFECYCLE_CHANGES = Counter(
    "podpiska_lifecycle_changes_total", "What the daily lifecycle run did", ["kind"]
)
OUTBOX_BACKLOG = Gauge(
    "podpiska_outbox_backlog", "Events and deliveries waiting for the worker", ["stage"]
)
DELIVERY_FAILURES = Counter(
    "podpiska_delivery_failures_total", "Failed attempts to send an e-mail or a webhook"
)
DELIVERIES = Counter("podpiska_deliveries_total", "Delivery attempts by outcome", ["outcome"])
ENTITLEMENT_SNAPSHOT = Gauge(
    "podpiska_entitlement_snapshot",
    "The API process's entitlement snapshot: accounts kept, hits, misses, refreshes, gaps",
    ["stat"],
)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI copy of the message
        return True


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    """One handler on the root logger: JSON lines (default) or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Requests are logged by the application (with their id, `RequestContextMiddleware`):
    # uvicorn's own access line would log each one twice.
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    # Libraries that narrate their work at INFO: WeasyPrint logs seven steps per PDF (a
    # hundred lines for the demo's documents) and fontTools its font subsetting.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
