"""The container image: multi-stage, pinned base, non-root, runtime extras only; built and run where a
container engine is available."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def base_image() -> str:
    return re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M).group(1)


def test_dockerfile_is_multi_stage_on_a_pinned_base() -> None:
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", DOCKERFILE, re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert all(image == "${PYTHON_IMAGE}" for image, _ in stages)
    image = base_image()
    tag = image.split(":", 1)[1]
    assert re.match(r"^\d+\.\d+\.\d+-slim", tag), f"base {image} is not pinned to a patch release"
    assert "COPY --from=build /opt/posture /opt/posture" in DOCKERFILE


def test_image_runs_as_an_unprivileged_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert DOCKERFILE.rindex("USER") > DOCKERFILE.rindex("FROM")


def test_image_installs_only_runtime_extras() -> None:
    extras = set(re.search(r"^ARG EXTRAS=(\S+)$", DOCKERFILE, re.M).group(1).split(","))
    assert extras == {"aws", "azure", "gcp", "postgres"}  # never dev (pytest...) nor demo (moto)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)


def _engine_or_skip() -> str:
    engine = shutil.which("docker") or shutil.which("podman")
    if engine is None:
        pytest.skip("no container engine (docker or podman) installed")
    info = subprocess.run([engine, "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        pytest.skip(f"{engine} is installed but no daemon answers: {info.stderr.strip().splitlines()[-1:]}")
    have = subprocess.run([engine, "image", "inspect", base_image()], capture_output=True, timeout=60)
    if have.returncode != 0:
        pull = subprocess.run([engine, "pull", base_image()], capture_output=True, text=True, timeout=600)
        if pull.returncode != 0:
            pytest.skip(f"base image {base_image()} is not present and cannot be pulled here: "
                        f"{pull.stderr.strip()[-300:]}")
    return engine


@pytest.mark.slow
def test_image_builds_and_posture_help_runs_as_non_root() -> None:
    engine = _engine_or_skip()
    tag = f"posture-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run([engine, "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        run = subprocess.run([engine, "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0 and "tiered cloud-security posture scanner" in run.stdout, run.stderr
        uid = subprocess.run([engine, "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True,
                             text=True, timeout=300)
        assert uid.stdout.strip() not in ("", "0")
        tiers = subprocess.run([engine, "run", "--rm", tag, "tiers", "list"], capture_output=True, text=True,
                               timeout=300)
        assert tiers.returncode == 0 and "tier-2" in tiers.stdout, tiers.stderr
    finally:
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, timeout=300)
