"""The id of a row chosen in a back office form (an invoice, a payment), and a count typed
in one (days): one reading for every form, so that each refuses the same malformed input
the same way.

`int()` alone would take spaces inside (`"1 2"` no, but `" 12 "` and `"1_2"` yes), other
scripts' digits (`"١٢"`) and signs; an id is ASCII digits only, more than zero, at most 18
of them (a BIGINT); a count is the same with the number of digits its form allows (the
range of its values is the use-case's to refuse, in its own words). Anything else is a
ValueError, which the forms turn into their page again with the problem (422) and nothing
written."""

from __future__ import annotations

MAX_ID_DIGITS = 18


def positive_number(text: str, *, max_digits: int = MAX_ID_DIGITS) -> int:
    """The whole number typed (the spaces around it trimmed): ASCII digits only, at most
    `max_digits` of them, more than zero; else ValueError."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > max_digits or int(text) < 1:
        raise ValueError(text)
    return int(text)


def positive_id(text: str) -> int:
    """The id typed or chosen (the spaces around it trimmed), else ValueError."""
    return positive_number(text)


def optional_id(text: str) -> int | None:
    """`positive_id`, or None when none was chosen (blank)."""
    return positive_id(text) if text.strip() else None
