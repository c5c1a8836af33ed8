"""What the worker sends: the local mailbox, deliveries of e-mails and webhooks, and the
vendor's webhook endpoints."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from podpiska.entrypoints.cli.common import CLI_ACTOR, BadInput, context_of

deliveries_app = typer.Typer(help="E-mails and webhooks sent by the worker.", no_args_is_help=True)
webhook_app = typer.Typer(help="The vendor's webhook endpoints.", no_args_is_help=True)


def mailbox(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many of the latest messages.")] = 20,
) -> None:
    """The e-mails written to the local mailbox folder (when no SMTP server is set)."""
    context = context_of(ctx)
    lister = context.ports.list_mail
    if lister is None:
        raise BadInput("mail goes to an SMTP server (PODPISKA_SMTP_HOST): no local mailbox")
    messages = lister()[-limit:]
    if not messages:
        typer.echo(f"no messages in {context.settings.mailbox_dir}")
    for path, when, to, subject in messages:
        stamp = when.strftime("%Y-%m-%d %H:%M") if when else "?"
        typer.echo(f"{stamp}  {to:32}  {subject}  [{path.name}]")


@deliveries_app.command("list")
def deliveries_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead")] = None,
    limit: int = 50,
) -> None:
    from podpiska.notifications.deliveries import list_deliveries

    with context_of(ctx).session() as db:
        for view in list_deliveries(db, status=status, limit=limit).rows:
            typer.echo(" ".join(str(part) for part in _delivery_row(view)))


def _delivery_row(view: Any) -> list[Any]:
    names = ("id", "status", "channel", "target", "event_type", "attempts", "last_error")
    return [value if (value := getattr(view, name, None)) is not None else "-" for name in names]


@deliveries_app.command("redeliver")
def deliveries_redeliver(ctx: typer.Context, delivery_id: int) -> None:
    """Send a dead (or delivered) delivery again."""
    from podpiska.notifications.deliveries import redeliver

    context = context_of(ctx)
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

    context = context_of(ctx)
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
    context = context_of(ctx)
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

    with context_of(ctx).session() as db:
        endpoints = list_endpoints(db)
        chosen = endpoint_event_types(db, [e.id for e in endpoints])
    for endpoint in endpoints:
        events = ",".join(chosen.get(endpoint.id, ())) or "all"
        state = "active" if endpoint.active else "off"
        typer.echo(f"{endpoint.id}  {state:6}  {endpoint.url}  {events}")
