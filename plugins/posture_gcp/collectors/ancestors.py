"""The folders and organization above a project (Resource Manager v3), each read once per scan.

Audit-log config and aggregated sinks set on a folder or the organization apply to every project
below it, so some facts need the project's ancestors. ``projects.get`` / ``folders.get`` give each
``parent``; every answer (the chain and what is read on each ancestor) goes through
``clients.shared.once``, so an ancestor costs one request per scan however many projects sit under it.

An ancestor that cannot be read never makes the project's fact an error: what could be read is used and
the unreadable ancestors are named (a folder whose parent is unknown ends the chain there).

Scope discovery (``--organization`` / ``--folder``) already learns each project's and folder's parent
(``projects.search`` / ``folders.list``); it seeds them with :func:`remember_parent`, so a discovered scan
walks the chain without ``projects.get`` / ``folders.get``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posture_gcp.clients import Shared
from posture_gcp.collectors import GcpContext


def project(ctx: GcpContext) -> dict[str, Any]:
    """The project (``projects.get`` as REST JSON), shared by the units of the scan."""
    clients = ctx.clients

    def get() -> dict[str, Any]:
        p = clients.projects().get_project(name=f"projects/{ctx.project}", retry=clients.retry())
        return type(p).to_dict(p, preserving_proto_field_name=False, use_integers_for_enums=False)

    return clients.shared.once(("rm-project", ctx.project), get)


def remember_parent(shared: Shared, name: str, parent: str) -> None:
    """Seed the parent of ``projects/ID`` or ``folders/N`` for this scan (learnt while discovering scopes)."""
    if name.startswith("projects/"):
        shared.seed(("rm-project-parent", name.split("/", 1)[1]), parent)
    elif name.startswith("folders/"):
        shared.seed(("rm-folder-parent", name), parent)


def _project_parent(ctx: GcpContext) -> str:
    return ctx.clients.shared.once(("rm-project-parent", ctx.project), lambda: str(project(ctx).get("parent") or ""))


def _folder_parent(ctx: GcpContext, folder: str) -> str:
    clients = ctx.clients
    return clients.shared.once(("rm-folder-parent", folder), lambda: clients.folders().get_folder(
        name=folder, retry=clients.retry()).parent)


def chain(ctx: GcpContext) -> tuple[list[str], list[str]]:
    """(ancestor names nearest first, ``folders/N`` / ``projects/P`` whose parent could not be read)."""
    try:
        parent = _project_parent(ctx)
    except Exception:  # the project itself is unreadable: no ancestor is known
        return [], [f"projects/{ctx.project}"]
    names: list[str] = []
    while parent.startswith(("folders/", "organizations/")) and parent not in names:
        names.append(parent)
        if parent.startswith("organizations/"):
            break
        try:
            parent = str(_folder_parent(ctx, parent) or "")
        except Exception:
            return names, [parent]
    return names, []


def read_each(ctx: GcpContext, what: str, read: Callable[[str], Any]) -> tuple[list[tuple[str, Any]], list[str]]:
    """``read(name)`` on every ancestor, once per scan and ancestor: ([(name, answer)], unreadable names)."""
    names, unreadable = chain(ctx)
    answers: list[tuple[str, Any]] = []
    for name in names:
        try:
            answers.append((name, ctx.clients.shared.once((what, name), lambda n=name: read(n))))
        except Exception:  # denied, missing or disabled at that level: use the others, name it
            if name not in unreadable:
                unreadable.append(name)
    return answers, unreadable
