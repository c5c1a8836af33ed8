"""Commands that run Podpiska as a service: init, serve, version, the worker, the database."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from podpiska.entrypoints.cli.common import CLI_ACTOR, BadInput, context_of, fail

db_app = typer.Typer(help="The database: migrate, back up.", no_args_is_help=True)


def init(
    ctx: typer.Context,
    demo: Annotated[bool, typer.Option("--demo", help="Add demo accounts and an admin key.")] = (
        False
    ),
) -> None:
    """Migrate the database and load the catalog (with --demo: demo data and a key)."""
    from podpiska.accounts.apikeys import create_api_key
    from podpiska.backoffice.demo import DEMO_KEY_NAME, create_demo, has_accounts
    from podpiska.migrate import upgrade
    from podpiska.subscriptions.catalogs import load_catalog_document
    from podpiska.subscriptions.moves import list_migrations

    context = context_of(ctx)
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

    settings = context_of(ctx).settings
    refused = unsafe_production(context_of(ctx))
    if refused:
        fail(refused)
    if workers > 1 and worker_in_process(settings):
        fail(
            "--workers above 1 needs PostgreSQL and `podpiska worker` processes "
            "(PODPISKA_WORKER=external): the in-process worker runs in one process only"
        )
    from podpiska.entrypoints.serving import CannotListen, serve_processes

    try:
        serve_processes(host or settings.host, port or settings.port, workers)
    except CannotListen as exc:
        fail(str(exc))


def version() -> None:
    """Print Podpiska's version."""
    from podpiska import __version__

    typer.echo(__version__)


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

    context = context_of(ctx)
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
    from podpiska.migrate import upgrade

    url = context_of(ctx).settings.database_url
    upgrade(url)
    typer.echo(f"{url}: at the latest migration")


@db_app.command("backup")
def db_backup(ctx: typer.Context, file: Path) -> None:
    """Copy the database to FILE (SQLite's backup API, or pg_dump) before a risky change."""
    from podpiska.core.db.backup import BackupFailed, backup

    try:
        written = backup(context_of(ctx).settings.database_url, file)
    except BackupFailed as exc:
        raise BadInput(f"backup failed: {exc}") from None
    typer.echo(f"backup written to {written} ({written.stat().st_size} bytes)")
