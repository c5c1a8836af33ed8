"""`podpiska license`: signed license files of on-premise accounts, and the signing key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from podpiska.entrypoints.cli.common import (
    CLI_ACTOR,
    BadInput,
    JsonOption,
    LangOption,
    choose_language,
    context_of,
    parse_date,
    say,
    say_error,
)

if TYPE_CHECKING:
    from podpiska.entitlements.license_files.domain import LicensePayload, Verdict

license_app = typer.Typer(
    help="License files of on-premise accounts: issue, verify, list; the signing key.",
    no_args_is_help=True,
)

TIMEZONE = "Europe/Moscow"  # the day a license is checked on, unless --today says


def _missing_key(exc: Exception) -> BadInput:
    return BadInput(str(exc))


@license_app.command("keygen")
def license_keygen(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing key (old files stop verifying).")
    ] = False,
) -> None:
    """Create the Ed25519 signing key (PODPISKA_LICENSE_KEY, readable by its owner only)."""
    from podpiska.entrypoints.licenses import create_signing_key, key_path

    settings = context_of(ctx).settings
    try:
        path, made = create_signing_key(settings, force=force)
    except FileExistsError:
        raise BadInput(
            f"{key_path(settings)} exists: keep it (files signed with it verify only with its "
            "public key) or pass --force to replace it"
        ) from None
    except OSError as exc:
        raise BadInput(f"{key_path(settings)}: {exc.strerror or exc}") from None
    typer.echo(f"license signing key: {path} (key id {made})")
    typer.echo("ship its public key with the product: podpiska license public-key")


@license_app.command("public-key")
def license_public_key(ctx: typer.Context) -> None:
    """Print the public key (PEM) that verifies the license files: ship it with the product."""
    from podpiska.entrypoints.licenses import LicenseKeyMissing, public_key_text

    try:
        pem, _ = public_key_text(context_of(ctx).settings)
    except LicenseKeyMissing as exc:
        raise _missing_key(exc) from None
    typer.echo(pem, nl=False)


@license_app.command("issue")
def license_issue(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(metavar="ACCOUNT", help="The account's id.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where to write the file (default: SERIAL.lic)."),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Issue a license file now for an on-premise account's paid subscription."""
    from podpiska.entitlements.license_files.licenses import license_filename
    from podpiska.entrypoints.licenses import LicenseKeyMissing, issue_now

    choose_language(ctx, lang)
    context = context_of(ctx)
    with context.session() as db:
        try:
            issued = issue_now(context, db, account_id=account, actor=CLI_ACTOR)
        except LicenseKeyMissing as exc:
            raise _missing_key(exc) from None
    name = license_filename(issued.row)
    target = output or Path(name)
    if target.is_dir():
        target = target / name
    try:
        target.write_text(issued.text, encoding="ascii", newline="\n")
    except OSError as exc:
        raise BadInput(
            f"{target}: {exc.strerror or exc} (license {issued.row.serial} was issued: "
            f"`podpiska license list {account}`)"
        ) from None
    payload = issued.license
    typer.echo(
        f"{payload.serial}: {target} (paid through {payload.paid_through.isoformat()}, "
        f"grace until {payload.grace_until.isoformat()}, key {payload.key_id})"
    )


def _fields(payload: LicensePayload, lang: str) -> list[tuple[str, str]]:
    return [
        (say(lang, "Номер", "Serial"), payload.serial),
        (say(lang, "Портал", "Account"), f"{payload.account_id} · {payload.account_name}"),
        (say(lang, "ИНН", "INN"), payload.inn or "—"),
        (say(lang, "Редакция", "Edition"), payload.edition),
        (say(lang, "Тариф", "Plan"), payload.plan),
        (say(lang, "Пользователей", "Users"), str(payload.users)),
        (say(lang, "Возможности", "Features"), ", ".join(payload.features) or "—"),
        (say(lang, "Начало периода", "Term start"), payload.term_start.isoformat()),
        (say(lang, "Оплачена по", "Paid through"), payload.paid_through.isoformat()),
        (say(lang, "Льготный период по", "Grace until"), payload.grace_until.isoformat()),
        (say(lang, "Выдана", "Issued at"), f"{payload.issued_at:%Y-%m-%d %H:%M:%S} UTC"),
        (say(lang, "Ключ", "Key id"), payload.key_id),
    ]


