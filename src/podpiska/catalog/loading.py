"""Use-case: load the catalog from its file, fast.

Parsing and validation live in `podpiska.catalog.file` (YAML and Pydantic), which
is imported only when a file has to be parsed: with a cache folder, a validated catalog is
kept as a pickle keyed by the file's content and the source of the code that reads it, so a
command-line run skips YAML and validation when nothing changed (like Python's `.pyc`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from pathlib import Path

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.problems import CatalogFileError, Problem
from podpiska.core.domain import money as _money_module
from podpiska.core.domain import text as _text_module


def load_catalog(path: str | Path, *, cache_dir: Path | None = None) -> Catalog:
    """Read and validate a catalog file. Raises `CatalogFileError` naming every problem."""
    file = Path(path)
    try:
        data = file.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise CatalogFileError(str(path), [Problem((), "no such file")]) from None
    except IsADirectoryError:
        raise CatalogFileError(str(path), [Problem((), "is a folder, not a file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(str(path), [Problem((), f"cannot be read: {exc}")]) from None
    if cache_dir is not None:
        cached = cache_dir / f"catalog-{_fingerprint(data)}.pickle"
        with contextlib.suppress(
            OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError
        ):
            catalog = pickle.loads(cached.read_bytes())
            if isinstance(catalog, Catalog):
                return catalog

    from podpiska.catalog.file import parse_catalog_cached  # YAML + Pydantic

    if cache_dir is None:
        return parse_catalog_cached(text, str(path))
    catalog = parse_catalog_cached(text, str(path))
    with contextlib.suppress(OSError):  # a read-only place: no cache, the same answer
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(catalog, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(cached)
    return catalog


def _fingerprint(data: bytes) -> str:
    """The catalog's bytes plus the source of the code that reads and represents it: every
    module of the catalog area (wherever it is installed, whatever it is called) and the
    money and text modules its amounts and names are made of. A file that cannot be read
    is an error, never a key that silently leaves it out."""
    digest = hashlib.sha256(data)
    for source in _catalog_sources():
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:40]


def _catalog_sources() -> list[Path]:
    area = Path(__file__).resolve().parent
    below = [Path(m.__file__ or "").resolve() for m in (_money_module, _text_module)]
    return [*sorted(area.rglob("*.py")), *below]
