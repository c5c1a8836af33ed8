"""How the back office shows events' payloads and audit rows: compact JSON, and only what
changed."""

from __future__ import annotations

import json
from typing import Any


def compact(value: Any, limit: int = 240) -> str:
    """A JSON value on one line, cut to `limit` characters (events' payloads, audit rows)."""
    if value is None or value == {}:
        return ""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None, limit: int = 400) -> str:
    """An audit row's change: only the fields that differ (`status: pending → active`),
    or the values written when there was nothing before."""
    if not before or not after:
        return compact(after or before, limit)

    def one(value: Any) -> str:
        return "—" if value is None else compact(value, 120).strip('"')

    parts = [
        f"{key}: {one(before.get(key))} → {one(after.get(key))}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