def _verdict_json(verdict: Verdict, lang: str) -> dict[str, Any]:
    return {
        "valid": verdict.valid,
        "read_only": verdict.read_only,
        "status": verdict.status.value,
        "code": verdict.code,
        "message": verdict.message(lang),
        "details": verdict.details,
        "license": verdict.license.as_json() if verdict.license else None,
    }


@license_app.command("verify")
def license_verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The license file.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            metavar="PEM",
            help="The vendor's public key (default: that of PODPISKA_LICENSE_KEY).",
            show_default=False,
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today", help="Check as of YYYY-MM-DD (default: today).", show_default=False
        ),
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Check a license file offline: exit 0 valid (in grace too: read-only), 1 not valid."""
    from rich.console import Console
    from rich.table import Table

    from podpiska.entitlements.license_files.signing import verify_license_text
    from podpiska.entrypoints.licenses import LicenseKeyMissing, public_key_text

    language = choose_language(ctx, lang)
    context = context_of(ctx)
    day = parse_date(today, "--today") or context.clock.today(TIMEZONE)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"{file}: {exc.strerror or exc}") from None
    if public_key is not None:
        try:
            pem = public_key.read_bytes()
        except OSError as exc:
            raise BadInput(f"{public_key}: {exc.strerror or exc}") from None
    else:
        try:
            pem = public_key_text(context.settings, create=False)[0].encode("ascii")
        except LicenseKeyMissing as exc:
            raise BadInput(f"no public key: pass --public-key PEM ({exc})") from None
    verdict = verify_license_text(text, pem, day)
    if as_json:
        typer.echo(json.dumps(_verdict_json(verdict, language), ensure_ascii=False, indent=2))
        if not verdict.valid:
            raise typer.Exit(1)
        return
    if verdict.license is not None:
        title = f"{file} · {say(language, 'проверка на', 'as of')} {day.isoformat()}"
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column()
        table.add_column()
        for label, value in _fields(verdict.license, language):
            table.add_row(label, value)
        Console(highlight=False, soft_wrap=True).print(table)
    if not verdict.valid:
        say_error(verdict.message(language))
        raise typer.Exit(1)
    typer.echo(verdict.message(language))


@license_app.command("list")
def license_list(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(metavar="ACCOUNT", help="The account's id.")],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The license files issued to an account, the latest first."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from podpiska.entitlements.license_files.licenses import license_of, list_licenses

    choose_language(ctx, lang)
    context = context_of(ctx)
    with context.session() as db:
        rows = list_licenses(db, account_id=account)
    views = [(row, license_of(row)) for row in rows]
    if as_json:
        data = [
            {
                "id": row.id,
                "serial": row.serial,
                "invoice_id": row.invoice_id,
                "subscription_id": row.subscription_id,
                "key_id": row.key_id,
                "valid_until": row.valid_until.isoformat(),
                "issued_at": row.issued_at.isoformat(),
                "actor": row.actor,
                "license": payload.as_json(),
            }
            for row, payload in views
        ]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not views:
        typer.echo(f"account {account}: no license files")
        return
    table = Table(
        title=f"account {account}: license files, the latest first",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("Serial", no_wrap=True)
    table.add_column("Invoice", justify="right", no_wrap=True)
    table.add_column("Plan", no_wrap=True)
    table.add_column("Users", justify="right", no_wrap=True)
    table.add_column("Paid through", no_wrap=True)
    table.add_column("Grace until", no_wrap=True)
    for row, payload in views:
        table.add_row(
            row.serial,
            str(row.invoice_id) if row.invoice_id is not None else "—",
            payload.plan,
            str(payload.users),
            payload.paid_through.isoformat(),
            payload.grace_until.isoformat(),
        )
    Console(highlight=False).print(table)
