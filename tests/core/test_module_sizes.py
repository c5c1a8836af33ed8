"""No module of src/podpiska over 800 lines (DESIGN.md, "The house"): a module that grows
past it is cut by business action, the way issue 15 cut payments, billing and the bank
import. Alembic revisions are exempt: a revision is written once and never edited, and the
first one creates every table of the time in one piece."""

from __future__ import annotations

from pathlib import Path

import podpiska

SRC = Path(podpiska.__file__).resolve().parent
LIMIT = 800
REVISIONS = SRC / "migrations" / "versions"


def test_no_module_over_800_lines() -> None:
    too_long = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if REVISIONS not in path.parents
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert too_long == {}, f"modules over {LIMIT} lines: {too_long}"
