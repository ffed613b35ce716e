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


def rule(name: str, prio: int, access: str, sources: list[str], ports: list[str], protocol: str = "Tcp",
         destinations: tuple[str, ...] = ("*",), source_ports: tuple[str, ...] = ("*",)) -> dict:
    return {"name": name, "priority": prio, "access": access, "protocol": protocol, "sources": sources, "ports": ports,
            "destinations": list(destinations), "source_ports": list(source_ports)}


@pytest.mark.parametrize("source", ["*", "Internet", "0.0.0.0/0", "::/0", "Any"])
def test_internet_service_tags_and_wildcards_count_as_internet(source: str) -> None:
    assert internet_exposed_ports([rule("r", 100, "Allow", [source], ["22"])], [22]) == {22: "r"}


def test_higher_priority_deny_shadows_a_later_allow() -> None:
    rules = [rule("allow", 200, "Allow", ["*"], ["3389"]), rule("deny", 100, "Deny", ["Internet"], ["*"])]
    assert internet_exposed_ports(rules, [3389]) == {}


def test_corporate_sources_and_udp_do_not_expose_tcp_admin_ports() -> None:
    rules = [rule("corp", 100, "Allow", ["10.0.0.0/8"], ["22"]), rule("udp", 110, "Allow", ["*"], ["3389"], "Udp")]
    assert internet_exposed_ports(rules, [22, 3389]) == {}


def test_deny_for_one_destination_does_not_hide_an_allow_to_every_destination() -> None:
    rules = [rule("deny-one-host", 100, "Deny", ["Internet"], ["22"], destinations=("10.0.1.4/32",)),
             rule("allow-ssh", 200, "Allow", ["*"], ["22"])]
    assert internet_exposed_ports(rules, [22]) == {22: "allow-ssh"}


def test_deny_for_some_source_ports_does_not_hide_an_allow() -> None:
    rules = [rule("deny-high", 100, "Deny", ["*"], ["3389"], source_ports=("1024-65535",)),
             rule("allow-rdp", 200, "Allow", ["*"], ["3389"])]
    assert internet_exposed_ports(rules, [3389]) == {3389: "allow-rdp"}


@pytest.mark.parametrize("deny_dest, allow_dest", [
    ("*", "10.0.1.4"), ("0.0.0.0/0", "10.0.1.4"), ("VirtualNetwork", "*"), ("10.0.1.4", "10.0.1.4"),
    ("/subscriptions/s/asg-web", "/subscriptions/s/ASG-web"),
])
def test_deny_covering_the_allows_destination_hides_it(deny_dest: str, allow_dest: str) -> None:
    rules = [rule("deny", 100, "Deny", ["Internet"], ["22"], destinations=(deny_dest,)),
             rule("allow", 200, "Allow", ["*"], ["22"], destinations=(allow_dest,))]
    assert internet_exposed_ports(rules, [22]) == {}


def test_rule_without_destination_or_source_port_data_never_hides_an_allow() -> None:
    """Facts collected before destinations were recorded: doubt is reported as exposure."""
    deny = {"name": "deny", "priority": 100, "access": "Deny", "protocol": "*", "sources": ["*"], "ports": ["22"]}
    assert internet_exposed_ports([deny, rule("allow", 200, "Allow", ["*"], ["22"])], [22]) == {22: "allow"}


def test_deny_for_the_full_source_port_range_written_out_hides_an_allow() -> None:
    rules = [rule("deny-all-ports", 100, "Deny", ["Internet"], ["3389"], source_ports=("0-65535",)),
             rule("allow-rdp", 200, "Allow", ["*"], ["3389"])]
    assert internet_exposed_ports(rules, [3389]) == {}
