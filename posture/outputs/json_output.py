"""JSON output: the report's dict form, schema ``posture/schemas/report.schema.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl
from posture.jsonfast import dumps_pretty
from posture.outputs import Output, write_text
from posture.report import Report

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "report.schema.json"


def render(report: Report) -> dict[str, Any]:
    return report.to_dict()


def dumps(report: Report) -> str:
    return dumps_pretty(render(report), sort_keys=True)


def write(report: Report, path: Path | None, console: Any = None) -> None:
    assert path is not None
    write_text(dumps(report), path)


def write_comparison(comparison: dict[str, Any], path: Path | None, console: Any = None) -> None:
    """The comparison as JSON (``posture.compare/v1``, keys in the order built); no path: standard output."""
    write_text(json.dumps(comparison, indent=2, sort_keys=False) + "\n", path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output("json", ".json", write, "Full report as JSON (posture.report/v1)",
                    write_comparison=write_comparison))
