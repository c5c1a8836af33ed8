"""What every command of `podpiska` shares: the options, the context, the output helpers,
and the one place that turns an error into an exit code (bad input: 2 and one line).

Imports are lazy: `podpiska quote` must answer in well under half a second. Bad input exits
with code 2 and one line naming the problem; nobody sees a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from podpiska.core.domain.text import Text

if TYPE_CHECKING:
    from podpiska.catalog.domain.catalog import Catalog
    from podpiska.entrypoints.context import Context

CLI_ACTOR = "cli"


class BadInput(Exception):
    """Input the user can fix: one line, exit code 2."""


def context_of(ctx: typer.Context) -> Context:
    context: Context = ctx.find_root().obj
    return context


def counted(n: int, noun: str) -> str:
    """`1 promotion`, `2 promotions`, `0 promotions` (the CLI's English output)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def fail(message: str) -> NoReturn:
    raise BadInput(message)


def choose_language(ctx: typer.Context, lang: str | None) -> str:
    chosen = lang or context_of(ctx).settings.language
    if chosen not in {"ru", "en"}:
        fail(f"--lang must be ru or en, got {chosen!r}")
    ctx.find_root().meta["podpiska.lang"] = chosen  # errors speak the same language
    return chosen


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, got {value!r}")


def load_catalog_file(ctx: typer.Context, path: Path | None) -> Catalog:
    from podpiska.catalog.loading import load_catalog

    settings = context_of(ctx).settings
    return load_catalog(path or settings.catalog, cache_dir=settings.cache_dir)


def load_priced_catalog_file(ctx: typer.Context, path: Path | None) -> Catalog:
    """The catalog file as the vendor's tax system prices it (`priced_under`: on `usn`
    every product is exempt), for the commands that quote from a file."""
    from podpiska.catalog.domain.catalog import priced_under

    tax_system = context_of(ctx).settings.vendor_tax_system
    return priced_under(load_catalog_file(ctx, path), tax_system)


CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="Catalog file (default: $PODPISKA_CATALOG, else catalogs/crm-shop.yaml).",
        show_default=False,
    ),
]
LangOption = Annotated[str | None, typer.Option("--lang", help="ru or en.", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def say(language: str, ru: str, en: str) -> str:
    """The CLI's words in its language: the Russian for "ru", the English otherwise."""
    return Text(ru, en).get(language)


def invoke(app: typer.Typer, context: Context, argv: list[str] | None = None) -> int:
    """Run the root `app`; returns the exit code. Bad input: code 2 and one line on stderr."""
    from podpiska.catalog.problems import CatalogFileError
    from podpiska.core.domain.errors import DomainError

    command = typer.main.get_command(app)
    lang = context.settings.language
    try:
        with command.make_context(
            "podpiska", list(argv if argv is not None else sys.argv[1:]), obj=context
        ) as ctx:
            try:
                result = command.invoke(ctx)
            finally:
                lang = ctx.meta.get("podpiska.lang", lang)
    except typer.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:  # `podpiska mailbox | head`: the reader has had enough
        return _reader_gone()
    except typer.Abort:
        say_error("aborted")
        return 1
    except BadInput as exc:
        say_error(str(exc))
        return 2
    except DomainError as exc:
        say_error(exc.message(lang))
        return 2
    except CatalogFileError as exc:
        say_error(exc.summary())
        return 2
    except typer.TyperException as exc:  # usage errors: a bad option, a missing value
        if type(exc).__name__ == "NoArgsIsHelpError":  # `podpiska` alone: show the help
            sys.stdout.write(exc.format_message() + "\n")
            return exc.exit_code
        say_error(" ".join(exc.format_message().split()))
        return exc.exit_code
    except Exception as exc:  # a bug of ours, or the database: one line for the user
        if os.environ.get("PODPISKA_DEBUG"):
            raise
        not_ready = _database_not_ready(context, exc)
        if not_ready:
            say_error(not_ready)
            return 2
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        say_error(
            f"internal error ({type(exc).__name__}: {first}); nothing was changed by the failed "
            "step. Run again with PODPISKA_DEBUG=1 for the details."
        )
        return 1
    return result if isinstance(result, int) else 0


def _reader_gone() -> int:
    """The output's reader closed the pipe: stop quietly with status 1 (as Rich's tables do
    and Python's documentation advises), and send what is still buffered nowhere, so that
    the flush at exit raises nothing either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    return 1


def _database_not_ready(context: Context, exc: Exception) -> str | None:
    """A database error on a database that is not migrated: say to run `podpiska init`."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    url = context.settings.database_url
    try:
        from podpiska.migrate import is_current

        current = is_current(url)
    except Exception:  # the database cannot even be asked
        first = (str(exc.orig).strip().splitlines() or [""])[0]
        return f"the database {url} cannot be used ({first}); check PODPISKA_DATABASE_URL"
    if current:
        return None
    return (
        f"the database {url} is not initialised or not at the latest migration: run `podpiska init`"
    )


def say_error(message: str) -> None:
    sys.stderr.write(f"podpiska: {message.strip()}\n")
