"""The ``posture`` command line.

Sub-commands live in their own modules and are imported only when invoked, so
``posture --help`` is fast and imports no cloud SDK. Plugins add commands
through the ``register_commands`` hook.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from posture import __version__

#: command name -> "module:attribute" (imported lazily)
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("posture.cli.scan_cmd:scan", "Collect facts and evaluate them against a tier."),
    "collect": ("posture.cli.scan_cmd:collect", "Collect facts only and save them to a fact file."),
    "evaluate": ("posture.cli.scan_cmd:evaluate", "Evaluate a saved fact file against a tier (offline)."),
    "tiers": ("posture.cli.tiers_cmd:tiers", "List, show, validate and compare tiers."),
    "checks": ("posture.cli.checks_cmd:checks", "List checks and control coverage."),
    "frameworks": ("posture.cli.frameworks_cmd:frameworks", "List framework mappings (CIS ...) and their coverage."),
    "plugins": ("posture.cli.plugins_cmd:plugins", "List loaded plugins, providers and outputs."),
    "compare": ("posture.cli.compare_cmd:compare", "Compare reports of several organisations side by side."),
    "report": ("posture.cli.report_cmd:report", "Render a saved JSON report (HTML)."),
    "history": ("posture.cli.history_cmd:history", "List scans recorded in the history store."),
    "diff": ("posture.cli.history_cmd:diff", "Show new, fixed and unchanged failures between two scans."),
    "keys": ("posture.cli.keys_cmd:keys", "Generate signing keys for attested results."),
    "attest": ("posture.cli.attest_cmd:attest", "Sign a JSON report (in-toto statement in a DSSE envelope)."),
    "verify": ("posture.cli.attest_cmd:verify", "Verify an attestation against its report, tier and key."),
    "oscal": ("posture.cli.oscal_cmd:oscal", "Write OSCAL catalog, profiles, components and results."),
    "worker": ("posture.cli.worker_cmd:worker", "Collect work units for scans run with --executor celery."),
    "config": ("posture.cli.config_cmd:config", "Show the effective settings (posture.toml, environment)."),
    "completion": ("posture.cli.completion_cmd:completion", "Print a shell completion script (bash, zsh, fish)."),
}

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class LazyGroup(click.Group):
    """A group whose built-in sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        available = [name for name, (target, _) in COMMANDS.items() if _module_exists(target)]
        return sorted(set(available) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            target = COMMANDS[name][0]
            if _module_exists(target):
                module_name, attr = target.split(":")
                return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        from posture.atomic import WriteError

        try:
            from posture.environment import EnvironmentValueError, validate_environment

            try:  # a mistyped POSTURE_* value is an error before any work, never silently ignored
                validate_environment()
            except EnvironmentValueError as exc:
                click.echo(f"posture: error: {exc}", err=True)
                ctx.exit(EXIT_USAGE)
            return super().invoke(ctx)
        except WriteError as exc:  # an unwritable output path is a clear error, never a traceback
            click.echo(f"posture: error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            # Ctrl-C anywhere (tier loading, planning, demo seeding, writing): 130, never click's
            # "Aborted!" with exit 1, which CI reads as "findings". Collection itself turns Ctrl-C
            # into partial results before it gets here.
            click.echo("\nposture: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except KeyboardInterrupt:
            click.echo("\nposture: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing the command modules.
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS and name not in self.commands:
                rows.append((name, COMMANDS[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=70)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(target: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(target.split(":")[0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="posture")
@click.option("--no-color", is_flag=True, help="No colour (as does the NO_COLOR environment variable).")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors on standard error.")
@click.option("--verbose", "-v", is_flag=True, help="Debug detail on standard error.")
@click.pass_context
def cli(ctx: click.Context, no_color: bool, quiet: bool, verbose: bool) -> None:
    """posture: tiered cloud-security posture scanner.

    Evaluates AWS, Azure and GCP configuration against a tier of cloud-agnostic
    controls and writes SARIF 2.1.0, JSON and console reports.

    Defaults come from posture.toml (or [tool.posture] in pyproject.toml) in the
    working directory, overridden by the environment, overridden by flags:
    `posture config show`. Reports go to files or standard output; progress and
    messages to standard error.

    \b
    Exit codes: 0 complete, nothing at or above --fail-on; 1 findings at or
    above --fail-on; 2 usage or configuration error; 3 scan incomplete (--strict);
    130 interrupted (Ctrl-C; partial results are written).
    """
    from posture import terminal

    terminal.configure(no_color=no_color, quiet=quiet, verbose=verbose)
    _apply_config(ctx)


def _apply_config(ctx: click.Context) -> None:
    """posture.toml / [tool.posture] become the invoked command's defaults (click's default_map)."""
    from posture.config import ConfigError, load_config

    try:
        cfg = load_config()
    except ConfigError as exc:
        click.echo(f"posture: error: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    if not cfg.values or ctx.invoked_subcommand is None:
        return
    command = ctx.command.get_command(ctx, ctx.invoked_subcommand)  # type: ignore[attr-defined]
    params = {p.name for p in getattr(command, "params", ())}
    defaults = cfg.default_map({ctx.invoked_subcommand: params})
    ctx.default_map = defaults
    from posture import terminal
    from posture.config import KEYS

    for key, value in cfg.values.items():
        wanted = KEYS[key].params
        if ctx.invoked_subcommand in wanted and wanted[ctx.invoked_subcommand] not in params:
            terminal.info(f"posture: warning: {cfg.source} sets {key} = {value!r}, which this version's "
                          f"`{ctx.invoked_subcommand}` does not take; ignored")


_plugin_commands_added = False


def _add_plugin_commands() -> None:
    global _plugin_commands_added
    if _plugin_commands_added:
        return
    _plugin_commands_added = True
    # Only needed when the command is not a built-in: keeps `posture --help` plugin-free.
    from posture import plugins

    plugins.add_commands(cli)


def main(argv: list[str] | None = None) -> Any:
    args = sys.argv[1:] if argv is None else argv
    first = next((a for a in args if not a.startswith("-")), None)
    # A plugin's command (``posture demo`` comes with the AWS plugin), or the top-level help listing
    # every command: load the plugins (their entry modules import no SDK). Built-ins stay plugin-free.
    if first is None or first not in COMMANDS:
        _add_plugin_commands()
    return cli.main(args=args, prog_name="posture")
