"""The MyCloud provider: scope discovery, clients and the classifier; the toolkit does the rest."""

from __future__ import annotations

from typing import Any

from posture.collecting import CloudProvider, Discovery, Failure, Target, UnitContext
from posture.provider import Option, ProviderError, Scope, WorkUnit
from tests.plugins.mycloud.client import Client, classify
from tests.plugins.mycloud.collectors import registry


class MyCloudContext(UnitContext):
    """The toolkit's unit context plus the API client."""

    def __init__(self, unit: WorkUnit, client: Client) -> None:
        super().__init__(unit, classify)
        self.client = client


class MyCloudProvider(CloudProvider):
    name = "mycloud"
    title = "MyCloud"
    collectors = registry
    scope_level = "account"
    options = [Option("mycloud-endpoint", "MyCloud API endpoint", envvar="MYCLOUD_ENDPOINT", metavar="URL")]

    def classify(self, exc: BaseException) -> Failure:
        return classify(exc)

    def discover(self, fact_types: set[str], options: dict[str, Any], scan: str) -> Discovery:
        endpoint = options.get("mycloud_endpoint")
        if not endpoint:
            raise ProviderError("mycloud: give --mycloud-endpoint (or MYCLOUD_ENDPOINT)")
        client = Client(endpoint)
        scopes = [Scope(self.name, a["id"], a["name"], "account") for a in client.pages("/v1/accounts", "accounts")]
        targets = [Target(s, tuple(client.get(f"/v1/accounts/{s.id}/regions")["regions"]),
                          (("endpoint", endpoint),)) for s in scopes]
        return Discovery(scopes, targets)

    def context(self, unit: WorkUnit) -> UnitContext:
        return MyCloudContext(unit, Client(unit.option("endpoint")))
