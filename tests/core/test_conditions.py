from __future__ import annotations

from datetime import UTC, datetime

import pytest

from posture.conditions import ConditionError, Evaluator, parameters_used, validate

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def holds(cond: dict, data: dict, params: dict | None = None) -> bool:
    return Evaluator(params or {}, now=NOW).evaluate(cond, data, {})


@pytest.mark.parametrize(
    ("cond", "data", "expected"),
    [
        ({"key": "a", "op": "eq", "value": 1}, {"a": 1}, True),
        ({"key": "a", "op": "ne", "value": 1}, {"a": 1}, False),
        ({"key": "a.b", "op": "gt", "value": 3}, {"a": {"b": 4}}, True),
        ({"key": "a", "op": "lt", "value": 3}, {}, False),  # missing never satisfies an ordering
        ({"key": "a", "op": "in", "value": ["x", "y"]}, {"a": "y"}, True),
        ({"key": "a", "op": "not_in", "value": ["x"]}, {"a": "y"}, True),
        ({"key": "a", "op": "contains", "value": "x"}, {"a": ["x", "z"]}, True),
        ({"key": "a", "op": "not_contains", "value": "x"}, {"a": ["z"]}, True),
        ({"key": "a", "op": "intersects", "value": [22, 3389]}, {"a": [80, 22]}, True),
        ({"key": "a", "op": "disjoint", "value": [22, 3389]}, {"a": [80, 443]}, True),
        ({"key": "a", "op": "subset", "value": [1, 2, 3]}, {"a": [1, 3]}, True),
        ({"key": "a", "op": "present"}, {"a": 0}, True),
        ({"key": "a", "op": "absent"}, {"a": None}, True),
        ({"key": "a", "op": "empty"}, {"a": []}, True),
        ({"key": "a", "op": "not_empty"}, {"a": {"k": 1}}, True),
        ({"key": "a", "op": "regex", "value": "^python3\\.(8|9)$"}, {"a": "python3.9"}, True),
        ({"key": "length(a)", "op": "eq", "value": 2}, {"a": [1, 2]}, True),
    ],
)
def test_operators_compare_attribute_with_value(cond: dict, data: dict, expected: bool) -> None:
    assert holds(cond, data) is expected


def test_age_value_type_compares_days_since_timestamp() -> None:
    cond = {"key": "created", "op": "le", "value": 90, "value_type": "age"}
    assert holds(cond, {"created": "2025-12-01T00:00:00Z"})
    assert not holds(cond, {"created": "2025-06-01T00:00:00+00:00"})
    assert not holds(cond, {"created": None})


def test_cidr_value_type_normalises_networks() -> None:
    cond = {"key": "cidr", "op": "in", "value": ["0.0.0.0/0", "::/0"], "value_type": "cidr"}
    assert holds(cond, {"cidr": "0.0.0.0/0"})
    assert holds(cond, {"cidr": "::/0"})
    assert not holds(cond, {"cidr": "10.0.0.0/8"})


def test_version_value_type_orders_numerically() -> None:
    cond = {"key": "tls", "op": "ge", "value": "1.2", "value_type": "version"}
    assert holds(cond, {"tls": "TLS1_2"})
    assert holds(cond, {"tls": "1.10"})
    assert not holds(cond, {"tls": "TLS1_0"})


def test_tier_parameters_are_substituted() -> None:
    cond = {"key": "len", "op": "ge", "value": {"param": "min_password_length"}}
    assert holds(cond, {"len": 14}, {"min_password_length": 14})
    assert not holds(cond, {"len": 8}, {"min_password_length": 14})
    with pytest.raises(ConditionError, match="min_password_length"):
        holds(cond, {"len": 8}, {})


def test_list_quantifiers_evaluate_each_item() -> None:
    open_admin = {
        "no_item": "rules",
        "where": {"all": [
            {"key": "cidr", "op": "in", "value": ["0.0.0.0/0"], "value_type": "cidr"},
            {"key": "ports", "op": "intersects", "value": {"param": "admin_ports"}},
        ]},
    }
    params = {"admin_ports": [22, 3389]}
    assert holds(open_admin, {"rules": [{"cidr": "10.0.0.0/8", "ports": [22]}]}, params)
    assert not holds(open_admin, {"rules": [{"cidr": "0.0.0.0/0", "ports": [22]}]}, params)
    assert holds({"every_item": "xs", "where": {"key": "value", "op": "gt", "value": 0}}, {"xs": []})
    assert holds({"any_item": "xs", "where": {"key": "value", "op": "gt", "value": 0}}, {"xs": [0, 1]})


def test_boolean_combinators_and_evidence_records_keys_read() -> None:
    evidence: dict = {}
    cond = {"all": [{"key": "a", "value": 1}, {"not": {"key": "b", "value": 2}}], }
    assert Evaluator({}, now=NOW).evaluate(cond, {"a": 1, "b": 3}, evidence)
    assert evidence == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ({"key": "a", "op": "bogus", "value": 1}, "unknown operator 'bogus'"),
        ({"key": "a", "op": "eq"}, "needs a 'value'"),
        ({"all": []}, "non-empty list"),
        ({"any_item": "xs"}, "needs a 'where'"),
        ({"key": "a[", "op": "present"}, "invalid key"),
        ({"key": "a", "op": "eq", "value": 1, "value_type": "colour"}, "unknown value_type"),
        ({"nothing": 1}, "expected one of"),
    ],
)
def test_malformed_conditions_are_rejected_with_their_path(cond: dict, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        validate({"all": [cond]})


def test_parameters_used_lists_every_param_reference() -> None:
    cond = {"any": [{"key": "a", "op": "le", "value": {"param": "p1"}},
                    {"no_item": "x", "where": {"key": "b", "op": "in", "value": {"param": "p2"}}}]}
    assert parameters_used(cond) == {"p1", "p2"}


def test_required_keys_check_names_the_missing_keys() -> None:
    from posture.checks import required_keys
    from posture.facts import Fact

    def fact(keys):
        return Fact("x", "s", "global", "x.thing", "id", "thing", {"tags": keys})

    strict = required_keys("tags")
    assert strict(fact(["owner", "env"]), {"required_tags": ["owner"]}).status == "pass"
    outcome = strict(fact({"Owner": "t"}), {"required_tags": ["owner", "cost-center"]})
    assert (outcome.status, outcome.evidence["missing"]) == ("fail", ["owner", "cost-center"])
    assert "lacks required tag(s): owner, cost-center" in outcome.message
    relaxed = required_keys("tags", case_sensitive=False)
    assert relaxed(fact({"Owner": "t"}), {"required_tags": ["owner"]}).status == "pass"
    assert strict(fact(None), {"required_tags": ["owner"]}).status == "fail"
