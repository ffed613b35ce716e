"""AKS clusters, container apps and container groups: one subscription-wide list each.

Environment variables are judged by name only: a variable whose name looks
like a secret (password, token, key, connection string...) holding a plain
``value`` instead of a secret reference (``secretRef`` in Container Apps,
``secureValue`` in container groups) is a secret in plain configuration.
Values are never kept, only the variable names.
"""

from __future__ import annotations

import re
from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, add_each_listed, arm_list

CLUSTER = "azure.containerservice.cluster"
WORKLOAD = "azure.containers.workload"
AKS_API = "2024-05-01"
APPS_API = "2024-03-01"
GROUPS_API = "2023-05-01"
SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential"
                         r"|conn(ection)?[_-]?str(ing)?|sas)", re.IGNORECASE)


def plain_secret_names(env: list[dict[str, Any]]) -> list[str]:
    return sorted(str(e.get("name")) for e in env
                  if SECRET_NAME.search(str(e.get("name") or "")) and e.get("value") not in (None, ""))


def cluster_attributes(cluster: dict[str, Any]) -> dict[str, Any]:
    props = cluster.get("properties") or {}
    profile = props.get("autoUpgradeProfile") or {}
    channel = profile.get("upgradeChannel") or "none"
    return {
        "kubernetes_version": props.get("kubernetesVersion"),
        "auto_upgrade_channel": channel,
        "node_os_upgrade_channel": profile.get("nodeOSUpgradeChannel"),
        "auto_upgrade": str(channel).lower() != "none",
    }


@collector("containers", level="subscription", facts={
    "azure.containerservice.cluster": 'AKS cluster: automatic upgrade channel',
    "azure.containers.workload": 'Container app or container group: plain-text environment variables with secret-like names',
})
def collect(ctx: AzureContext) -> None:
    sub = f"/subscriptions/{ctx.subscription}/providers"
    if ctx.wants(CLUSTER):
        add_each_listed(ctx, CLUSTER, f"{sub}/Microsoft.ContainerService/managedClusters", AKS_API, cluster_attributes)
    if ctx.wants(WORKLOAD):
        apps = ctx.attempt([WORKLOAD], lambda: arm_list(ctx, f"{sub}/Microsoft.App/containerApps", APPS_API))
        groups = ctx.attempt([WORKLOAD], lambda: arm_list(ctx, f"{sub}/Microsoft.ContainerInstance/containerGroups",
                                                       GROUPS_API))
        if isinstance(apps, Failed) or isinstance(groups, Failed):
            return
        for app in apps:
            containers = ((app.get("properties") or {}).get("template") or {}).get("containers") or []
            env = [e for c in containers for e in c.get("env") or []]
            ctx.add(WORKLOAD, str(app["id"]), str(app.get("name")), app.get("location"),
                    {"kind": "container_app", "plain_secret_env": plain_secret_names(env)})
        for group in groups:
            containers = (group.get("properties") or {}).get("containers") or []
            env = [e for c in containers for e in (c.get("properties") or {}).get("environmentVariables") or []]
            ctx.add(WORKLOAD, str(group["id"]), str(group.get("name")), group.get("location"),
                    {"kind": "container_group", "plain_secret_env": plain_secret_names(env)})
