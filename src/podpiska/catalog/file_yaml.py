"""Reading a catalog file's YAML: every number as an exact `Decimal` (a float never
exists), the bounds a real catalog never meets (size, depth, values, no aliases) checked
before anything is built, and the line of the file a problem's path points at.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from podpiska.catalog.problems import PathPart, Problem

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


class DecimalLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader that reads every YAML float as an exact Decimal."""


def _construct_decimal(loader: Any, node: yaml.Node) -> Decimal | str:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        number = Decimal(text)
    except InvalidOperation:  # .inf, .nan: kept as written, so the error can quote it
        return text
    return number if number.is_finite() else text


DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

# A catalog file is small (the shipped ones: 3-5 KB, a few hundred values). Bounds that a
# real one never meets keep a hostile or broken file from costing minutes and gigabytes:
# aliases let 55 KB stand for 400 000 values, deep nesting crashes libyaml's composer.
MAX_CATALOG_BYTES = 1024 * 1024
MAX_CATALOG_VALUES = 50_000  # scalars and collections
MAX_CATALOG_DEPTH = 32


def check_shape(text: str) -> Problem | None:
    """Walk the YAML events (libyaml's parser keeps its own stack: no recursion) before
    anything is built: the first alias, a depth or a number of values above the bounds."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CATALOG_BYTES:
        return Problem(
            (), f"is {size} bytes: a catalog file has at most {MAX_CATALOG_BYTES} bytes", None
        )
    depth = values = 0
    for event in yaml.parse(text, Loader=DecimalLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            return Problem(
                (),
                f"uses the YAML alias *{event.anchor}: a catalog file has no aliases "
                "(write the value out where it is used)",
                line,
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_CATALOG_DEPTH:
                return Problem(
                    (), f"nests deeper than {MAX_CATALOG_DEPTH} levels: not a catalog", line
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.CollectionStartEvent | yaml.ScalarEvent):
            values += 1
            if values > MAX_CATALOG_VALUES:
                return Problem(
                    (), f"has more than {MAX_CATALOG_VALUES} values: not a catalog", line
                )
    return None


def line_of(root: yaml.Node | None, path: Sequence[PathPart]) -> int | None:
    """The 1-based line of the deepest node along `path` that exists in the file."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if getattr(key, "value", None) == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
