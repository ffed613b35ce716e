"""Service models read lean: plain dicts, no reference prose, otherwise exactly botocore's."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import botocore.session
import pytest
from posture_aws.lean_models import LeanJSONFileLoader
from posture_aws.sessions import CredentialPath, SessionPool


def _without_reference_docs(model: dict[str, Any]) -> dict[str, Any]:
    operations = {name: {k: v for k, v in op.items() if k != "documentation"}
                  for name, op in model["operations"].items()}
    shapes = {}
    for name, shape in model["shapes"].items():
        shape = {k: v for k, v in shape.items() if k != "documentation"}
        if "members" in shape:
            shape["members"] = {m: {k: v for k, v in member.items() if k != "documentation"}
                                for m, member in shape["members"].items()}
        shapes[name] = shape
    return {**model, "operations": operations, "shapes": shapes}


def _contains_ordered_dict(node: Any) -> bool:
    if isinstance(node, OrderedDict):
        return True
    if isinstance(node, dict):
        return any(_contains_ordered_dict(v) for v in node.values())
    if isinstance(node, list):
        return any(_contains_ordered_dict(v) for v in node)
    return False


@pytest.mark.parametrize("service", ["s3", "securityhub", "iam"])
def test_a_lean_service_model_is_botocores_minus_operation_shape_and_member_docs(service: str) -> None:
    stock = botocore.session.Session().get_component("data_loader")
    lean = botocore.session.Session().get_component("data_loader")
    lean.file_loader = LeanJSONFileLoader()
    stock_model, lean_model = stock.load_service_model(service, "service-2"), lean.load_service_model(service,
                                                                                                     "service-2")
    assert lean_model == _without_reference_docs(stock_model)
    assert not _contains_ordered_dict(lean_model)
    assert lean_model.get("documentation") == stock_model.get("documentation")
    assert lean.load_service_model(service, "endpoint-rule-set-1") == stock.load_service_model(
        service, "endpoint-rule-set-1")


def test_the_pools_clients_read_lean_models_and_keep_client_context_param_docs() -> None:
    s3 = SessionPool().client(CredentialPath(), "s3", "us-east-1")
    model = s3.meta.service_model
    assert model.operation_model("ListBuckets").documentation == ""
    assert model.client_context_parameters and all(p.documentation for p in model.client_context_parameters)
    assert s3.meta.service_model.metadata["protocol"] == "rest-xml"
