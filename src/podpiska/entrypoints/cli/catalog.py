"""`podpiska quote` and `podpiska catalog`: price a purchase; check, show, load catalog files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from podpiska.entrypoints.cli.common import (
    CLI_ACTOR,
    BadInput,
    CatalogOption,
    JsonOption,
    LangOption,
    choose_language,
    context_of,
    counted,
    load_catalog_file,
    load_priced_catalog_file,
    parse_date,
    say,
)

if TYPE_CHECKING:
    from podpiska.catalog.domain.pricing import Quote

catalog_app = typer.Typer(help="Check and show catalog files.", no_args_is_help=True)


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

    language = choose_language(ctx, lang)
    day = parse_date(at, "--at")
    result = quote_purchase(
        load_priced_catalog_file(ctx, catalog),
        plan=plan,
        months=months,
        users=users,
        add_ons=addon or (),
        promotions=promo or (),
        bought_before=bought or (),
        at=day,
        clock=context_of(ctx).clock,
    )
    if as_json:
        typer.echo(json.dumps(quote_json(result, language), ensure_ascii=False, indent=2))
        return
    _print_quote(result, language)


def _print_quote(result: Quote, lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from podpiska.core.domain.money import format_money, format_percent

    cur = result.currency
    console = Console(highlight=False)
    title = say(
        lang,
        f"Расчёт на {result.at:%d.%m.%Y} · прайс-лист {result.catalog_version}",
        f"Quote as of {result.at.isoformat()} · catalog version {result.catalog_version}",
    )
    table = Table(title=title, title_justify="left")
    for header, justify in (
        (say(lang, "Позиция", "Item"), "left"),
        (say(lang, "Кол-во", "Qty"), "right"),
        (say(lang, "Мес.", "Months"), "right"),
        (say(lang, "Цена в мес.", "Price / month"), "right"),
        (say(lang, "Скидка", "Discount"), "right"),
        (say(lang, "Сумма", "Amount"), "right"),
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
        (say(lang, "Без скидок", "List price"), result.subtotal),
        (say(lang, "Скидка", "Discount"), -result.discount),
        (say(lang, "Итого", "Total"), result.total),
    ]
    console.print()
    for label, value in rows:
        console.print(f"  {label}: {format_money(value, cur, lang)}")
    for share in result.vat_shares:
        console.print(f"  {share.vat.label(lang)}: {format_money(share.amount, cur, lang)}")
    if result.payable != result.total:
        label = say(lang, "К оплате", "To pay")
        console.print(f"  {label}: {format_money(result.payable, cur, lang)}")
    per_month = say(lang, "В среднем за месяц", "Per month on average")
    console.print(f"  {per_month}: {format_money(result.monthly_equivalent, cur, lang)}")


@catalog_app.command("check")
def catalog_check(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Catalog file.", show_default=False)] = None,
) -> None:
    """Validate a catalog file and list every problem in it."""
    from podpiska.catalog.problems import CatalogFileError

    path = file or context_of(ctx).settings.catalog
    try:
        catalog = load_catalog_file(ctx, path)
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

    language = choose_language(ctx, lang)
    cat = load_priced_catalog_file(ctx, catalog)
    clock = context_of(ctx).clock
    day = parse_date(at, "--at") or clock.today(cat.timezone)
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
    table = Table(
        title=f"{cat.name.get(language)} · {version.version} · {day.isoformat()}",
        title_justify="left",
    )
    table.add_column(say(language, "Тариф", "Plan"))
    table.add_column(say(language, "Польз.", "Users"), justify="right")
    table.add_column(say(language, "Срок", "Period"), justify="right", no_wrap=True)
    table.add_column(say(language, "Скидка", "Discount"), justify="right", no_wrap=True)
    table.add_column(say(language, "Итого", "Total"), justify="right", no_wrap=True)
    table.add_column(say(language, "В месяц", "Per month"), justify="right", no_wrap=True)
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
                say(language, f"{months} мес.", f"{months} mo"),
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


@catalog_app.command("load")
def catalog_load(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Catalog file.", show_default=False)] = None,
) -> None:
    """Load a catalog file into the database: it is in force from now on."""
    from podpiska.subscriptions.catalogs import load_catalog_document

    context = context_of(ctx)
    with context.session() as db:
        document, catalog, changed = load_catalog_document(
            db, path=file or context.settings.catalog, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(
        f"catalog {catalog.code}: "
        + (f"loaded as document {document.id}" if changed else "unchanged")
    )
