"""The plugin contract: the hooks a posture plugin may implement.

A plugin is a module (or object) named in the ``posture`` entry-point group whose functions carry
:data:`hookimpl`. Built-in outputs and the three cloud plugins are plugins of exactly this kind,
found and loaded like any third-party plugin; nothing in the core names them.

Registration follows the ``register_*(register)`` pattern of Simon Willison's ``llm``: posture calls
the hook with a ``register`` callable and the plugin calls it for what it contributes
(``register(a, b, ...)`` registers several at once).

**When hooks run.** Importing posture calls no hook, and a built-in command that needs no plugin
(``posture tiers``, ``posture history``...) loads none. The entry points are loaded (``POSTURE_PLUGINS``
pins which) the first time something asks for the plugin manager. ``register_providers``,
``register_checks`` and ``register_outputs`` are called together, once per process, the first time
:func:`posture.plugins.registry` is called (``scan``, ``collect``, ``evaluate``, ``report``,
``compare``, ``checks``, ``plugins``, the ``--help`` of a scanning command...); their registrations
are cached until :func:`posture.plugins.reset`. ``register_commands`` is called once, only when the
command line names a command that is not built in, or lists every command (``posture --help``).

**Failures.** Each plugin's implementation is called on its own: one that raises is recorded as a
:class:`posture.plugins.PluginProblem` (plugin name, hook name, error), shown by ``posture plugins``
and in every report's ``coverage.plugin_problems``; what it registered before raising is kept, and
the other plugins are unaffected. A name (provider, check id, output) another plugin registered
first is refused the same way.

**Cost.** ``posture plugins``, ``posture checks list`` and ``posture scan --help`` call the
registering hooks, so implementations must be cheap and must not import a cloud SDK: import SDKs
inside ``Provider.plan``/``Provider.collect`` instead.

A plugin imports only the core's public modules: ``posture`` modules with no ``_``-prefixed part in
their dotted name (``tests/core/test_imports.py`` enforces it, see docs/plugins.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

hookspec = pluggy.HookspecMarker("posture")
hookimpl = pluggy.HookimplMarker("posture")


@hookspec
def register_providers(register: Callable[..., None]) -> None:
    """Register cloud providers.

    Called once per process, with the other registering hooks, the first time posture needs the
    plugin registry (see the module docstring).

    :param register: call ``register(provider)`` with an object implementing
        :class:`posture.provider.Provider` (a ``name``, the ``fact_types`` it can collect, its CLI
        ``options``, ``plan``/``collect``); usually a :class:`posture.collecting.CloudProvider`. One
        object serves every scan in the process, so it keeps no per-scan state.
    :return: nothing; the return value is ignored.

    A provider whose ``name`` another plugin registered first is refused and recorded as a problem.
    """


@hookspec
def register_checks(register: Callable[..., None]) -> None:
    """Register checks.

    Called once per process, with the other registering hooks, the first time posture needs the
    plugin registry (see the module docstring).

    :param register: call ``register(*checks)`` with :class:`posture.checks.Check` objects. A YAML
        check file is loaded with :func:`posture.checks.load_check_file` and registered whole:
        ``register(*load_check_file(path))``. A file that does not load raises
        :class:`posture.checks.CheckFileError` out of the hook, so the plugin is reported with the
        file, line and problem.
    :return: nothing; the return value is ignored.

    A check id another plugin registered first is refused and recorded as a problem.
    :class:`posture.collecting.CloudPlugin` implements this hook for a plugin's ``checks/*.yaml``
    files and its Python checks.
    """


@hookspec
def register_outputs(register: Callable[..., None]) -> None:
    """Register output formats.

    Called once per process, with the other registering hooks, the first time posture needs the
    plugin registry (see the module docstring).

    :param register: call ``register(output)`` with a :class:`posture.outputs.Output`: a ``name``
        (the value given to ``--format``), a file ``suffix`` (``None`` for terminal-only outputs),
        and ``write(report, path_or_none, console)``; optionally ``write_comparison`` (``posture
        compare``) and ``write_history`` (``posture report --history``), see :mod:`posture.outputs`.
    :return: nothing; the return value is ignored.

    Every document posture writes goes through these: the reports of ``scan``, ``evaluate``,
    ``demo`` and ``report``, the comparison and the history page. An output name another plugin
    registered first is refused and recorded as a problem.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``posture`` command line.

    Called once per process, before arguments are parsed, only when the command line names a command
    that is not built in (or lists every command: ``posture --help``).

    :param cli: the root :class:`click.Group`; add commands with ``@cli.command()`` or
        ``cli.add_command(...)``. Keep imports inside the command body so ``posture --help`` stays
        fast and SDK-free.
    :return: nothing; the return value is ignored.

    The AWS plugin contributes ``posture demo`` this way.
    """
