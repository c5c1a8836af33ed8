"""The `podpiska` command line (Typer + Rich).

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

if TYPE_CHECKING:
    from podpiska.catalog.domain.catalog import Catalog
    from podpiska.catalog.domain.pricing import Quote
    from podpiska.entrypoints.context import Context

app = typer.Typer(
    name="podpiska",
    help="Podpiska: subscription licensing and billing. Подписки, счета, продления.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
catalog_app = typer.Typer(help="Check and show catalog files.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


class BadInput(Exception):
    """Input the user can fix: one line, exit code 2."""


def _context(ctx: typer.Context) -> Context:
    context: Context = ctx.find_root().obj
    return context


def counted(n: int, noun: str) -> str:
    """`1 promotion`, `2 promotions`, `0 promotions` (the CLI's English output)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fail(message: str) -> NoReturn:
    raise BadInput(message)


def _lang(ctx: typer.Context, lang: str | None) -> str:
    chosen = lang or _context(ctx).settings.language
    if chosen not in {"ru", "en"}:
        _fail(f"--lang must be ru or en, got {chosen!r}")
    ctx.find_root().meta["podpiska.lang"] = chosen  # errors speak the same language
    return chosen


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} must be a date YYYY-MM-DD, got {value!r}")


def _load(ctx: typer.Context, path: Path | None) -> Catalog:
    from podpiska.catalog.loading import load_catalog

    settings = _context(ctx).settings
    return load_catalog(path or settings.catalog, cache_dir=settings.cache_dir)


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


