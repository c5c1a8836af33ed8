"""An object's metadata: the integrator's own string keys and values (its CRM's ids, ...),
bounded so that a key is indexable and a row stays small.

A change is a mapping of keys to a value (set or replace) or to None (remove); the result
must hold at most MAX_KEYS keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from podpiska.core.domain.errors import DomainError

MAX_KEYS = 20
MAX_KEY = 40
MAX_VALUE = 500
KEY = re.compile(r"[A-Za-z0-9_.\-]{1,40}")

Metadata = dict[str, str]
Changes = Mapping[str, str | None]

__all__ = ["MAX_KEY", "MAX_KEYS", "MAX_VALUE", "Changes", "Metadata", "check_key", "merged"]


def _refuse(key: str, problem_ru: str, problem_en: str) -> DomainError:
    return DomainError(
        "invalid_field", field=f"metadata.{key}"[:60], problem_ru=problem_ru, problem_en=problem_en
    )


def check_key(key: object) -> str:
    """A key: 1 to 40 characters of A-Z, a-z, 0-9, `_`, `.`, `-`."""
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise _refuse(
            str(key),
            f"ключ — от 1 до {MAX_KEY} знаков A-Z, a-z, 0-9, _ . -",
            f"a key is 1 to {MAX_KEY} characters of A-Z, a-z, 0-9, _ . -",
        )
    return key


def _check_value(key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _refuse(key, "значение — строка или null", "a value is a string or null")
    if len(value) > MAX_VALUE:
        raise _refuse(
            key,
            f"значение не длиннее {MAX_VALUE} знаков",
            f"a value is at most {MAX_VALUE} characters",
        )
    return value


def merged(current: Mapping[str, str], changes: Mapping[str, object]) -> Metadata:
    """`current` with `changes` applied: a string sets or replaces its key, None removes it.
    Anything else, or more than MAX_KEYS keys after the change, is 422 `invalid_field`."""
    result = dict(current)
    for key, value in changes.items():
        checked = _check_value(check_key(key), value)
        if checked is None:
            result.pop(key, None)
        else:
            result[key] = checked
    if len(result) > MAX_KEYS:
        raise DomainError(
            "invalid_field",
            field="metadata",
            problem_ru=f"не больше {MAX_KEYS} ключей",
            problem_en=f"at most {MAX_KEYS} keys",
        )
    return result
