"""Validators shared by the provider and core tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = ROOT / "posture" / "schemas" / "report.schema.json"
SHARED_VALIDATOR = ROOT.parent / "shared" / "tools" / "validate-sarif"


@lru_cache(maxsize=1)
def _sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))


@lru_cache(maxsize=1)
def _report_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text()))


def assert_valid_sarif(log: dict[str, Any]) -> None:
    """Valid against the official SARIF 2.1.0 schema."""
    errors = sorted(_sarif_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors[:10])


def assert_valid_report(data: dict[str, Any]) -> None:
    errors = sorted(_report_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors[:10])


def github_sarif_problems(path: Path) -> str | None:
    """Run the shared validate-sarif tool (schema + GitHub ingestion rules) when it is present.

    Returns None when the file passes or the tool is absent (a user's laptop).
    """
    if not SHARED_VALIDATOR.exists():
        return None
    proc = subprocess.run([sys.executable, str(SHARED_VALIDATOR), str(path)], capture_output=True, text=True,
                          timeout=60)
    return None if proc.returncode == 0 else proc.stdout + proc.stderr


EVERY_FORMAT = "console,json,sarif,html,junit"


def scan_writing_every_file(cli_args: list[str], out: Path) -> Any:
    """Run ``posture scan`` writing every output posture has: the five formats, a fact file and a
    history database, all under ``out``. Returns the click result (its output is the scan's log)."""
    from click.testing import CliRunner

    from posture import plugins
    from posture.cli import cli

    plugins.reset()
    try:
        return CliRunner().invoke(cli, ["scan", *cli_args, "--format", EVERY_FORMAT, "-o", str(out / "reports"),
                                        "--save-facts", str(out / "facts.jsonl"),
                                        "--store", str(out / "history.sqlite")])
    finally:
        plugins.reset()


def assert_no_secret_in_any_file(out: Path, logs: str, secrets: Iterable[str]) -> list[Path]:
    """No planted secret in any file under ``out`` (read as bytes: the SQLite file too) nor in the logs."""
    files = sorted(p for p in out.rglob("*") if p.is_file())
    for secret in secrets:
        assert secret not in logs, f"planted secret {secret!r} in the console/log output"
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"planted secret {secret!r} in {path.name}"
    return files


def registered_checks(plugin: Any) -> dict[str, Any]:
    """The checks ``plugin`` registers through its ``register_checks`` hook, by id (no plugin manager)."""
    found: dict[str, Any] = {}

    def register(*checks: Any) -> None:
        found.update((c.id, c) for c in checks)

    plugin.register_checks(register)
    return found
