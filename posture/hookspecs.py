"""The plugin contract.

Every hook follows the ``register_*(register)`` pattern of Simon Willison's
``llm``: posture calls the hook once, passing a ``register`` callable, and the
plugin calls ``register(...)`` for each thing it contributes. Built-in
providers and outputs are plugins of exactly this kind, found through the
``posture`` entry-point group like any third-party plugin.

Hook implementations must be cheap: they run when ``posture`` starts, before
any command is chosen, so they must not import a cloud SDK. Import SDKs inside
``Provider.plan``/``Provider.collect`` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

hookspec = pluggy.HookspecMarker("posture")
hookimpl = pluggy.HookimplMarker("posture")


@hookspec
def register_providers(register: Callable[[Any], None]) -> None:
    """Register cloud providers.

    Called once, the first time posture needs the list of providers (``scan``,
    ``collect``, ``plugins``, ``checks coverage``).

    :param register: call ``register(provider)`` with an object implementing
        :class:`posture.provider.Provider` (a name, the fact types it can
        collect, its CLI options, ``plan``/``collect``). One object serves every
        scan in the process, so it keeps no per-scan state.
    :return: nothing; the return value is ignored.
    """


@hookspec
def register_checks(register: Callable[..., None]) -> None:
    """Register checks.

    Called once, the first time posture needs the check catalogue (any command
    that evaluates or lists checks).

    :param register: call ``register(check)`` with a
        :class:`posture.checks.Check` (usually built from a YAML file with
        :func:`posture.checks.load_check_file`), or
        ``register(path=Path)`` with a YAML check file to load.
    :return: nothing; the return value is ignored.
    """


@hookspec
def register_outputs(register: Callable[[Any], None]) -> None:
    """Register output formats.

    Called once, the first time posture needs to write a report.

    :param register: call ``register(output)`` with an object implementing
        :class:`posture.outputs.Output`: a ``name`` (the value given to
        ``--format``), a file ``suffix`` (``None`` for terminal-only outputs)
        and ``write(report, path_or_none, console)``.
    :return: nothing; the return value is ignored.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``posture`` command line.

    Called once while the CLI is being built, before arguments are parsed.

    :param cli: the root :class:`click.Group`; add commands with
        ``@cli.command()`` or ``cli.add_command(...)``. Keep imports inside
        the command body so ``posture --help`` stays fast and SDK-free.
    :return: nothing; the return value is ignored.
    """
