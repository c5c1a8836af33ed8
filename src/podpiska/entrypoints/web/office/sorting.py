"""The sortable column headers of the back office's lists (invoices, payments, documents).

A list's sort is one query field, `sort`: a column's key (`total`) ascending, `-total`
descending; anything else is the list's default order (as a filter value it does not know).
Each header is a link that sorts by its column, ascending first and the other way round when
it already sorts that way, with the filters kept and from the first page; the column the list
is sorted by says so to screen readers (`aria-sort`) and shows an arrow
(templates/office/_sort.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

NONE = "none"
ASCENDING = "ascending"
DESCENDING = "descending"


@dataclass(frozen=True, slots=True)
class SortHeader:
    key: str
    url: str  # the list sorted by this column (the other way round if it already is)
    state: str  # aria-sort: ascending, descending or none


def chosen(text: str, keys: Iterable[str]) -> str:
    """`text` when it names one of `keys` (`key` or `-key`), else "" (the default order)."""
    return text if text.removeprefix("-") in set(keys) else ""


def headers(
    path: str, kept: dict[str, str], keys: Iterable[str], current: str
) -> dict[str, SortHeader]:
    """Each key's header: its link (the filters in `kept` kept, no page) and its state;
    `current` is the list's sort (its default's key where it has one)."""
    filters = {name: value for name, value in kept.items() if name != "sort"}
    found: dict[str, SortHeader] = {}
    for key in keys:
        if current == key:
            state, then = ASCENDING, f"-{key}"
        elif current == f"-{key}":
            state, then = DESCENDING, key
        else:
            state, then = NONE, key
        found[key] = SortHeader(key, f"{path}?{urlencode({**filters, 'sort': then})}", state)
    return found
