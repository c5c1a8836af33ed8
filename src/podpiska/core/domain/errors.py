"""Business errors: a stable code, structured details, and a human sentence in ru or en.

This module is the mechanism only. Each area keeps its own codes in its `errors.py` (the
generic ones are in `core/errors.py`): a ru and an en sentence and a `Kind`, what the
refusal means in business words. The entry points turn a kind into their answer: the API
into an HTTP status (`entrypoints/api/errors.py`), the CLI into exit code 2 and one line.

The registry is complete before any code can run: `podpiska/__init__.py`, which Python
runs before any module of the package, imports every area's `errors.py`. A code registered
twice is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from podpiska.core.domain.text import Text


class Kind(StrEnum):
    """What a refusal means, in business words (an entry point picks its answer by it)."""

    INVALID = "invalid"  # the input is wrong: fix it and send again
    CONFLICT = "conflict"  # the input is fine, the current state refuses it
    NOT_FOUND = "not_found"  # missing, or not the caller's to see
    FORBIDDEN = "forbidden"  # the caller may not do this at all
    UNAVAILABLE = "unavailable"  # the outside world failed, not the request: retry later
    TOO_LARGE = "too_large"  # more than the caller may send at once


@dataclass(frozen=True, slots=True)
class Code:
    """One error code's kind and its sentences (`str.format` templates over the details)."""

    kind: Kind
    ru: str
    en: str


class Registry:
    """Every error code and the area that registered it; a code is registered once."""

    def __init__(self) -> None:
        self._codes: dict[str, Code] = {}
        self._areas: dict[str, str] = {}

    def register(self, area: str, codes: Mapping[str, Code]) -> None:
        """Adds `area`'s codes, or none of them when one is already registered."""
        for code in codes:
            if code in self._codes:
                raise ValueError(
                    f"error code {code!r} of {area} is already registered by {self._areas[code]}"
                )
        for code, texts in codes.items():
            self._codes[code] = texts
            self._areas[code] = area

    def __contains__(self, code: object) -> bool:
        return code in self._codes

    def __getitem__(self, code: str) -> Code:
        return self._codes[code]

    def codes(self) -> Mapping[str, Code]:
        return MappingProxyType(self._codes)

    def area_of(self, code: str) -> str:
        return self._areas[code]


REGISTRY = Registry()
register = REGISTRY.register


def is_error_code(code: str) -> bool:
    """True for a registered code (a DomainError can be made of it)."""
    return code in REGISTRY


class DomainError(Exception):
    """A business rule said no. `code` is stable; `details` are JSON-safe values."""

    def __init__(self, code: str, **details: Any) -> None:
        if code not in REGISTRY:
            raise KeyError(f"no message for error code {code!r}")
        self.code = code
        self.details: Mapping[str, Any] = details
        super().__init__(self.message("en"))

    @property
    def kind(self) -> Kind:
        return REGISTRY[self.code].kind

    def message(self, lang: str = "ru") -> str:
        texts = REGISTRY[self.code]
        values = {
            k: _show_status(v, lang) if k == "status" else _show(v, lang)
            for k, v in self.details.items()
        }
        return Text(texts.ru, texts.en).get(lang).format(**values).strip()


# The states a message names (`details.status` keeps the code): subscriptions, invoices,
# changes, bank statement payments. A state not here is shown as it is.
_STATUS_WORDS: dict[str, Text] = {
    "pending": Text("ожидает оплаты", "awaiting payment"),
    "active": Text("действует", "active"),
    "grace": Text("льготный период, только чтение", "grace period, read-only"),
    "suspended": Text("приостановлена", "suspended"),
    "cancelled": Text("отменена", "cancelled"),
    "expired": Text("срок истёк", "expired"),
    "draft": Text("черновик", "draft"),
    "issued": Text("выставлен, ждёт оплаты", "issued, awaiting payment"),
    "paid": Text("оплачен", "paid"),
    "void": Text("аннулирован", "void"),
    "stale": Text("устарел", "out of date"),
    "partially paid": Text("частично оплачен", "partially paid"),
    "applied": Text("применено", "applied"),
    "scheduled": Text("запланировано", "scheduled"),
    "partial": Text("оплачен не полностью", "partly paid"),
    "overpaid": Text("переплата", "overpaid"),
    "unmatched": Text("не разобран", "unmatched"),
    "resolved": Text("разобран", "resolved"),
    "credited": Text("зачислен на баланс", "credited to the balance"),
    "dismissed": Text("отмечен как «не наш»", "dismissed as not ours"),
}


def _show_status(value: Any, lang: str) -> str:
    words = _STATUS_WORDS.get(str(value))
    if words is None:
        return _show(value, lang)
    return words.get(lang)


def _show(value: Any, lang: str) -> str:
    if isinstance(value, date):
        return Text(value.strftime("%d.%m.%Y"), value.isoformat()).get(lang)
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(str(v) for v in value) or Text("нет", "none").get(lang)
    if isinstance(value, dict) and {"ru", "en"} <= value.keys():
        return str(value[lang if lang in value else "en"])
    return str(value)
