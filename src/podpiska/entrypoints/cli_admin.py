"""Commands that run Podpiska as a service: init, serve's worker, lifecycle, keys, mail."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from podpiska.core.domain.money import AmountFormatError, parse_money
from podpiska.entrypoints.cli import BadInput, _context, _parse_date, app, catalog_app

lifecycle_app = typer.Typer(help="The daily license lifecycle run.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys (shown once when created).", no_args_is_help=True)
db_app = typer.Typer(help="The database: migrate, back up.", no_args_is_help=True)
deliveries_app = typer.Typer(help="E-mails and webhooks sent by the worker.", no_args_is_help=True)
webhook_app = typer.Typer(help="The vendor's webhook endpoints.", no_args_is_help=True)
people_app = typer.Typer(help="People who log in to the web application.", no_args_is_help=True)
app.add_typer(lifecycle_app, name="lifecycle")
app.add_typer(apikey_app, name="apikey")
app.add_typer(db_app, name="db")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(webhook_app, name="webhook")
app.add_typer(people_app, name="people")

CLI_ACTOR = "cli"


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command()
def init(
    ctx: typer.Context,
    demo: Annotated[bool, typer.Option("--demo", help="Add demo accounts and an admin key.")] = (
        False
    ),
) -> None:
    """Migrate the database and load the catalog (with --demo: demo data and a key)."""
    from podpiska.accounts.apikeys import create_api_key
    from podpiska.backoffice.demo import DEMO_KEY_NAME, create_demo, has_accounts
    from podpiska.catalog.moves import list_migrations
    from podpiska.catalog.store import load_catalog_document
    from podpiska.core.db.migrate import upgrade

    context = _context(ctx)
    settings = context.settings
    if demo and settings.env == "production":
        raise BadInput(
            "--demo is refused in production: demo people and keys have published passwords"
        )
    upgrade(settings.database_url)
    typer.echo(f"database: {settings.database_url} is at the latest migration")
    with context.session() as db:
        _, catalog, changed = load_catalog_document(
            db, path=settings.catalog, actor=CLI_ACTOR, clock=context.clock
        )
        versions = ", ".join(v.version for v in catalog.versions)
        typer.echo(
            f"catalog: {catalog.code} ({versions}) "
            + ("loaded" if changed else "already loaded")
            + f" from {settings.catalog}"
        )
        from podpiska.entrypoints.licenses import prepare_signing_key

        typer.echo(prepare_signing_key(settings))  # signs on-premise license files
        if not demo:
            return
        if has_accounts(db):
            typer.echo("demo: the database already has accounts; no demo data added")
        else:
            ports = context.ports
            made = create_demo(
                db,
                clock=context.clock,
                gateway=ports.gateway,
                pay_with_test_card=ports.pay_with_test_card,
            )
            for name, state in made:
                typer.echo(f"demo: {name}: {state}")
            for plan in list_migrations(db):
                typer.echo(
                    f"demo: migration plan {plan.code}: try `podpiska migration impact {plan.code}`"
                )
            typer.echo(
                "demo: a bank statement: try `podpiska bank demo-statement -o statement.txt`"
                " then `podpiska bank import statement.txt`"
            )
        _, key = create_api_key(
            db, role="vendor_admin", name=DEMO_KEY_NAME, actor=CLI_ACTOR, clock=context.clock
        )
        typer.echo(f"admin API key (shown once): {key}")
        typer.echo(
            f"try: curl -H 'Authorization: Bearer {key}' "
            f"{settings.public_url.rstrip('/')}/api/v1/accounts/1"
        )
        from podpiska.backoffice.demo import create_demo_people

        typer.echo(f"web logins (demo passwords) at {settings.public_url.rstrip('/')}/:")
        for login in create_demo_people(db, clock=context.clock):
            note = ""
            if login.can_renew:
                note = f"  (portal {login.account_id}: renewal open now, try renewing and paying)"
            elif login.renewal_opens_on is not None:
                note = f"  (portal {login.account_id}: renewal opens on {login.renewal_opens_on})"
            typer.echo(f"  {login.role:16} {login.email:28} {login.password}{note}")


@catalog_app.command("load")
def catalog_load(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Catalog file.", show_default=False)] = None,
) -> None:
    """Load a catalog file into the database: it is in force from now on."""
    from podpiska.catalog.store import load_catalog_document

    context = _context(ctx)
    with context.session() as db:
        document, catalog, changed = load_catalog_document(
            db, path=file or context.settings.catalog, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(
        f"catalog {catalog.code}: "
        + (f"loaded as document {document.id}" if changed else "unchanged")
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
}


def _say(language: str, ru: str, en: str) -> str:
    return ru if language == "ru" else en


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
    from podpiska.entrypoints.cli import _lang
    from podpiska.subscriptions import lifecycle

    language = _lang(ctx, lang)
    context = _context(ctx)
    count = shards if shards is not None else context.settings.lifecycle_shards
    if count < 1:
        raise BadInput(
            _say(language, f"--shards: нужно не меньше 1, а не {count}",
                 f"--shards must be at least 1, got {count}")
        )  # fmt: skip
    if shard is not None and not 0 <= shard < count:
        raise BadInput(
            _say(language, f"--shard: нужно от 0 до {count - 1} (шардов {count}), а не {shard}",
                 f"--shard must be from 0 to {count - 1} ({count} shards), got {shard}")
        )  # fmt: skip
    with context.session() as db:
        day = _parse_date(at, "--at") or catalog_today(db, context.clock)
        done = lifecycle.last_run_day(db, shards=count)
    if done is not None and day < done:
        raise BadInput(
            _say(
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
                _say(
                    language,
                    "--queue работает только с PostgreSQL и внешними обработчиками "
                    "(procrastinate); с SQLite запустите `podpiska lifecycle run` без --queue",
                    "--queue needs PostgreSQL and external workers (procrastinate); with "
                    "SQLite run `podpiska lifecycle run` without --queue",
                )
            )
        if count != context.settings.lifecycle_shards or shard is not None:
            raise BadInput(
                _say(
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
            _say(language, f"в очередь поставлено заданий по шардам: {len(jobs)}",
                 f"queued {len(jobs)} shard jobs for the workers")
        )  # fmt: skip
        return
    with context.session() as db:
        days = lifecycle.days_to_run(db, at=day, shards=count, clock_id=0, only_shard=shard)
        steps = len(days) * (1 if shard is not None else count)
        with Progress(disable=as_json, transient=True) as progress:
            task = progress.add_task(
                _say(language, f"прогон по {day}", f"lifecycle up to {day}"), total=steps
            )

            def advance(_day: date, _shard: int, _counts: lifecycle.DayCounts) -> None:
                progress.advance(task)

            report = lifecycle.run_lifecycle(
                db, at=day, clock=context.clock, shards=count, only_shard=shard, progress=advance
            )
    result = {"up_to": day.isoformat(), "days": len(report.days), **report.totals.as_dict()}
    if as_json:
        _echo_json(result)
        return
    if not report.days:
        typer.echo(_say(language, f"дни по {day} уже выполнены", f"days up to {day} were done"))
        return
    first = report.days[0].isoformat()
    typer.echo(
        _say(
            language,
            f"дни {first} … {day.isoformat()} ({len(report.days)}), шардов {count}"
            + (f", только шард {shard}" if shard is not None else ""),
            f"days {first} … {day.isoformat()} ({len(report.days)}), shards {count}"
            + (f", only shard {shard}" if shard is not None else ""),
        )
    )
    for key, value in report.totals.as_dict().items():
        ru, en = _COUNT_NAMES[key]
        typer.echo(f"  {_say(language, ru, en)}: {value}")


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
    from podpiska.entrypoints.cli import _lang
    from podpiska.subscriptions.lifecycle_verify import verify_lifecycle

    language = _lang(ctx, lang)
    context = _context(ctx)
    count = shards if shards is not None else context.settings.lifecycle_shards
    if count < 1:
        raise BadInput(
            _say(language, f"--shards: нужно не меньше 1, а не {count}",
                 f"--shards must be at least 1, got {count}")
        )  # fmt: skip
    with context.session() as db:
        report = verify_lifecycle(db, shards=count)
    if as_json:
        _echo_json(
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
            _say(language, f"ежедневный прогон ({count} шардов) ещё не выполнялся",
                 f"the daily run ({count} shards) has never run")
        )  # fmt: skip
        return
    last = max(last for _, last in report.progress.values())
    behind = sorted(shard for shard, (_, day) in report.progress.items() if day < last)
    missing = sorted(set(range(count)) - set(report.progress))
    if behind or missing:
        typer.echo(
            _say(
                language,
                f"отстают от {last.isoformat()}: шарды {', '.join(map(str, behind + missing))}",
                f"behind {last.isoformat()}: shards {', '.join(map(str, behind + missing))}",
            )
        )
    if not report.ok:
        typer.echo(
            _say(language, f"ежедневный прогон: найдено проблем: {len(report.problems)}",
                 f"daily run: {len(report.problems)} problems")
            ,
            err=True,
        )  # fmt: skip
        raise typer.Exit(1)
    typer.echo(
        _say(
            language,
            f"ежедневный прогон: OK (по {last.isoformat()}, шардов {count}; все счета "
            "автопродления выставлены в свой день)",
            f"daily run: OK (up to {last.isoformat()}, {count} shards; every autopay "
            "renewal invoice issued on its day)",
        )
    )


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="vendor_admin, vendor_operator or account_admin")],
    account: Annotated[int | None, typer.Option(help="The account (account_admin keys).")] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "",
) -> None:
    """Create an API key and print it once."""
    from podpiska.accounts.apikeys import create_api_key

    context = _context(ctx)
    with context.session() as db:
        key, token = create_api_key(
            db, role=role, account_id=account, name=name, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(token)
    typer.echo(
        f"(key {key.prefix}, role {key.role}: store it now, it is not shown again)", err=True
    )


@apikey_app.command("list")
def apikey_list(ctx: typer.Context) -> None:
    from podpiska.accounts.apikeys import list_api_keys

    with _context(ctx).session() as db:
        for key in list_api_keys(db):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(
                f"{key.prefix}  {key.role:16} account={key.account_id or '-'}  {state}  {key.name}"
            )


@apikey_app.command("revoke")
def apikey_revoke(ctx: typer.Context, prefix: str) -> None:
    from podpiska.accounts.apikeys import revoke_api_key

    context = _context(ctx)
    with context.session() as db:
        revoke_api_key(db, prefix=prefix, actor=CLI_ACTOR, clock=context.clock)
    typer.echo(f"key {prefix} revoked")


@people_app.command("add")
def people_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's e-mail (the login).")],
    role: Annotated[str, typer.Option(help="vendor_admin, vendor_operator or account_admin")],
    account: Annotated[int | None, typer.Option(help="The account (account_admin).")] = None,
) -> None:
    """Add a person who logs in to the web application; prints a generated password once."""
    from podpiska.accounts.people import create_person

    context = _context(ctx)
    with context.session() as db:
        person, password = create_person(
            db, email=email, role=role, account_id=account, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(password)
    typer.echo(
        f"(person {person.id} {person.email}, role {person.role}: the password is shown once; "
        "they change it on their profile page)",
        err=True,
    )


@people_app.command("list")
def people_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """The people who log in to the web application."""
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.table import Table

    from podpiska.accounts.people import list_people

    context = _context(ctx)
    with context.session() as db:
        rows = list_people(db)
    now = context.clock.now()
    data: list[dict[str, Any]] = [
        {
            "id": r.id,
            "email": r.email,
            "role": r.role,
            "account_id": r.account_id,
            "state": "disabled"
            if r.disabled
            else ("locked" if r.locked_until and r.locked_until > now else "active"),
            "last_login_at": r.last_login_at.isoformat() if r.last_login_at else None,
        }
        for r in rows
    ]
    if as_json:
        _echo_json(data)
        return
    if not data:
        typer.echo("no people yet: podpiska people add EMAIL --role ...")
        return
    table = Table()
    for column in ("id", "e-mail", "role", "account", "state", "last login"):
        table.add_column(column, no_wrap=True)  # an e-mail is a login: never cut or wrapped
    moscow = ZoneInfo("Europe/Moscow")
    for item, row in zip(data, rows, strict=True):
        last = row.last_login_at
        table.add_row(
            str(item["id"]),
            item["email"],
            item["role"],
            str(item["account_id"] or "-"),
            item["state"],
            f"{last.astimezone(moscow):%d.%m.%Y %H:%M}" if last else "-",
        )
    console = Console(highlight=False)
    wide = max(len(item["email"]) for item in data) + 75  # the other columns and borders
    if console.width < wide:  # a pipe or a narrow window: lines as long as they must be
        console = Console(highlight=False, width=wide)
    console.print(table)


@app.command()
def mailbox(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many of the latest messages.")] = 20,
) -> None:
    """The e-mails written to the local mailbox folder (when no SMTP server is set)."""
    context = _context(ctx)
    lister = context.ports.list_mail
    if lister is None:
        raise BadInput("mail goes to an SMTP server (PODPISKA_SMTP_HOST): no local mailbox")
    messages = lister()[-limit:]
    if not messages:
        typer.echo(f"no messages in {context.settings.mailbox_dir}")
    for path, when, to, subject in messages:
        stamp = when.strftime("%Y-%m-%d %H:%M") if when else "?"
        typer.echo(f"{stamp}  {to:32}  {subject}  [{path.name}]")


@app.command()
def worker(
    ctx: typer.Context,
    one_shot: Annotated[
        bool, typer.Option("--one-shot", help="Do what is due now, then exit.")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Jobs at once (PostgreSQL).")] = 1,
) -> None:
    """Run the worker: the daily lifecycle and the delivery of e-mails and webhooks.

    With PostgreSQL it is a procrastinate worker (start several, on several machines);
    with SQLite the same work runs in this process."""
    from podpiska.config import worker_in_process
    from podpiska.entrypoints.observability import configure_logging

    context = _context(ctx)
    configure_logging(context.settings.log_format)
    if worker_in_process(context.settings):
        from podpiska.entrypoints.worker import InProcessWorker

        loop = InProcessWorker(context)
        if one_shot:
            tick = loop.tick()
            typer.echo(
                f"lifecycle days: {tick.lifecycle_days}, events: {tick.fanned_out}, "
                f"sent: {tick.delivered}"
            )
            return
        typer.echo("worker running in-process (Ctrl+C to stop)", err=True)
        try:
            loop.run_forever()
        except KeyboardInterrupt:
            loop.stop()
        return
    from podpiska.entrypoints import queue

    if not one_shot:
        typer.echo("procrastinate worker running (Ctrl+C to stop)", err=True)
        queue.run_worker(context, concurrency=concurrency)
        return
    with queue.use_context(context).open():
        queue.defer_lifecycle(context, _today(context))
    queue.run_worker(context, one_shot=True, concurrency=concurrency)
    from podpiska.entrypoints.worker import deliver_outbox

    events, sent = deliver_outbox(context, rounds=100)
    typer.echo(f"queues empty; events: {events}, sent: {sent}")


def _today(context: Any) -> date:
    from podpiska.catalog.store import catalog_today

    with context.session() as db:
        today: date = catalog_today(db, context.clock)
    return today


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database to the latest migration."""
    from podpiska.core.db.migrate import upgrade

    url = _context(ctx).settings.database_url
    upgrade(url)
    typer.echo(f"{url}: at the latest migration")


