"""`podpiska change` (mid-term changes) and `podpiska lifecycle` (the daily run)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from podpiska.entrypoints.cli.common import (
    CLI_ACTOR,
    BadInput,
    choose_language,
    context_of,
    echo_json,
    parse_date,
    say,
)

lifecycle_app = typer.Typer(help="The daily license lifecycle run.", no_args_is_help=True)


def change(
    ctx: typer.Context,
    subscription: Annotated[int, typer.Argument(help="The subscription's id.")],
    seats: Annotated[int | None, typer.Option(help="Users paid for from now.")] = None,
    plan: Annotated[str | None, typer.Option(help="The new plan.")] = None,
    add_on: Annotated[str | None, typer.Option("--add-on", help="An add-on to buy.")] = None,
    preview: Annotated[bool, typer.Option("--preview", help="Only show what it costs.")] = False,
    token: Annotated[str | None, typer.Option(help="Commit this preview's token.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Preview and commit at once.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: Annotated[str | None, typer.Option("--lang")] = None,
) -> None:
    """Change seats, plan or add-ons mid-term: --preview shows the exact lines, the amount
    due and the new end with a token; --token T (or --yes) commits exactly that."""
    from podpiska.entrypoints.presenters import amount
    from podpiska.subscriptions import changes

    language = choose_language(ctx, lang)
    chosen = [
        (k, v) for k, v in (("seats", seats), ("plan", plan), ("add_on", add_on)) if v is not None
    ]
    if len(chosen) != 1:
        raise BadInput("give exactly one of --seats, --plan, --add-on")
    if not (preview or token or yes):
        raise BadInput("say --preview to see it, then --token to commit it (or --yes for both)")
    kind, value = chosen[0]
    context = context_of(ctx)
    secret = context.settings.secret_key
    with context.session() as db:
        shown = changes.preview_change(
            db,
            subscription_id=subscription,
            kind=kind,
            params={kind: value},
            secret=secret,
            clock=context.clock,
        )
        data: dict[str, Any] = {
            "lines": [
                {
                    "code": line.code,
                    "description": line.description(language),
                    "amount": amount(line.amount),
                    "explain": line.explain(language),
                }
                for line in shown.change.lines
            ],
            "amount_due": amount(shown.change.amount_due),
            "effective_on": shown.change.effective_on.isoformat(),
            "ends_on": shown.change.after.ends_on.isoformat(),
            "scheduled": shown.change.scheduled,
            "token": shown.token,
        }
        if preview:
            if as_json:
                echo_json(data)
            else:
                for line in data["lines"]:
                    typer.echo(f"  {line['description']}: {line['explain']}")
                typer.echo(
                    f"due now: {data['amount_due']}  ·  from {data['effective_on']}"
                    f"  ·  term ends {data['ends_on']}"
                    + ("  ·  at the end of the term" if data["scheduled"] else "")
                )
                typer.echo(f"token (15 minutes): {shown.token}")
            return
        done = changes.commit_change(
            db,
            subscription_id=subscription,
            token=token or shown.token,
            secret=secret,
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    result = {
        "change": done.change.id,
        "status": done.change.status,
        "amount_due": amount(done.change.amount_due),
        "invoice": done.invoice.number if done.invoice else None,
    }
    if as_json:
        echo_json({**data, **result})
        return
    for line in data["lines"]:
        typer.echo(f"  {line['description']}: {line['explain']}")
    typer.echo(
        f"change {result['change']}: {result['status']}"
        + (f", invoice {result['invoice']} for {result['amount_due']}" if result["invoice"] else "")
    )


_COUNT_NAMES = {
    "reminders": ("напоминания", "reminders"),
    "autopay_invoices": ("счета автопродления", "autopay invoices"),
    "grace": ("в льготный период", "to grace"),
    "suspended": ("приостановлены", "suspended"),
    "cancelled": ("отменены в конце срока", "cancelled at the end"),
    "expired_changes": ("неоплаченные изменения сняты", "unpaid changes expired"),
    "migration_notices": ("уведомления о переходе прайс-листа", "catalog migration notices"),
    "version_moves": ("переведены на новую версию", "moved to a new version"),
    "planned": ("оплаченные счета разбиты по месяцам", "paid invoices planned by month"),
    "closings": ("выписано УПД за оказанные услуги", "UPDs issued for services rendered"),
    "advances": ("выписано счетов-фактур на аванс", "advance VAT invoices issued"),
}


@lifecycle_app.command("run")
def lifecycle_run(
    ctx: typer.Context,
    at: Annotated[
        str | None, typer.Option("--at", help="Run up to YYYY-MM-DD (default: today).")
    ] = None,
    shards: Annotated[int | None, typer.Option(help="Shards of accounts.")] = None,
    shard: Annotated[int | None, typer.Option(help="Only this shard (0-based).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    queued: Annotated[
        bool, typer.Option("--queue", help="Queue one job per shard for the workers instead.")
    ] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Run the daily lifecycle: every day since the last run, in order (each shard from its
    own last day). A day before one already run is refused: the run never goes back."""
    from rich.progress import Progress

    from podpiska.catalog.store import catalog_today
    from podpiska.subscriptions import lifecycle, lifecycle_day

    language = choose_language(ctx, lang)
    context = context_of(ctx)
    count = shards if shards is not None else context.settings.lifecycle_shards
    if count < 1:
        raise BadInput(
            say(language, f"--shards: нужно не меньше 1, а не {count}",
                 f"--shards must be at least 1, got {count}")
        )  # fmt: skip
    if shard is not None and not 0 <= shard < count:
        raise BadInput(
            say(language, f"--shard: нужно от 0 до {count - 1} (шардов {count}), а не {shard}",
                 f"--shard must be from 0 to {count - 1} ({count} shards), got {shard}")
        )  # fmt: skip
    with context.session() as db:
        day = parse_date(at, "--at") or catalog_today(db, context.clock)
        done = lifecycle.last_run_day(db, shards=count)
    if done is not None and day < done:
        raise BadInput(
            say(
                language,
                f"--at {day.isoformat()}: ежедневный прогон уже выполнен по "
                f"{done.isoformat()}; прошедшие дни не выполняются повторно",
                f"--at {day.isoformat()}: the daily run has already run up to "
                f"{done.isoformat()}; it never goes back to a past day",
            )
        )
    if queued:
        from podpiska.config import worker_in_process
        from podpiska.entrypoints import queue

        if not context.settings.database_url.startswith("postgres") or worker_in_process(
            context.settings
        ):
            raise BadInput(
                say(
                    language,
                    "--queue работает только с PostgreSQL и внешними обработчиками "
                    "(procrastinate); с SQLite запустите `podpiska lifecycle run` без --queue",
                    "--queue needs PostgreSQL and external workers (procrastinate); with "
                    "SQLite run `podpiska lifecycle run` without --queue",
                )
            )
        if count != context.settings.lifecycle_shards or shard is not None:
            raise BadInput(
                say(
                    language,
                    "--queue ставит в очередь все шарды PODPISKA_LIFECYCLE_SHARDS: без "
                    "--shards и --shard",
                    "--queue queues every shard of PODPISKA_LIFECYCLE_SHARDS: without "
                    "--shards and --shard",
                )
            )
        with queue.use_context(context).open():
            jobs = queue.defer_lifecycle(context, day)
        typer.echo(
            say(language, f"в очередь поставлено заданий по шардам: {len(jobs)}",
                 f"queued {len(jobs)} shard jobs for the workers")
        )  # fmt: skip
        return
    with context.session() as db:
        days = lifecycle.days_to_run(db, at=day, shards=count, clock_id=0, only_shard=shard)
        steps = len(days) * (1 if shard is not None else count)
        with Progress(disable=as_json, transient=True) as progress:
            task = progress.add_task(
                say(language, f"прогон по {day}", f"lifecycle up to {day}"), total=steps
            )

            def advance(_day: date, _shard: int, _counts: lifecycle_day.DayCounts) -> None:
                progress.advance(task)

            report = lifecycle.run_lifecycle(
                db, at=day, clock=context.clock, shards=count, only_shard=shard, progress=advance
            )
    result = {"up_to": day.isoformat(), "days": len(report.days), **report.totals.as_dict()}
    if as_json:
        echo_json(result)
        return
    if not report.days:
        typer.echo(say(language, f"дни по {day} уже выполнены", f"days up to {day} were done"))
        return
    first = report.days[0].isoformat()
    typer.echo(
        say(
            language,
            f"дни {first} … {day.isoformat()} ({len(report.days)}), шардов {count}"
            + (f", только шард {shard}" if shard is not None else ""),
            f"days {first} … {day.isoformat()} ({len(report.days)}), shards {count}"
            + (f", only shard {shard}" if shard is not None else ""),
        )
    )
    for key, value in report.totals.as_dict().items():
        ru, en = _COUNT_NAMES[key]
        typer.echo(f"  {say(language, ru, en)}: {value}")


