"""Cloud Functions v2 (discovery client): environment variables whose *names* suggest a secret.

One paged ``projects.locations.functions.list`` (location ``-``) per project. Variable values are read by
the API call but dropped at once: the fact carries variable names only, never a value.
"""

from __future__ import annotations

import re
from typing import Any

from posture_gcp.collectors import GcpContext, collector, label_attributes, pages

FUNCTION = "gcp.functions.function"
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)",
                         re.IGNORECASE)


def function_attributes(f: dict[str, Any]) -> dict[str, Any]:
    service = f.get("serviceConfig") or {}
    build = f.get("buildConfig") or {}
    names = sorted(set(service.get("environmentVariables") or {}) | set(build.get("environmentVariables") or {}))
    return {
        "environment_variable_names": names,
        "secret_like_variables": [n for n in names if SECRET_NAME.search(n)],
        "secret_manager_variables": sorted(str(s.get("key")) for s in service.get("secretEnvironmentVariables") or []),
        "state": f.get("state"),
        **label_attributes(f.get("labels")),
    }


@collector("cloudfunctions", level="project", facts={
    "gcp.functions.function": "A Cloud Function and the names (never values) of its environment variables",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(FUNCTION):
        for f in pages(clients, lambda token: clients.discovery("cloudfunctions", "v2").projects().locations()
                       .functions().list(parent=f"projects/{project}/locations/-", pageToken=token), "functions"):
            name = str(f.get("name", ""))
            parts = name.split("/")
            ctx.add(FUNCTION, f"//cloudfunctions.googleapis.com/{name}", parts[-1],
                    parts[3] if len(parts) > 3 else "global", function_attributes(f))

