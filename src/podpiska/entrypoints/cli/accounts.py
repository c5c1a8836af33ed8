"""`podpiska apikey` and `podpiska people`: API keys and the people who log in."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from podpiska.entrypoints.cli.common import CLI_ACTOR, context_of, echo_json

apikey_app = typer.Typer(help="API keys (shown once when created).", no_args_is_help=True)
people_app = typer.Typer(help="People who log in to the web application.", no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="vendor_admin, vendor_operator or account_admin")],
    account: Annotated[int | None, typer.Option(help="The account (account_admin keys).")] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "",
) -> None:
    """Create an API key and print it once."""
    from podpiska.accounts.apikeys import create_api_key

    context = context_of(ctx)
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

    with context_of(ctx).session() as db:
        for key in list_api_keys(db):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(
                f"{key.prefix}  {key.role:16} account={key.account_id or '-'}  {state}  {key.name}"
            )


@apikey_app.command("revoke")
def apikey_revoke(ctx: typer.Context, prefix: str) -> None:
    from podpiska.accounts.apikeys import revoke_api_key

    context = context_of(ctx)
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

    context = context_of(ctx)
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

    context = context_of(ctx)
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
        echo_json(data)
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