@lifecycle_app.command("verify")
def lifecycle_verify(
    ctx: typer.Context,
    shards: Annotated[int | None, typer.Option(help="Shards of accounts.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Check the daily run against the database: days a shard never ran, autopay renewal
    invoices that fell due and were never issued, renewal invoices issued after their day.
    Exit code 1 when something is wrong."""
    from podpiska.subscriptions.lifecycle_verify import verify_lifecycle

    language = choose_language(ctx, lang)
    context = context_of(ctx)
    count = shards if shards is not None else context.settings.lifecycle_shards
    if count < 1:
        raise BadInput(
            say(language, f"--shards: нужно не меньше 1, а не {count}",
                 f"--shards must be at least 1, got {count}")
        )  # fmt: skip
    with context.session() as db:
        report = verify_lifecycle(db, shards=count)
    if as_json:
        echo_json(
            {
                "ok": report.ok,
                "shards": count,
                "progress": {
                    str(shard): {"first": first.isoformat(), "last": last.isoformat()}
                    for shard, (first, last) in report.progress.items()
                },
                "problems": [
                    {
                        "code": p.code,
                        "shard": p.shard,
                        "day": p.day.isoformat(),
                        "subscription_id": p.subscription_id,
                        "account_id": p.account_id,
                        "invoice_number": p.invoice_number,
                        "issued_on": p.issued_on.isoformat() if p.issued_on else None,
                        "message": p.text(language),
                    }
                    for p in report.problems
                ],
            }
        )
        if not report.ok:
            raise typer.Exit(1)
        return
    for problem in report.problems:
        typer.echo(problem.text(language))
    if not report.progress:
        typer.echo(
            say(language, f"ежедневный прогон ({count} шардов) ещё не выполнялся",
                 f"the daily run ({count} shards) has never run")
        )  # fmt: skip
        return
    last = max(last for _, last in report.progress.values())
    behind = sorted(shard for shard, (_, day) in report.progress.items() if day < last)
    missing = sorted(set(range(count)) - set(report.progress))
    if behind or missing:
        typer.echo(
            say(
                language,
                f"отстают от {last.isoformat()}: шарды {', '.join(map(str, behind + missing))}",
                f"behind {last.isoformat()}: shards {', '.join(map(str, behind + missing))}",
            )
        )
    if not report.ok:
        typer.echo(
            say(language, f"ежедневный прогон: найдено проблем: {len(report.problems)}",
                 f"daily run: {len(report.problems)} problems")
            ,
            err=True,
        )  # fmt: skip
        raise typer.Exit(1)
    typer.echo(
        say(
            language,
            f"ежедневный прогон: OK (по {last.isoformat()}, шардов {count}; все счета "
            "автопродления выставлены в свой день)",
            f"daily run: OK (up to {last.isoformat()}, {count} shards; every autopay "
            "renewal invoice issued on its day)",
        )
    )
