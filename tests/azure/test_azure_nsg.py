"""NSG rule semantics: priorities, port ranges, service tags."""

from __future__ import annotations

import pytest
from posture_azure.functions import internet_exposed_ports, port_matches


@pytest.mark.parametrize("spec, port, expected", [
    ("*", 22, True), ("22", 22, True), ("20-30", 22, True), ("20-30", 31, False), ("3389", 22, False),
    ("bogus", 22, False),
])
def test_port_spec_matching(spec: str, port: int, expected: bool) -> None:
    assert port_matches(spec, port) is expected


def rule(name: str, prio: int, access: str, sources: list[str], ports: list[str], protocol: str = "Tcp") -> dict:
    return {"name": name, "priority": prio, "access": access, "protocol": protocol, "sources": sources, "ports": ports}


@pytest.mark.parametrize("source", ["*", "Internet", "0.0.0.0/0", "::/0", "Any"])
def test_internet_service_tags_and_wildcards_count_as_internet(source: str) -> None:
    assert internet_exposed_ports([rule("r", 100, "Allow", [source], ["22"])], [22]) == {22: "r"}


def test_higher_priority_deny_shadows_a_later_allow() -> None:
    rules = [rule("allow", 200, "Allow", ["*"], ["3389"]), rule("deny", 100, "Deny", ["Internet"], ["*"])]
    assert internet_exposed_ports(rules, [3389]) == {}


def test_corporate_sources_and_udp_do_not_expose_tcp_admin_ports() -> None:
    rules = [rule("corp", 100, "Allow", ["10.0.0.0/8"], ["22"]), rule("udp", 110, "Allow", ["*"], ["3389"], "Udp")]
    assert internet_exposed_ports(rules, [22, 3389]) == {}
