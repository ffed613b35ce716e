"""App Service language runtimes and their end-of-life dates (data: ``runtimes.yaml``).

A site's runtime is in its site config: ``linuxFxVersion`` (``PYTHON|3.8``,
``NODE|18-lts``, ``DOTNETCORE|6.0``, ``DOTNET-ISOLATED|8.0``, ``JAVA|11-java11``) on Linux, and
``phpVersion`` / ``pythonVersion`` / ``nodeVersion`` / ``javaVersion`` /
``netFrameworkVersion`` (``v6.0``) on Windows. Containers (``DOCKER|...``) have
no managed runtime. The end-of-life verdict is taken on the collection date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("runtimes.yaml")
#: stack names of linuxFxVersion that mean another stack's table (upper case; function apps on
#: the .NET isolated worker model say ``DOTNET-ISOLATED|6.0``, the same .NET release)
ALIASES = {"DOTNET": "DOTNETCORE", "DOTNET-ISOLATED": "DOTNETCORE", "TOMCAT": "JAVA", "JBOSSEAP": "JAVA"}
#: Windows siteConfig fields -> stack
WINDOWS_FIELDS = {"php_version": "PHP", "python_version": "PYTHON", "node_version": "NODE",
                  "java_version": "JAVA", "net_framework_version": "DOTNETCORE"}


@lru_cache(maxsize=1)
def end_of_life_table() -> dict[str, dict[str, str]]:
    with open(DATA, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {stack: {str(v): str(d) for v, d in versions.items()} for stack, versions in data["end_of_life"].items()}


def normalise(stack: str, version: str) -> str | None:
    """The table key of a version string: ``18-lts``/``~18``/``18.x`` -> ``18``; ``11-java11`` -> ``11``."""
    text = version.strip().lower().lstrip("~v")
    if stack == "JAVA":
        java = re.search(r"java(\d+)", text)  # TOMCAT|9.0-java11, JBOSSEAP|7-java8
        text = java.group(1) if java else text
        text = text[2:] if text.startswith("1.") else text  # 1.8 -> 8
        major = re.match(r"\d+", text)
        return major.group(0) if major else None
    if stack == "NODE":
        major = re.match(r"\d+", text)
        return major.group(0) if major else None
    numbers = re.match(r"(\d+)(?:\.(\d+))?", text)
    if not numbers:
        return None
    major, minor = numbers.group(1), numbers.group(2) or "0"
    return f"{major}.{minor}"


def site_runtimes(config: Mapping[str, Any]) -> list[dict[str, str]]:
    """Runtimes named by one site config (snake_case keys), with the field each came from."""
    found: list[dict[str, str]] = []
    linux = str(config.get("linux_fx_version") or "")
    if "|" in linux:
        stack, _, version = linux.partition("|")
        stack = stack.strip().upper()
        if stack not in ("DOCKER", "COMPOSE", "KUBE"):
            found.append({"stack": ALIASES.get(stack, stack), "version": version.strip(),
                          "source": "linuxFxVersion"})
    if not linux and not config.get("windows_fx_version"):  # a Windows container has no managed runtime
        for field, stack in WINDOWS_FIELDS.items():
            value = str(config.get(field) or "").strip()
            if not value or value.upper() == "OFF":
                continue
            if field == "net_framework_version" and not re.match(r"v?([5-9]|\d\d)", value):
                continue  # v2.0 / v4.0 are .NET Framework (a Windows component), not .NET Core
            found.append({"stack": stack, "version": value, "source": re.sub(
                r"_(\w)", lambda m: m.group(1).upper(), field)})
    return found


def assess(runtimes: list[dict[str, str]], today: date) -> list[dict[str, Any]]:
    """Each runtime with its end-of-life date (None when unknown) and whether it has passed on ``today``."""
    table = end_of_life_table()
    out = []
    for rt in runtimes:
        key = normalise(rt["stack"], rt["version"])
        eol = table.get(rt["stack"], {}).get(key or "")
        out.append({**rt, "end_of_life": eol,
                    "end_of_life_reached": bool(eol) and date.fromisoformat(eol) <= today})
    return out