@db_app.command("backup")
def db_backup(ctx: typer.Context, file: Path) -> None:
    """Copy the database to FILE (SQLite's backup API, or pg_dump) before a risky change."""
    from podpiska.core.db.backup import BackupFailed, backup

    try:
        written = backup(_context(ctx).settings.database_url, file)
    except BackupFailed as exc:
        raise BadInput(f"backup failed: {exc}") from None
    typer.echo(f"backup written to {written} ({written.stat().st_size} bytes)")


@deliveries_app.command("list")
def deliveries_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead")] = None,
    limit: int = 50,
) -> None:
    from podpiska.notifications.deliveries import list_deliveries

    with _context(ctx).session() as db:
        for view in list_deliveries(db, status=status, limit=limit):
            typer.echo(" ".join(str(part) for part in _delivery_row(view)))


def _delivery_row(view: Any) -> list[Any]:
    names = ("id", "status", "channel", "target", "event_type", "attempts", "last_error")
    return [value if (value := getattr(view, name, None)) is not None else "-" for name in names]


@deliveries_app.command("redeliver")
def deliveries_redeliver(ctx: typer.Context, delivery_id: int) -> None:
    """Send a dead (or delivered) delivery again."""
    from podpiska.notifications.deliveries import redeliver

    context = _context(ctx)
    with context.session() as db:
        redeliver(db, delivery_id=delivery_id, actor=CLI_ACTOR, clock=context.clock)
    typer.echo(f"delivery {delivery_id} is pending again")


