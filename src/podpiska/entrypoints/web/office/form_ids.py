"""The id of a row chosen in a back office form (an invoice, a payment): one reading for
every form, so that each refuses the same malformed ids the same way.

`int()` alone would take spaces inside (`"1 2"` no, but `" 12 "` and `"1_2"` yes), other
scripts' digits (`"١٢"`) and signs; an id is ASCII digits only, more than zero, at most 18
of them (a BIGINT). Anything else is a ValueError, which the forms turn into their page
again with the problem (422) and nothing written."""

from __future__ import annotations

MAX_ID_DIGITS = 18


def positive_id(text: str) -> int:
    """The id typed or chosen (the spaces around it trimmed), else ValueError."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS or int(text) < 1:
        raise ValueError(text)
    return int(text)


def optional_id(text: str) -> int | None:
    """`positive_id`, or None when none was chosen (blank)."""
    return positive_id(text) if text.strip() else None
