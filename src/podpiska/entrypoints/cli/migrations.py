"""`podpiska migration`: the catalog's migration plans and their impact report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from podpiska.entrypoints.cli.common import BadInput, context_of

migration_app = typer.Typer(
    help="Catalog migrations: the Marketplace rule or a new version, cohort by cohort.",
    no_args_is_help=True,
)


@migration_app.command("list")
def migration_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """The migration plans of the catalog in force."""
    from rich.console import Console
    from rich.table import Table

    from podpiska.subscriptions.moves import list_migrations

    context = context_of(ctx)
    with context.session() as db:
        plans = list_migrations(db)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "code": m.code,
                        "kind": m.kind.value,
                        "cohorts": [
                            {"code": c.code, "cut_over": c.cut_over.isoformat()} for c in m.cohorts
                        ],
                    }
                    for m in plans
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table("plan", "kind", "cohort", "cut-over")
    for m in plans:
        for c in m.cohorts:
            table.add_row(m.code, m.kind.value, c.code, c.cut_over.isoformat())
    Console().print(table)


@migration_app.command("impact")
def migration_impact(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The migration plan's code.")],
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Write one line per affected account to this file."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """What the plan would do before anything is switched on: accounts affected, the change
    of revenue per month, the distribution of increases, per cohort; --csv for every
    account."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from podpiska.subscriptions.moves import migration_of
    from podpiska.subscriptions.moves_impact import affected_count, impact_csv, impact_summary

    context = context_of(ctx)
    console = Console(stderr=True)
    with context.session() as db:
        migration_of(db, code=code)  # an unknown plan: one clear line before any work
        with console.status("counting the impact…", spinner="dots") if not as_json else _Quiet():
            summary = impact_summary(db, code=code)
        if csv_file is not None:
            if csv_file.is_dir():
                raise BadInput(f"--csv {csv_file}: is a folder")
            total = summary.accounts or affected_count(db, code=code)
            columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn())  # fmt: skip
            with (
                Progress(*columns, console=console, disable=as_json, transient=True) as bar,
                csv_file.open("w", encoding="utf-8", newline="") as out,
            ):
                task = bar.add_task(f"writing {csv_file.name}", total=total)
                for chunk in impact_csv(db, code=code, progress=lambda n: bar.advance(task, n)):
                    out.write(chunk)
    data = summary.as_json()
    if csv_file is not None:
        data["csv"] = str(csv_file)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_summary(data)


class _Quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _print_summary(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    money = data["currency"]
    table = Table(
        title=f"Impact of {data['migration']} ({data['kind']}), per month", show_header=False
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    percent = data["change_percent"]
    rows = [
        ("accounts affected", f"{data['accounts']:,}"),
        ("accounts paying more", f"{data['accounts_with_increase']:,}"),
        ("revenue today", f"{data['revenue_today']} {money}"),
        ("revenue after", f"{data['revenue_after']} {money}"),
        ("change", f"{data['revenue_change']} {money}" + (f" ({percent} %)" if percent else "")),
        ("first-time discount (first term)", f"{data['first_time_discount']} {money}"),
    ]
    if data["accounts_with_decrease"]:
        rows.insert(2, ("accounts paying less", f"{data['accounts_with_decrease']:,}"))
    for what, value in rows:
        table.add_row(what, value)
    console.print(table)
    buckets = Table("increase, %", "accounts", title="Increases in percent of today's cost")
    for bucket in data["increase_percent_buckets"]:
        buckets.add_row(bucket["range"], f"{bucket['accounts']:,}")
    console.print(buckets)
    cohorts = Table("cohort", "cut-over", "accounts", "paying more", "change")
    for cohort in data["cohorts"]:
        cohorts.add_row(
            cohort["code"],
            cohort["cut_over"],
            f"{cohort['accounts']:,}",
            f"{cohort['accounts_with_increase']:,}",
            f"{cohort['revenue_change']} {money}",
        )
    console.print(cohorts)
    if "csv" in data:
        console.print(f"per account: {data['csv']}")