EVENT_OPTION = typer.Option(
    "--event",
    help="An event type it receives (repeat it), or an area such as subscription.*; "
    "none: every event.",
)


@webhook_app.command("add")
def webhook_add(
    ctx: typer.Context,
    url: str,
    secret: Annotated[str | None, typer.Option()] = None,
    event: Annotated[list[str] | None, EVENT_OPTION] = None,
) -> None:
    """Send events to URL (every event, or those of --event), signed with a secret (printed
    once)."""
    from podpiska.notifications.webhook_endpoints import add_endpoint

    context = _context(ctx)
    with context.session() as db:
        endpoint = add_endpoint(
            db,
            url=url,
            secret=secret,
            event_types=event or (),
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"endpoint {endpoint.id}: {endpoint.url}")
    typer.echo(f"signing secret (shown once): {endpoint.secret}")


@webhook_app.command("events")
def webhook_events(
    ctx: typer.Context,
    endpoint_id: int,
    event: Annotated[list[str] | None, EVENT_OPTION] = None,
    every: Annotated[bool, typer.Option("--all", help="Receive every event again.")] = False,
) -> None:
    """Choose the events ENDPOINT_ID receives: --event TYPE (repeat it) or --all."""
    from podpiska.notifications.webhook_endpoints import set_endpoint_event_types

    if event and every:
        raise BadInput("--event and --all exclude each other")
    if not event and not every:
        raise BadInput("give --event TYPE (repeatable) or --all (every event)")
    context = _context(ctx)
    with context.session() as db:
        set_endpoint_event_types(
            db,
            endpoint_id=endpoint_id,
            event_types=event or (),
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"endpoint {endpoint_id} receives: {', '.join(event or ()) or 'every event'}")


