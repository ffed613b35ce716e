"""Scope discovery: explicit projects, or every active project under folders / organizations.

Projects directly under a parent come from ``projects.search`` (query
``parent:folders/N``); sub-folders from ``folders.list``, walked breadth-first.
A parent that cannot be read becomes a planning error; the others carry on.
Every parent seen is kept for the scan (``ancestors.remember_parent``): the
collectors that need a project's ancestors then skip ``projects.get`` /
``folders.get``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from posture.facts import GLOBAL_REGION, CollectionError
from posture.provider import Scope
from posture_gcp.clients import Clients
from posture_gcp.collectors.ancestors import remember_parent
from posture_gcp.errors import classify

PROVIDER = "gcp"


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value if str(v)]


def parent_name(raw: str, kind: str) -> str:
    """``123`` or ``folders/123`` -> ``folders/123``."""
    return raw if "/" in raw else f"{kind}/{raw}"


@dataclass
class Discovery:
    clients: Clients
    errors: list[CollectionError] = field(default_factory=list)

    def under(self, root: str) -> list[Scope]:
        found: list[Scope] = []
        queue, seen = [root], set()
        while queue:
            parent = queue.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            try:
                for p in self.clients.projects().search_projects(query=f"parent:{parent}",
                                                                 retry=self.clients.retry()):
                    remember_parent(self.clients.shared, f"projects/{p.project_id}", p.parent)
                    if p.state.name == "ACTIVE":
                        found.append(Scope(PROVIDER, p.project_id, p.display_name or p.project_id, "project",
                                           parent))
                for f in self.clients.folders().list_folders(parent=parent, retry=self.clients.retry()):
                    remember_parent(self.clients.shared, f.name, f.parent)
                    if f.state.name == "ACTIVE":
                        queue.append(f.name)
            except Exception as exc:  # a denied folder is reported; siblings continue
                failure = classify(exc)
                self.errors.append(CollectionError(PROVIDER, parent, GLOBAL_REGION, "gcp.resourcemanager.project",
                                                   failure.code, f"listing projects under {parent}: "
                                                   f"{failure.message}", failure.not_applicable))
        return found
