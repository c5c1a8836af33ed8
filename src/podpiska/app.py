"""The one place that wires concrete adapters to the entry points."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from podpiska.config import Settings
    from podpiska.entrypoints.context import Context
    from podpiska.ports import Clock


def build_context(settings: Settings | None = None, clock: Clock | None = None) -> Context:
    from podpiska.adapters.clock import SystemClock
    from podpiska.config import load_settings
    from podpiska.entrypoints.context import Context

    return Context(settings=settings or load_settings(), clock=clock or SystemClock())


def create_app(context: Context | None = None) -> FastAPI:
    """The ASGI application (used by `podpiska serve` and by tests)."""
    from podpiska.entrypoints.api.main import create_api

    return create_api(context or build_context())


def main() -> None:
    """The `podpiska` console script."""
    from pydantic import ValidationError

    from podpiska.entrypoints.cli import run

    try:
        context = build_context()
    except ValidationError as exc:  # settings that cannot be used are bad input too
        error = exc.errors(include_url=False)[0]
        name = "PODPISKA_" + "_".join(str(part) for part in error["loc"]).upper()
        if not error["loc"]:
            name = "settings"
        got = f", got {error['input']!r}" if error["loc"] else ""
        sys.stderr.write(f"podpiska: {name}: {error['msg']}{got}\n")
        raise SystemExit(2) from None
    raise SystemExit(run(context))
