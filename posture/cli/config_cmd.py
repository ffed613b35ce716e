"""``posture config show``: the settings in force and where each comes from."""

from __future__ import annotations

import json

import click

from posture.cli.common import fail


@click.group()
def config() -> None:
    """Show the configuration (posture.toml or [tool.posture] in pyproject.toml)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on standard output.")
def show(as_json: bool) -> None:
    """Effective defaults for `posture scan`: environment over the config file over built-in defaults.

    Flags given on a command line override all of these.
    """
    from posture.config import ConfigError, find_config, load_config

    try:
        cfg = load_config()
    except ConfigError as exc:
        fail(str(exc))
    rows = cfg.effective()
    if as_json:
        found = find_config()
        click.echo(json.dumps({"file": str(found[0]) if found and cfg.source else None, "settings": rows},
                              indent=2))
        return
    from rich.table import Table

    from posture.cli.common import plain_row
    from posture.cli.tiers_cmd import console

    table = Table(title="posture configuration" + (f" ({cfg.source})" if cfg.source else " (no config file)"))
    for col in ("key", "value", "source"):
        table.add_column(col)
    for row in rows:
        value = row["value"]
        shown = ", ".join(value) if isinstance(value, list) else ("-" if value is None else str(value))
        plain_row(table, row["key"], shown, row["source"])
    console().print(table)
