"""Requests per Azure fact type: each fact type collected alone from the test fixtures' main subscription.

    .venv/bin/python benchmarks/azure_requests.py            # markdown table (docs/azure.md)
    .venv/bin/python benchmarks/azure_requests.py --json

Runs the fake ARM, Microsoft Graph and Key Vault servers of tests/azure on 127.0.0.1 and the real SDK
clients against them, as the test suite does. For each fact type it plans and collects a scan of that fact
type alone (a fresh provider, so no client or Graph answer is shared) and counts the requests each fake
saw and the requests posture counted (they must agree), plus the facts collected; a last row collects
every fact type together (calls shared by several fact types are made once). The subscription check
made while planning is left out (one GET per scan with ``--subscription``). Counts depend on the fixtures
(two storage accounts, two key vaults with three certificates, ...): they show the shape of the cost (per
subscription, per resource), not a real estate's totals.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.azure.fake_arm import CREDENTIAL_SPEC, SUB_MAIN, FakeArm  # noqa: E402
from tests.azure.fake_graph import FakeGraph  # noqa: E402
from tests.azure.fake_keyvault import FakeKeyVault  # noqa: E402
from tests.loopback import private_ca  # noqa: E402


def measure() -> list[dict[str, Any]]:
    from posture_azure.provider import AzureProvider

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ca = private_ca(Path(tmp))
        with FakeKeyVault(tls=ca.server_context()) as vaults, FakeGraph(tls=ca.server_context()) as graph, \
                FakeArm(tls=ca.server_context(), vaults=vaults) as arm:
            options = {"azure_arm_endpoint": arm.url, "azure_graph_endpoint": graph.endpoint("tenant-good"),
                       "azure_ca_bundle": ca.ca, "azure_credential": CREDENTIAL_SPEC, "azure_retry_backoff": 0.01,
                       "subscription": (SUB_MAIN,)}
            every = set(AzureProvider.fact_types)
            for fact_type in [*sorted(every), "(every fact type together)"]:
                provider = AzureProvider()
                plan = provider.plan(every if fact_type not in every else {fact_type}, options)
                fakes = (arm, graph, vaults)
                for fake in fakes:
                    fake.reset()
                outcomes = [provider.collect(unit) for unit in plan.units]
                seen = {name: len(fake.requests) for name, fake in zip(("arm", "graph", "keyvault"), fakes,
                                                                       strict=True)}
                counted = sum(o.requests for o in outcomes)
                if counted != sum(seen.values()):
                    raise SystemExit(f"{fact_type}: posture counted {counted} requests, the fakes saw {seen}")
                rows.append({"fact_type": fact_type, "requests": counted, **seen,
                             "facts": sum(len(o.facts) for o in outcomes),
                             "errors": sum(len(o.errors) for o in outcomes)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = measure()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cost = {"cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024)}
    if args.json:
        print(json.dumps({"rows": rows, **cost}, indent=1))
        return
    print("| fact type | requests | ARM | Graph | Key Vault | facts |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        name = r["fact_type"] if r["fact_type"].startswith("(") else f"`{r['fact_type']}`"
        print(f"| {name} | {r['requests']} | {r['arm']} | {r['graph']} | {r['keyvault']} | {r['facts']} |")
    print(f"\nwhole run (servers, clients, every plan and collection): {cost['cpu_seconds']} s CPU, "
          f"peak RSS {cost['peak_rss_mib']} MiB")


if __name__ == "__main__":
    main()
