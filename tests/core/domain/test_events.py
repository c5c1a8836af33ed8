"""The event types Podpiska emits (podpiska.core.domain.events): the list is complete — every
type an `emit(...)` in src/ can write is in it — and a webhook endpoint's choice is checked
against it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.domain.events import (
    EVENT_TYPES,
    EVENT_WILDCARDS,
    FEED_ONLY_TYPES,
    check_event_types,
)
from podpiska.notifications.texts import EVENT_TYPES as TYPES_WITH_TEXTS

SRC = Path(__file__).resolve().parents[3] / "src" / "podpiska"


def _emitted() -> tuple[set[str], set[str]]:
    """The event types written to the outbox by the code: the first string argument of
    every `emit(...)` / `x.emit(...)` / `x.event(...)` / `event_row(...)` call, the strings
    assigned to a variable `event` (passed on to emit), the `"type"` of event rows inserted
    in bulk. The second set holds the constant prefixes of f-strings
    (`f"subscription.change_{s}"`)."""
    exact: set[str] = set()
    prefixes: set[str] = set()

    def take(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            exact.add(node.value)
        elif isinstance(node, ast.JoinedStr):
            first = node.values[0]
            assert isinstance(first, ast.Constant), ast.unparse(node)
            prefixes.add(str(first.value))
        elif isinstance(node, ast.IfExp):
            take(node.body)
            take(node.orelse)

    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in {"emit", "event", "event_row"}:
                    for arg in node.args[:2]:
                        take(arg)
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "event" for target in node.targets
            ):
                take(node.value)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "type"
                        and "." in str(getattr(value, "value", ""))
                        # ASGI messages ({"type": "http.disconnect"}) are not our events
                        and not str(getattr(value, "value", "")).startswith(("http.", "websocket."))
                    ):
                        take(value)
    return exact, prefixes


def test_every_emitted_event_type_is_listed() -> None:
    exact, prefixes = _emitted()
    emitted = {value for value in exact if "." in value}
    assert {"invoice.paid", "subscription.reminder", "migration.notice"} <= emitted  # found
    assert emitted - set(EVENT_TYPES) == set()
    for prefix in prefixes:
        assert any(kind.startswith(prefix) for kind in EVENT_TYPES), prefix


def test_every_event_with_an_email_text_is_listed() -> None:
    assert set(TYPES_WITH_TEXTS) <= set(EVENT_TYPES) | set(FEED_ONLY_TYPES)
    assert not set(FEED_ONLY_TYPES) & set(EVENT_TYPES)


def test_types_are_area_dot_what_and_listed_once() -> None:
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
    for kind in EVENT_TYPES:
        area, _, what = kind.partition(".")
        assert area and what and kind == kind.lower() and "*" not in kind, kind
    assert "subscription.*" in EVENT_WILDCARDS and "invoice.*" in EVENT_WILDCARDS


def test_check_keeps_known_types_and_wildcards_once_in_order() -> None:
    assert check_event_types([]) == ()
    assert check_event_types(["invoice.paid", " subscription.* ", "invoice.paid"]) == (
        "invoice.paid",
        "subscription.*",
    )


@pytest.mark.parametrize("bad", ["invoice.payed", "*", "invoice", "INVOICE.PAID", "nope.*", ""])
def test_check_refuses_what_is_never_emitted(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_event_types(["invoice.paid", bad])
    error = caught.value
    assert error.code == "unknown_event_type"
    assert error.kind == Kind.INVALID
    assert error.details["event_type"] == bad
    assert "invoice.paid" in error.message("en")
    assert error.message("ru").startswith(f"Тип события «{bad}» неизвестен.")
