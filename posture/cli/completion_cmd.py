"""``posture completion bash|zsh|fish``: the shell completion script, printed to standard output."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  posture completion bash > ~/.local/share/bash-completion/completions/posture
    zsh:   posture completion zsh > "${fpath[1]}/_posture"
    fish:  posture completion fish > ~/.config/fish/completions/posture.fish
    """
    from click.shell_completion import get_completion_class

    from posture.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None
    click.echo(cls(cli, {}, "posture", "_POSTURE_COMPLETE").source())
