"""The error registry is complete wherever a DomainError may be raised: every code that
src/ raises is registered, by one area, before any module of podpiska runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import podpiska
from podpiska.core.domain.errors import REGISTRY

SRC = Path(podpiska.__file__).parent
# `DomainError("code"` and `DomainError(\n    "code"`: every literal code in the sources.
RAISED = re.compile(r"""DomainError\(\s*["'](\w+)["']""")
AREAS = ("core", "catalog", "accounts", "invoicing", "subscriptions", "payments", "entitlements")


def raised_codes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for code in RAISED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(str(path.relative_to(SRC)))
    return found


def test_the_grep_finds_the_codes_raised() -> None:
    found = raised_codes()
    assert "core/domain/events.py" in found["unknown_event_type"]
    assert len(found) > 60


def test_every_code_raised_in_src_is_registered() -> None:
    missing = {code: where for code, where in raised_codes().items() if code not in REGISTRY}
    assert not missing, f"register these codes in their area's errors.py: {missing}"


def test_every_code_is_registered_by_an_area_errors_module() -> None:
    assert {REGISTRY.area_of(code) for code in REGISTRY.codes()} == set(AREAS)
    for area in AREAS:
        assert (SRC / area / "errors.py").is_file()


def test_a_fresh_process_has_every_code_whatever_it_imports_first() -> None:
    """`podpiska/__init__.py` registers every area's codes: importing only the mechanism
    (as a pure domain module does) or a lower area already sees the upper areas' codes."""
    expected = sorted(REGISTRY.codes())
    for first in ("podpiska.core.domain.errors", "podpiska.catalog.domain.pricing"):
        script = (
            f"import {first}\n"
            "from podpiska.core.domain.errors import REGISTRY, DomainError\n"
            "DomainError('license_not_found', account_id=1)\n"
            "print(' '.join(sorted(REGISTRY.codes())))\n"
        )
        env = {**os.environ, "PYTHONPATH": str(SRC.parent)}  # this tree's podpiska
        ran = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
        )
        assert ran.stdout.split() == expected, first
