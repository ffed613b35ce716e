"""The built distribution carries its own name: `posture` on the package index is an unrelated library."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = "tiered-posture"


@pytest.fixture(scope="module")
def built_metadata(tmp_path_factory) -> tuple[email.message.Message, str]:
    """Build the wheel metadata from a copy of the source tree, offline, with the setuptools backend."""
    tree = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("posture", "plugins", "tiers"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    out = tmp_path_factory.mktemp("meta")
    code = ("import sys; from setuptools import build_meta; "
            "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], cwd=tree, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dist_info = out / proc.stdout.strip().splitlines()[-1]
    metadata = email.parser.Parser().parsestr((dist_info / "METADATA").read_text())
    return metadata, (dist_info / "entry_points.txt").read_text()


def test_built_metadata_carries_the_distinct_distribution_name(built_metadata):
    metadata, _ = built_metadata
    assert metadata["Name"] == DISTRIBUTION


def test_all_extra_refers_to_the_distribution_itself(built_metadata):
    metadata, _ = built_metadata
    requires = metadata.get_all("Requires-Dist")
    all_extra = [r for r in requires if r.endswith('extra == "all"')]
    assert all_extra and all(r.startswith(f"{DISTRIBUTION}[") for r in all_extra), all_extra
    assert not any(r.startswith("posture[") or r.startswith("posture ") for r in requires)
    assert {"aws", "azure", "gcp", "postgres", "demo", "all"} <= set(metadata.get_all("Provides-Extra"))


def test_runtime_needs_declared_and_moto_only_in_the_demo_extra(built_metadata):
    metadata, _ = built_metadata
    requires = metadata.get_all("Requires-Dist")
    base = {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in requires if "extra ==" not in r}
    assert {"jinja2", "markdown-it-py"} <= base
    moto = [r for r in requires if r.startswith("moto")]
    assert moto and all('extra == "demo"' in r for r in moto), moto


def test_command_and_import_package_keep_the_name_posture(built_metadata):
    _, entry_points = built_metadata
    assert "posture = posture.cli:main" in entry_points
    assert "[posture]" in entry_points  # the plugin entry-point group