@app.command()
def quote(
    ctx: typer.Context,
    plan: Annotated[str, typer.Option("--plan", help="Plan code, e.g. standard.")],
    months: Annotated[int, typer.Option("--months", help="Period in months, e.g. 12.")],
    users: Annotated[
        int | None,
        typer.Option("--users", help="Users (default: the plan's free users).", show_default=False),
    ] = None,
    addon: Annotated[
        list[str] | None, typer.Option("--addon", help="Add-on code; repeat for several.")
    ] = None,
    promo: Annotated[
        list[str] | None, typer.Option("--promo", help="Promotion code; repeat for several.")
    ] = None,
    bought: Annotated[
        list[str] | None,
        typer.Option("--bought", help="A plan or add-on the account bought before (promotions)."),
    ] = None,
    catalog: CatalogOption = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Price as of YYYY-MM-DD (default: today).", show_default=False),
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Price a purchase, every line with its derivation."""
    from podpiska.catalog.quoting import quote_purchase
    from podpiska.entrypoints.presenters import quote_json

    language = _lang(ctx, lang)
    day = _parse_date(at, "--at")
    result = quote_purchase(
        _load(ctx, catalog),
        plan=plan,
        months=months,
        users=users,
        add_ons=addon or (),
        promotions=promo or (),
        bought_before=bought or (),
        at=day,
        clock=_context(ctx).clock,
    )
    if as_json:
        typer.echo(json.dumps(quote_json(result, language), ensure_ascii=False, indent=2))
        return
    _print_quote(result, language)


def _print_quote(result: Quote, lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from podpiska.core.domain.money import format_money, format_percent

    ru = lang == "ru"
    cur = result.currency
    console = Console(highlight=False)
    title = (
        f"Расчёт на {result.at:%d.%m.%Y} · прайс-лист {result.catalog_version}"
        if ru
        else f"Quote as of {result.at.isoformat()} · catalog version {result.catalog_version}"
    )
    table = Table(title=title, title_justify="left")
    for header, justify in (
        ("Позиция" if ru else "Item", "left"),
        ("Кол-во" if ru else "Qty", "right"),
        ("Мес." if ru else "Months", "right"),
        ("Цена в мес." if ru else "Price / month", "right"),
        ("Скидка" if ru else "Discount", "right"),
        ("Сумма" if ru else "Amount", "right"),
    ):
        table.add_column(header, justify=justify, no_wrap=justify == "right")  # type: ignore[arg-type]
    for line in result.lines:
        table.add_row(
            line.description(lang),
            str(line.quantity),
            str(line.months),
            format_money(line.unit_price, cur, lang),
            format_percent(line.discount_percent, lang) if line.discounts else "—",
            format_money(line.amount, cur, lang),
        )
    console.print(table)
    for number, line in enumerate(result.lines, 1):
        console.print(f"  {number}. {line.explain(cur, lang)}", soft_wrap=True)
    rows = [
        ("Без скидок" if ru else "List price", result.subtotal),
        ("Скидка" if ru else "Discount", -result.discount),
        ("Итого" if ru else "Total", result.total),
    ]
    console.print()
    for label, value in rows:
        console.print(f"  {label}: {format_money(value, cur, lang)}")
    for share in result.vat_shares:
        console.print(f"  {share.vat.label(lang)}: {format_money(share.amount, cur, lang)}")
    if result.payable != result.total:
        label = "К оплате" if ru else "To pay"
        console.print(f"  {label}: {format_money(result.payable, cur, lang)}")
    per_month = "В среднем за месяц" if ru else "Per month on average"
    console.print(f"  {per_month}: {format_money(result.monthly_equivalent, cur, lang)}")


@catalog_app.command("check")
def catalog_check(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Catalog file.", show_default=False)] = None,
) -> None:
    """Validate a catalog file and list every problem in it."""
    from podpiska.catalog.problems import CatalogFileError

    path = file or _context(ctx).settings.catalog
    try:
        catalog = _load(ctx, path)
    except CatalogFileError as exc:
        shown = exc.problems if exc.omitted else exc.problems[:-1]
        for problem in shown:
            typer.echo(problem.render(exc.source), err=True)
        if exc.omitted:  # the first ones are listed: a file's mistakes are mostly one
            raise BadInput(
                f"{exc.source}: and {exc.omitted} more problems (the first {len(shown)} above)"
            ) from None
        raise BadInput(exc.problems[-1].render(exc.source)) from None
    for version in catalog.versions:
        typer.echo(
            f"{path}: version {version.version} from {version.effective_from.isoformat()}: "
            f"{counted(len(version.plans), 'plan')}, {counted(len(version.add_ons), 'add-on')}, "
            f"{counted(len(version.promotions), 'promotion')}, periods "
            f"{', '.join(str(p.months) for p in version.periods)} months, "
            f"VAT {version.vat.mode.value}"
        )
    typer.echo(f"{path}: OK")


@catalog_app.command("show")
def catalog_show(
    ctx: typer.Context,
    catalog: CatalogOption = None,
    at: Annotated[
        str | None, typer.Option("--at", help="As of YYYY-MM-DD (default: today).")
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The price matrix: every plan for every period, with the price per month."""
    from rich.console import Console
    from rich.table import Table

    from podpiska.catalog.quoting import quote_purchase
    from podpiska.core.domain.money import format_money, format_percent
    from podpiska.entrypoints.presenters import amount

    language = _lang(ctx, lang)
    cat = _load(ctx, catalog)
    clock = _context(ctx).clock
    day = _parse_date(at, "--at") or clock.today(cat.timezone)
    version = cat.version_at(day)
    matrix: dict[str, dict[int, Any]] = {}
    for plan in version.plans.values():
        matrix[plan.code] = {
            p.months: quote_purchase(cat, plan=plan.code, months=p.months, at=day, clock=clock)
            for p in version.periods
        }
    if as_json:
        data = {
            "catalog": cat.code,
            "catalog_version": version.version,
            "at": day.isoformat(),
            "currency": cat.currency,
            "plans": [
                {
                    "code": plan.code,
                    "name": plan.name.get(language),
                    "users_included": plan.users_included,
                    "max_users": plan.user_limit,
                    "extra_user_price": amount(plan.extra_user_price)
                    if plan.extra_user_price is not None
                    else None,
                    "disk_gb": plan.disk_gb,
                    "features": sorted(plan.features),
                    "periods": [
                        {
                            "months": months,
                            "total": amount(q.total),
                            "per_month": amount(q.monthly_equivalent),
                        }
                        for months, q in matrix[plan.code].items()
                    ],
                }
                for plan in version.plans.values()
            ],
        }
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    ru = language == "ru"
    table = Table(
        title=f"{cat.name.get(language)} · {version.version} · {day.isoformat()}",
        title_justify="left",
    )
    table.add_column("Тариф" if ru else "Plan")
    table.add_column("Польз." if ru else "Users", justify="right")
    table.add_column("Срок" if ru else "Period", justify="right", no_wrap=True)
    table.add_column("Скидка" if ru else "Discount", justify="right", no_wrap=True)
    table.add_column("Итого" if ru else "Total", justify="right", no_wrap=True)
    table.add_column("В месяц" if ru else "Per month", justify="right", no_wrap=True)
    for plan in version.plans.values():
        limit = plan.user_limit
        users = (
            str(plan.users_included)
            if limit == plan.users_included
            else (f"{plan.users_included}+" if limit is None else f"{plan.users_included}–{limit}")
        )
        for n, (months, q) in enumerate(matrix[plan.code].items()):
            discount = version.period(months).discount_percent
            table.add_row(
                plan.name.get(language) if n == 0 else "",
                users if n == 0 else "",
                f"{months} мес." if ru else f"{months} mo",
                format_percent(discount, language) if discount else "—",
                format_money(q.total, cat.currency, language),
                format_money(q.monthly_equivalent, cat.currency, language),
                end_section=n == len(matrix[plan.code]) - 1,
            )
    Console(highlight=False).print(table)


@catalog_app.command("schema")
def catalog_schema() -> None:
    """Print the JSON Schema of catalog files (for editors)."""
    from podpiska.catalog.file import catalog_json_schema

    typer.echo(json.dumps(catalog_json_schema(), ensure_ascii=False, indent=2))


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes (more than one: PostgreSQL).")
    ] = 1,
) -> None:
    """Start the REST API (OpenAPI at /docs)."""
    from podpiska.config import worker_in_process
    from podpiska.entrypoints.production import unsafe_production

    settings = _context(ctx).settings
    refused = unsafe_production(_context(ctx))
    if refused:
        _fail(refused)
    if workers > 1 and worker_in_process(settings):
        _fail(
            "--workers above 1 needs PostgreSQL and `podpiska worker` processes "
            "(PODPISKA_WORKER=external): the in-process worker runs in one process only"
        )
    from podpiska.entrypoints.serving import CannotListen, serve_processes

    try:
        serve_processes(host or settings.host, port or settings.port, workers)
    except CannotListen as exc:
        _fail(str(exc))