@webhook_app.command("list")
def webhook_list(ctx: typer.Context) -> None:
    """The endpoints: id, state, URL, and the events each receives (all: every event)."""
    from podpiska.notifications.webhook_endpoints import endpoint_event_types, list_endpoints

    with _context(ctx).session() as db:
        endpoints = list_endpoints(db)
        chosen = endpoint_event_types(db, [e.id for e in endpoints])
    for endpoint in endpoints:
        events = ",".join(chosen.get(endpoint.id, ())) or "all"
        state = "active" if endpoint.active else "off"
        typer.echo(f"{endpoint.id}  {state:6}  {endpoint.url}  {events}")


ledger_app = typer.Typer(help="The double-entry journal.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def ledger_verify(ctx: typer.Context) -> None:
    """Prove that every transaction balances and that the journal agrees with the invoices,
    payments, credit and refunds of every account."""
    from podpiska.invoicing.ledger import verify

    with _context(ctx).session() as db:
        report = verify(db)
    for problem in [*report.unbalanced, *report.mismatches]:
        typer.echo(problem)
    if not report.ok:
        typer.echo(
            f"ledger: {len(report.unbalanced)} unbalanced transactions, "
            f"{len(report.mismatches)} mismatches",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"ledger: OK ({report.transactions} transactions balance; the journal agrees "
        "with every account's documents)"
    )


@app.command()
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
    from podpiska.entrypoints.cli import _lang
    from podpiska.entrypoints.presenters import amount
    from podpiska.subscriptions import changes

    language = _lang(ctx, lang)
    chosen = [
        (k, v) for k, v in (("seats", seats), ("plan", plan), ("add_on", add_on)) if v is not None
    ]
    if len(chosen) != 1:
        raise BadInput("give exactly one of --seats, --plan, --add-on")
    if not (preview or token or yes):
        raise BadInput("say --preview to see it, then --token to commit it (or --yes for both)")
    kind, value = chosen[0]
    context = _context(ctx)
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
                _echo_json(data)
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
        _echo_json({**data, **result})
        return
    for line in data["lines"]:
        typer.echo(f"  {line['description']}: {line['explain']}")
    typer.echo(
        f"change {result['change']}: {result['status']}"
        + (f", invoice {result['invoice']} for {result['amount_due']}" if result["invoice"] else "")
    )


def _amount_argument(text: str) -> Decimal:
    """An amount typed on the command line, read by the one money parser (exit 2 if not)."""
    try:
        return parse_money(text)
    except AmountFormatError as exc:
        raise BadInput(
            f"AMOUNT must be roubles in digits with at most two decimals, like 1500.00 "
            f"({exc.reason}), got {text[:40]!r}"
        ) from None


@app.command()
def refund(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(help="The account.")],
    amount_: Annotated[str, typer.Argument(metavar="AMOUNT", help="Roubles, e.g. 1500.00")],
    reason: Annotated[str, typer.Option(help="Why.")] = "requested by the customer",
) -> None:
    """Refund part of an account's credit (recorded; the gateway sends it)."""
    from podpiska.invoicing.ledger import refund_credit

    value = _amount_argument(amount_)
    context = _context(ctx)
    with context.session() as db:
        made = refund_credit(
            db,
            account_id=account,
            amount=value,
            reason=reason,
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"refund {made.id}: {made.amount} requested")


