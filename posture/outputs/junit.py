"""JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure DevOps).

One ``testsuite`` per check, one ``testcase`` per resource result:
``fail`` -> ``<failure>``, ``error`` -> ``<error>`` (not assessed is never a
pass), ``not_applicable`` / ``excluded`` / ``waived`` -> ``<skipped>`` with the
reason. ElementTree escapes every value, so hostile resource names stay text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl
from posture.outputs import Output, write_text
from posture.report import Report, Result

SKIPPED = ("not_applicable", "excluded", "waived")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(value: object) -> str:
    """Text XML 1.0 can carry: control characters in cloud names would make the file unreadable."""
    return _NOT_XML.sub("\ufffd", str(value))


def _case_name(r: Result) -> str:
    name = r.resource_name or r.resource_id
    return f"{name} [{r.provider}:{r.scope}/{r.region}]"


def _detail(r: Result, report: Report) -> str:
    lines = [f"check: {r.check_id}", f"controls: {', '.join(r.controls)}", f"severity: {r.severity}",
             f"resource: {r.resource_id}", f"scope: {r.provider}:{r.scope}", f"region: {r.region}"]
    if r.error_code:
        lines.append(f"error code: {r.error_code}")
    if r.evidence:
        lines.append("evidence: " + ", ".join(f"{k}={v!r}" for k, v in sorted(r.evidence.items())))
    remediation = report.checks.get(r.check_id, {}).get("remediation")
    if remediation and r.status == "fail":
        lines += ["", "remediation:", remediation]
    return "\n".join(lines)


def _skip_reason(r: Result) -> str:
    if r.status == "waived":
        w = r.waiver or {}
        return (f"waived by {w.get('id', '?')} (owner {w.get('owner', '?')}, expires {w.get('expires', '?')}): "
                f"{w.get('justification') or r.justification}")
    if r.status == "excluded":
        return r.message or f"excluded: {r.justification}"
    return r.message or "not applicable"


def render(report: Report) -> ET.Element:
    """The ``<testsuites>`` element for ``report``."""
    by_check: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        by_check[r.check_id].append(r)
    timestamp = (report.started_at or "")[:19]
    root = ET.Element("testsuites", name=f"posture {report.tier.get('id', '')}".strip())
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for check_id in sorted(by_check):
        results = sorted(by_check[check_id], key=lambda r: r.sort_key)
        info = report.checks.get(check_id, {})
        counts = {"tests": len(results), "failures": sum(r.status == "fail" for r in results),
                  "errors": sum(r.status == "error" for r in results),
                  "skipped": sum(r.status in SKIPPED for r in results)}
        suite = ET.SubElement(root, "testsuite", name=_x(check_id), timestamp=timestamp, time="0",
                              **{k: str(v) for k, v in counts.items()})
        props = ET.SubElement(suite, "properties")
        for key, value in (("title", info.get("title", "")), ("controls", ",".join(results[0].controls)),
                           ("severity", results[0].severity), ("tier", report.tier.get("id", ""))):
            ET.SubElement(props, "property", name=key, value=_x(value))
        for r in results:
            case = ET.SubElement(suite, "testcase", name=_x(_case_name(r)), classname=_x(check_id), time="0")
            if r.status == "fail":
                el = ET.SubElement(case, "failure", message=_x(r.message or "fails"), type=r.severity)
                el.text = _x(_detail(r, report))
            elif r.status == "error":
                el = ET.SubElement(case, "error", message=_x(r.message or "not assessed"),
                                   type=_x(r.error_code or "error"))
                el.text = _x(_detail(r, report))
            elif r.status in SKIPPED:
                ET.SubElement(case, "skipped", message=_x(_skip_reason(r)))
        for k, v in counts.items():
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", "0")
    return root


def render_string(report: Report) -> str:
    root = render(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _write(report: Report, path: Path | None, console: Any) -> None:
    write_text(render_string(report), path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output(name="junit", suffix=".xml", write=_write,
                    description="JUnit XML: a testsuite per check, a testcase per resource result"))
