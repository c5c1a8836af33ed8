"""What is wrong in a catalog file: each problem with its place, and the error that lists
them. The parser (`file.py`) and the loader (`loading.py`) both speak it, so neither needs the
other's module to say what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PathPart = str | int


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a catalog file."""

    path: tuple[PathPart, ...]
    message: str
    line: int | None = None

    def render(self, source: str = "") -> str:
        place = f"{source}:{self.line}" if source and self.line else source
        parts = [p for p in (place, format_path(self.path)) if p]
        return ": ".join([*parts, self.message])


# A file with thousands of mistakes is one mistake repeated: its first problems are listed,
# the others counted.
MAX_PROBLEMS = 50


class CatalogFileError(Exception):
    """The catalog file cannot be used; `problems` lists every place that is wrong."""

    def __init__(self, source: str, problems: Sequence[Problem], *, omitted: int = 0) -> None:
        self.source = source
        self.problems = list(problems[:MAX_PROBLEMS])  # the first ones, in file order
        self.omitted = omitted + max(0, len(problems) - MAX_PROBLEMS)  # and how many more
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line: the first problem, and how many more there are."""
        first = self.problems[0].render(self.source)
        more = len(self.problems) - 1 + self.omitted
        if more:
            first += f" (and {more} more: run `podpiska catalog check {self.source}`)"
        return first


def format_path(path: Sequence[PathPart]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