@app.command("credit-note")
def credit_note(
    ctx: typer.Context,
    invoice: Annotated[int, typer.Argument(help="The paid invoice to correct.")],
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Correct a paid invoice: a credit note with its lines negated; the money goes to the
    account's credit."""
    from podpiska.subscriptions.credit_notes import issue_credit_note

    context = _context(ctx)
    with context.session() as db:
        note = issue_credit_note(
            db, invoice_id=invoice, reason=reason, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(f"credit note {note.number}: {note.total}")


bank_app = typer.Typer(
    help="Bank statements (1C exchange format) and their payments.", no_args_is_help=True
)
app.add_typer(bank_app, name="bank")


@bank_app.command("import")
def bank_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The statement (1CClientBankExchange).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Import a statement: match each incoming payment to its invoice; what cannot be
    matched waits in `podpiska bank review`; payments from our accounts are counted, not
    imported; each account's totals are checked. Importing the same file again changes
    nothing."""
    from decimal import Decimal

    from rich.console import Console
    from rich.table import Table

    from podpiska.config import our_bank_accounts
    from podpiska.core.domain.money import format_amount
    from podpiska.entrypoints.cli import _lang
    from podpiska.payments.bank.statements import import_statement

    language = _lang(ctx, lang)
    context = _context(ctx)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"{file}: {exc.strerror or exc}") from None
    with context.session() as db:
        report = import_statement(
            db,
            data=data,
            source=file.name,
            our_accounts=our_bank_accounts(context.settings),
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    if as_json:
        _echo_json(report.summary())
        return
    texts = _BANK_IMPORT_TEXTS[language]

    def amount(value: str | None) -> str:
        return "—" if value is None else format_amount(Decimal(value), language)

    table = Table(
        title=texts["title"].format(source=file.name, documents=report.documents),
        title_justify="left",
    )
    table.add_column(texts["result"])
    table.add_column(texts["payments"], justify="right")
    table.add_column(texts["amount"], justify="right", no_wrap=True)
    for key in ("paid", "partial", "overpaid", "unmatched"):
        table.add_row(
            texts[key], str(report.counts.get(key, 0)), amount(report.amount.get(key, "0.00"))
        )
    table.add_row(texts["already_imported"], str(report.already_imported), "")
    if report.outgoing:
        table.add_row(texts["outgoing"], str(report.outgoing), amount(report.outgoing_amount))
    if report.not_ours:
        table.add_row(texts["not_ours"], str(report.not_ours), amount(report.not_ours_amount))
    console = Console(highlight=False)
    console.print(table)
    if report.accounts:
        accounts = Table(title=texts["accounts"], title_justify="left")
        for key in ("account", "opening", "received", "debited", "closing"):
            accounts.add_column(
                texts[key], justify="left" if key == "account" else "right", no_wrap=True
            )
        for totals in report.accounts:
            accounts.add_row(
                totals.account,
                amount(totals.opening),
                amount(totals.received),
                amount(totals.debited),
                amount(totals.closing),
            )
        console.print(accounts)


# The summary of `bank import`, in the language of the command (`--lang`, else the setting).
_BANK_IMPORT_TEXTS = {
    "ru": {
        "title": "{source}: документов {documents}",
        "result": "результат",
        "payments": "платежей",
        "amount": "сумма",
        "paid": "оплачено полностью",
        "partial": "оплачено частично",
        "overpaid": "переплата (остаток в кредит)",
        "unmatched": "на разбор",
        "already_imported": "загружено ранее",
        "outgoing": "списания с наших счетов (не загружаются)",
        "not_ours": "не на наши счета",
        "accounts": "Счета выписки (остатки и обороты сверены с документами)",
        "account": "счёт",
        "opening": "на начало",
        "received": "поступило",
        "debited": "списано",
        "closing": "на конец",
    },
    "en": {
        "title": "{source}: {documents} documents",
        "result": "result",
        "payments": "payments",
        "amount": "amount",
        "paid": "paid in full",
        "partial": "paid in part",
        "overpaid": "overpaid (rest to credit)",
        "unmatched": "to review",
        "already_imported": "imported before",
        "outgoing": "from our accounts (not imported)",
        "not_ours": "not to our accounts",
        "accounts": "The statement's accounts (balances and totals checked against the documents)",
        "account": "account",
        "opening": "opening",
        "received": "received",
        "debited": "debited",
        "closing": "closing",
    },
}


@bank_app.command("demo-statement")
def bank_demo_statement(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
) -> None:
    """Write a 1C statement to try `bank import` with (demo databases only): the unpaid
    invoices paid by transfer, and one payment that names no invoice."""
    from podpiska.backoffice.demo import demo_statement
    from podpiska.config import our_bank_accounts

    context = _context(ctx)
    if context.settings.env == "production":
        raise BadInput("bank demo-statement is refused in production: it makes up payments")
    with context.session() as db:
        data = demo_statement(
            db, clock=context.clock, our_accounts=our_bank_accounts(context.settings)
        )
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"{output}: {exc.strerror or exc}") from None
    typer.echo(f"{output}: a 1C statement; try: podpiska bank import {output}")


@bank_app.command("review")
def bank_review(ctx: typer.Context, limit: int = 50) -> None:
    """Payments that matched no invoice, for an operator."""
    from podpiska.payments.bank.statements import review_queue

    with _context(ctx).session() as db:
        rows = review_queue(db, limit=limit)
    if not rows:
        typer.echo("nothing to review")
    for row in rows:
        typer.echo(
            f"{row.id}  {row.day.isoformat()}  {row.amount:>12}  {row.payer_inn or '-':12}"
            f"  {row.payer[:30]:30}  {row.purpose[:60]}" + (f"  ({row.note})" if row.note else "")
        )


@bank_app.command("resolve")
def bank_resolve(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="The payment from `bank review`.")],
    invoice: Annotated[int, typer.Option(help="The invoice (id) it pays.")],
) -> None:
    """Assign an unmatched payment to an invoice: it is registered there."""
    from podpiska.payments.bank.statements import resolve

    context = _context(ctx)
    with context.session() as db:
        row = resolve(
            db,
            bank_payment_id=bank_payment,
            invoice_id=invoice,
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"payment {row.id}: resolved to invoice {row.invoice_id}")


@bank_app.command("credit")
def bank_credit(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="The payment from `bank review`.")],
    account: Annotated[int, typer.Option(help="The account (id) whose credit it goes to.")],
) -> None:
    """Put an unmatched payment on an account's credit (a prepayment for no invoice in
    particular): the account's next invoices use it first."""
    from podpiska.payments.bank.statements import credit_to_account

    context = _context(ctx)
    with context.session() as db:
        row = credit_to_account(
            db, bank_payment_id=bank_payment, account_id=account, actor=CLI_ACTOR,
            clock=context.clock,
        )  # fmt: skip
    typer.echo(f"payment {row.id}: {row.amount} to the credit of account {row.account_id}")


@bank_app.command("dismiss")
def bank_dismiss(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="The payment from `bank review`.")],
    reason: Annotated[str, typer.Option(help="Why it is not ours (up to 500 characters).")],
) -> None:
    """Set an unmatched payment aside as not ours (no payment, no posting); `bank reopen`
    takes it back to the queue."""
    from podpiska.payments.bank.statements import dismiss

    context = _context(ctx)
    with context.session() as db:
        row = dismiss(
            db, bank_payment_id=bank_payment, reason=reason, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(f"payment {row.id}: not ours ({row.reason})")


@bank_app.command("reopen")
def bank_reopen(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="A payment set aside as not ours.")],
) -> None:
    """Take a payment set aside as not ours back to the review queue."""
    from podpiska.payments.bank.statements import reopen

    context = _context(ctx)
    with context.session() as db:
        row = reopen(db, bank_payment_id=bank_payment, actor=CLI_ACTOR, clock=context.clock)
    typer.echo(f"payment {row.id}: back in the review queue")


