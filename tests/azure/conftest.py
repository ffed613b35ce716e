"""Fixtures: a TLS fake ARM server on an ephemeral 127.0.0.1 port, reached through the public options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.azure.fake_arm import CREDENTIAL_SPEC, FakeArm
from tests.azure.fake_graph import FakeGraph
from tests.azure.fake_keyvault import FakeKeyVault
from tests.loopback import PrivateCa, private_ca


@pytest.fixture(scope="session")
def arm_tls(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    """A throwaway CA and a server certificate for 127.0.0.1 (azure-core refuses tokens over http)."""
    return private_ca(tmp_path_factory.mktemp("arm-tls"))


@pytest.fixture(scope="session")
def fake_keyvault_server(arm_tls: PrivateCa) -> Iterator[FakeKeyVault]:
    with FakeKeyVault(tls=arm_tls.server_context()) as server:
        yield server


@pytest.fixture(scope="session")
def fake_arm_server(arm_tls: PrivateCa, fake_keyvault_server: FakeKeyVault) -> Iterator[FakeArm]:
    """ARM, whose vault list points each ``vaultUri`` at the fake Key Vault data plane."""
    with FakeArm(tls=arm_tls.server_context(), vaults=fake_keyvault_server) as server:
        yield server


@pytest.fixture
def keyvault(fake_keyvault_server: FakeKeyVault) -> FakeKeyVault:
    """The fake Key Vault data plane with an empty request log."""
    fake_keyvault_server.reset()
    return fake_keyvault_server


@pytest.fixture(scope="session")
def fake_graph_server(arm_tls: PrivateCa) -> Iterator[FakeGraph]:
    with FakeGraph(tls=arm_tls.server_context()) as server:
        yield server


@pytest.fixture
def graph(fake_graph_server: FakeGraph) -> FakeGraph:
    """The fake Graph server with an empty request log (throttling sequences rewound); posture keeps Graph
    answers per scan, so nothing of an earlier test's scan is reused."""
    fake_graph_server.reset()
    return fake_graph_server


@pytest.fixture
def arm(fake_arm_server: FakeArm) -> FakeArm:
    """The fake server with an empty request log (and throttling sequences rewound)."""
    fake_arm_server.reset()
    return fake_arm_server


@pytest.fixture
def azure_options(arm: FakeArm, graph: FakeGraph, arm_tls: PrivateCa) -> dict[str, Any]:
    """Provider options exactly as the CLI would pass them for an Azure Stack Hub-style endpoint
    (Microsoft Graph: the compliant fixture tenant)."""
    return {
        "azure_arm_endpoint": arm.url,
        "azure_graph_endpoint": graph.endpoint("tenant-good"),
        "azure_ca_bundle": arm_tls.ca,
        "azure_credential": CREDENTIAL_SPEC,
        "azure_retry_backoff": 0.01,
    }
