"""Project defaults: ``posture.toml`` in the working directory, or ``[tool.posture]`` in its pyproject.toml.

The file only sets *defaults*: the environment (``POSTURE_TIER``, ...) overrides it and flags override
both (click's own order: command line, environment, ``default_map``, built-in default). A key posture
does not know is an error naming the file, the key and the valid keys, never silently ignored.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "POSTURE_CONFIG"
SEVERITIES = ("none", "critical", "high", "medium", "low", "info")


class ConfigError(ValueError):
    """A configuration file posture cannot use: names the file, the key and what is wrong."""


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # str | list | int | choice
    help: str
    #: click parameter name per command that takes it
    params: dict[str, str]
    env: str | None = None
    choices: tuple[str, ...] = ()
    default: Any = None


_SCAN_LIKE = ("scan", "evaluate")
KEYS: dict[str, Key] = {k.name: k for k in (
    Key("tier", "str", "tier id or tier file", {c: "tier" for c in (*_SCAN_LIKE, "collect")}, "POSTURE_TIER",
        default="tier-1"),
    Key("formats", "list", "report formats", {c: "formats" for c in (*_SCAN_LIKE, "demo")}, "POSTURE_FORMAT",
        default="console,json,sarif"),
    Key("output_dir", "str", "where reports are written", {c: "output_dir" for c in (*_SCAN_LIKE, "demo")},
        "POSTURE_OUTPUT_DIR", default="posture-out"),
    Key("regions", "list", "regions to scan (AWS --region)", {"scan": "region", "collect": "region"}),
    Key("fail_on", "choice", "severity that makes the exit code 1", {c: "fail_on" for c in (*_SCAN_LIKE, "demo")},
        "POSTURE_FAIL_ON", SEVERITIES, default="none"),
    Key("waivers", "str", "waiver file", {c: "waivers" for c in _SCAN_LIKE}, "POSTURE_WAIVERS"),
    Key("store", "str", "scan history (SQLite path or database URL)",
        {c: "store" for c in (*_SCAN_LIKE, "history", "diff", "report")}, "POSTURE_STORE",
        default="~/.local/share/posture/history.sqlite (scan)"),
    Key("executor", "str", "where collection work units run (`local` threads by default)",
        {c: "executor" for c in ("scan", "collect")}, "POSTURE_EXECUTOR", default="local"),
)}


@dataclass
class Config:
    """Values from the file, and where they came from."""

    values: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "posture.toml" / "pyproject.toml [tool.posture]" / "" (none)

    def default_map(self, commands: dict[str, set[str]] | None = None) -> dict[str, dict[str, Any]]:
        """click ``default_map``: per command, the parameter defaults this file sets.

        ``commands`` (command -> its parameter names) keeps out keys a command does not take yet.
        """
        out: dict[str, dict[str, Any]] = {}
        for name, value in self.values.items():
            key = KEYS[name]
            for command, param in key.params.items():
                if commands is not None and param not in commands.get(command, set()):
                    continue
                out.setdefault(command, {})[param] = ",".join(value) if name == "formats" else value
        return out

    def effective(self, environ: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every key with its effective value for ``posture scan`` and where it comes from (no flags)."""
        env = os.environ if environ is None else environ
        rows = []
        for name, key in KEYS.items():
            if key.env and env.get(key.env):
                rows.append({"key": name, "value": env[key.env], "source": f"environment {key.env}"})
            elif name in self.values:
                rows.append({"key": name, "value": self.values[name], "source": self.source})
            else:
                rows.append({"key": name, "value": key.default, "source": "default"})
        return rows


def _line_of(text: str, key: str) -> str:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.M)
    return f" (line {text.count(chr(10), 0, match.start()) + 1})" if match else ""


def _check_value(key: Key, value: Any, where: str) -> Any:
    if key.kind in ("str", "choice"):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
        if key.choices and value not in key.choices:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(key.choices)}")
        return value
    if key.kind == "list":
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
            raise ConfigError(f"{where}: expected a list of strings (or a comma-separated string), got {value!r}")
        return [v.strip() for v in items]
    raise AssertionError(key.kind)


def parse(data: dict[str, Any], source: str, text: str = "") -> Config:
    """Validate a ``[tool.posture]`` / ``posture.toml`` table (keys may use ``-`` or ``_``)."""
    values: dict[str, Any] = {}
    for raw, value in data.items():
        name = raw.replace("-", "_")
        if name not in KEYS:
            raise ConfigError(f"{source}: unknown key {raw!r}{_line_of(text, raw)}; valid keys: "
                              + ", ".join(KEYS))
        values[name] = _check_value(KEYS[name], value, f"{source}: at {raw}{_line_of(text, raw)}")
    return Config(values, source)


def find_config(cwd: Path | None = None) -> tuple[Path, str] | None:
    """``$POSTURE_CONFIG``, else ``posture.toml``, else a pyproject.toml with ``[tool.posture]``."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit), "posture.toml" if not explicit.endswith("pyproject.toml") else "pyproject"
    here = cwd or Path.cwd()
    if (here / "posture.toml").is_file():
        return here / "posture.toml", "posture.toml"
    if (here / "pyproject.toml").is_file():
        return here / "pyproject.toml", "pyproject"
    return None


def load_config(cwd: Path | None = None) -> Config:
    """The configuration in force for the working directory (empty when there is none)."""
    found = find_config(cwd)
    if found is None:
        return Config()
    path, kind = found
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (from ${CONFIG_ENV})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    label = path.name if path.resolve().parent == (cwd or Path.cwd()).resolve() else str(path)
    if kind == "pyproject":
        table = data.get("tool", {}).get("posture")
        if table is None:
            return Config()
        label += " [tool.posture]"
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{label}: [tool.posture] must be a table")
    return parse(table, label, text)