@app.command()
def version() -> None:
    """Print Podpiska's version."""
    from podpiska import __version__

    typer.echo(__version__)


def _register_admin_commands() -> None:
    from podpiska.entrypoints import (
        cli_admin,  # noqa: F401 - registers its commands
        cli_documents,  # noqa: F401 - `podpiska document`
        cli_licenses,  # noqa: F401 - `podpiska license`
        cli_migrations,  # noqa: F401 - `podpiska migration`
    )


def run(context: Context, argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code. Bad input: code 2 and one line on stderr."""
    from podpiska.catalog.problems import CatalogFileError
    from podpiska.core.domain.errors import DomainError

    _register_admin_commands()
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
        _say_error("aborted")
        return 1
    except BadInput as exc:
        _say_error(str(exc))
        return 2
    except DomainError as exc:
        _say_error(exc.message(lang))
        return 2
    except CatalogFileError as exc:
        _say_error(exc.summary())
        return 2
    except typer.TyperException as exc:  # usage errors: a bad option, a missing value
        if type(exc).__name__ == "NoArgsIsHelpError":  # `podpiska` alone: show the help
            sys.stdout.write(exc.format_message() + "\n")
            return exc.exit_code
        _say_error(" ".join(exc.format_message().split()))
        return exc.exit_code
    except Exception as exc:  # a bug of ours, or the database: one line for the user
        if os.environ.get("PODPISKA_DEBUG"):
            raise
        not_ready = _database_not_ready(context, exc)
        if not_ready:
            _say_error(not_ready)
            return 2
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        _say_error(
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
        from podpiska.core.db.migrate import is_current

        current = is_current(url)
    except Exception:  # the database cannot even be asked
        first = (str(exc.orig).strip().splitlines() or [""])[0]
        return f"the database {url} cannot be used ({first}); check PODPISKA_DATABASE_URL"
    if current:
        return None
    return (
        f"the database {url} is not initialised or not at the latest migration: run `podpiska init`"
    )


def _say_error(message: str) -> None:
    sys.stderr.write(f"podpiska: {message.strip()}\n")
