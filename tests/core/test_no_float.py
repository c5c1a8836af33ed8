"""No `float` anywhere in src/podpiska: money is Decimal (DESIGN.md, "Money").

The check walks every module's syntax tree and reports each use of the name `float`
(a call, an annotation, an isinstance check) and each float literal (`0.1`, `1e3`).
A line carrying the comment `# float-ok` is exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import podpiska

SRC = Path(podpiska.__file__).resolve().parent
EXEMPT = "# float-ok"


def float_uses(source: str, filename: str = "<string>") -> list[tuple[int, str]]:
    """(line, what) for each `float` name or float literal not on a `# float-ok` line."""
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        what = ""
        if isinstance(node, ast.Name) and node.id == "float":
            what = "the name float"
        elif isinstance(node, ast.Attribute) and node.attr == "float":
            what = "an attribute named float"
        elif isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            what = f"the literal {node.value!r}"
        elif isinstance(node, ast.arg) and node.arg == "float":
            what = "a parameter named float"
        if not what:
            continue
        lineno = getattr(node, "lineno", 0)
        if 0 < lineno <= len(lines) and EXEMPT in lines[lineno - 1]:
            continue
        found.append((lineno, what))
    return sorted(found)


def test_source_tree_is_found() -> None:
    files = list(SRC.rglob("*.py"))
    assert SRC.name == "podpiska"
    assert any(f.name == "money.py" for f in files)


def test_no_float_in_src() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        for lineno, what in float_uses(path.read_text(encoding="utf-8"), str(path)):
            problems.append(f"{path.relative_to(SRC.parent)}:{lineno}: {what}")
    assert not problems, "float is not allowed in src/podpiska:\n" + "\n".join(problems)


# --- the checker itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "x = float('1.5')",
        "x = 0.1",
        "x = 1e3",
        "x = -2.5",
        "def f(a: float) -> None: ...",
        "def f(a: int) -> float: ...",
        "ok = isinstance(v, float)",
        "from __future__ import annotations\nx: list[float] = []",
        "import builtins\nx = builtins.float(1)",
        "x = 1j",
    ],
)
def test_checker_finds_float(source: str) -> None:
    assert float_uses(source)


@pytest.mark.parametrize(
    "source",
    [
        "x = 1",
        "from decimal import Decimal\nx = Decimal('0.1')",
        "x = 'float'",  # a string is not a use
        "# float in a comment\nx = 2",
        "x = float('1.5')  # float-ok: parsing a third-party figure",
        "x = 0.5  # float-ok",
        "floaty = 3",
    ],
)
def test_checker_accepts(source: str) -> None:
    assert float_uses(source) == []


def test_checker_reports_lines() -> None:
    source = "a = 1\nb = 0.5\nc = float(2)  # float-ok\nd = float(3)\n"
    assert float_uses(source) == [(2, "the literal 0.5"), (4, "the name float")]