payments_app = typer.Typer(
    help="Payments through the gateway: autopay, reconciliation, saved methods.",
    no_args_is_help=True,
)
app.add_typer(payments_app, name="payments")


@payments_app.command("collect")
def payments_collect(ctx: typer.Context) -> None:
    """Charge the autopay due today, ask the gateway about open attempts, send refunds
    (the worker does this every minute)."""
    from podpiska.entrypoints.worker import collect_payments

    charged, reconciled = collect_payments(_context(ctx))
    typer.echo(f"payments: {charged} autopay charges, {reconciled} attempts reconciled")


@payments_app.command("methods")
def payments_methods(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(help="The account's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """The saved payment methods of an account, with the consent each was kept under."""
    from podpiska.payments.payments import list_methods

    with _context(ctx).session() as db:
        rows = list_methods(db, account)
    data = [
        {
            "id": m.id,
            "type": m.type,
            "title": m.title,
            "status": m.status,
            "consent_at": m.consent_at.isoformat(),
            "consent_by": m.consent_by,
            "consent_text": m.consent_text,
        }
        for m in rows
    ]
    if as_json:
        _echo_json(data)
        return
    if not rows:
        typer.echo("no saved payment methods")
    for m in rows:
        typer.echo(
            f"{m.id}  {m.status:8}  {m.title:24}  consent {m.consent_at:%d.%m.%Y %H:%M} "
            f"by {m.consent_by}"
        )


@payments_app.command("remove-method")
def payments_remove_method(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(help="The account's id.")],
    method: Annotated[int, typer.Argument(help="The saved method's id.")],
) -> None:
    """Remove a saved method: never charged again; autopay off when none is left."""
    from podpiska.payments.payments import remove_method

    context = _context(ctx)
    with context.session() as db:
        removed = remove_method(
            db, account_id=account, method_id=method, actor="cli", clock=context.clock
        )
    typer.echo(f"payment method {removed.id} ({removed.title}): {removed.status}")


apps_app = typer.Typer(help="The marketplace's app registry.", no_args_is_help=True)
app.add_typer(apps_app, name="apps")


@apps_app.command("load")
def apps_load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A YAML or JSON list of apps.")],
) -> None:
    """Create or update apps by code: code, name, vendor, kind (migrator, vendor_basic,
    regular), free_on_plans, uses (rest_api, webhooks, local). All or nothing."""
    import yaml

    from podpiska.entitlements.apps import load_registry

    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    try:
        entries = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BadInput(f"{file}: not YAML or JSON: {str(error).splitlines()[0]}") from None
    if isinstance(entries, dict):
        entries = entries.get("apps")
    if not isinstance(entries, list):
        raise BadInput(f"{file}: expected a list of apps (or a mapping with `apps:`)")
    context = _context(ctx)
    with context.session() as db:
        report = load_registry(db, entries, actor="cli", clock=context.clock)
    typer.echo(
        f"apps: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    )


@apps_app.command("demo")
def apps_demo(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(help="How many apps.")] = 4000,
    output: Annotated[Path | None, typer.Option("-o", help="Write the registry here.")] = None,
) -> None:
    """The demo registry (deterministic): load it, or write it to a file with -o."""
    from podpiska.entitlements.apps import demo_registry, load_registry

    if count < 1:
        raise BadInput(f"--count must be at least 1, got {count}")
    registry = demo_registry(count)
    if output is not None:
        output.write_text(json.dumps(registry, ensure_ascii=False, indent=1), encoding="utf-8")
        typer.echo(f"apps: {len(registry)} written to {output}")
        return
    context = _context(ctx)
    with context.session() as db:
        report = load_registry(db, registry, actor="cli", clock=context.clock)
    typer.echo(
        f"apps: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    )
