"""`podpiska apps`: the marketplace's app registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from podpiska.entrypoints.cli.common import BadInput, context_of

apps_app = typer.Typer(help="The marketplace's app registry.", no_args_is_help=True)


@apps_app.command("load")
def apps_load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A YAML or JSON list of apps.")],
) -> None:
    """Create or update apps by code: code, name, vendor, kind (migrator, vendor_basic,
    regular), free_on_plans, uses (rest_api, webhooks, local). All or nothing."""
    import yaml

    from podpiska.catalog.apps import load_registry

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
    context = context_of(ctx)
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
    from podpiska.catalog.apps import demo_registry, load_registry

    if count < 1:
        raise BadInput(f"--count must be at least 1, got {count}")
    registry = demo_registry(count)
    if output is not None:
        output.write_text(json.dumps(registry, ensure_ascii=False, indent=1), encoding="utf-8")
        typer.echo(f"apps: {len(registry)} written to {output}")
        return
    context = context_of(ctx)
    with context.session() as db:
        report = load_registry(db, registry, actor="cli", clock=context.clock)
    typer.echo(
        f"apps: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    )
