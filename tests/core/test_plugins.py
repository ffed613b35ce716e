"""Plugins are discovered through the ``posture`` entry-point group, once, and in isolation."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest


def install_fake_distribution(tmp_path: Path, name: str, modules: dict[str, str], entry_points: dict[str, str]
                              ) -> None:
    """Write a minimal installed distribution (dist-info + modules) onto sys.path."""
    dist = tmp_path / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    eps = "[posture]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (dist / "entry_points.txt").write_text(eps)
    for mod, source in modules.items():
        (tmp_path / f"{mod}.py").write_text(textwrap.dedent(source))


GOOD_PLUGIN = """
    from posture.hookspecs import hookimpl
    from posture.outputs import Output

    @hookimpl
    def register_outputs(register):
        register(Output("thirdparty", ".txt", lambda report, path, console: None, "a third-party output"))
"""

BROKEN_IMPORT = """
    raise RuntimeError("this plugin is broken on import")
"""

BROKEN_HOOK = """
    from posture.hookspecs import hookimpl

    @hookimpl
    def register_outputs(register):
        raise ValueError("hook blew up")
"""


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_plugins):
    install_fake_distribution(
        tmp_path, "posture_thirdparty",
        {"tp_good": GOOD_PLUGIN, "tp_broken_import": BROKEN_IMPORT, "tp_broken_hook": BROKEN_HOOK},
        {"tp-good": "tp_good", "tp-broken-import": "tp_broken_import", "tp-broken-hook": "tp_broken_hook"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in ("tp_good", "tp_broken_import", "tp_broken_hook"):
        sys.modules.pop(mod, None)
    return fresh_plugins


def test_third_party_plugin_is_discovered_through_entry_points(third_party) -> None:
    reg = third_party.registry()
    assert "thirdparty" in reg.outputs
    assert reg.origins["thirdparty"] == "tp-good"
    assert "tp-good" in reg.loaded


def test_builtin_outputs_load_through_the_same_entry_point_group(third_party) -> None:
    reg = third_party.registry()
    assert {"json", "sarif", "console"} <= set(reg.outputs)
    assert reg.origins["sarif"] == "sarif"


def test_broken_plugins_are_reported_by_name_and_the_rest_still_load(third_party) -> None:
    reg = third_party.registry()
    problems = {(p.plugin, p.stage): p.error for p in reg.problems}
    assert "this plugin is broken on import" in problems[("tp-broken-import", "load")]
    assert "hook blew up" in problems[("tp-broken-hook", "register_outputs")]
    assert "thirdparty" in reg.outputs and "json" in reg.outputs


def test_posture_plugins_env_pins_which_plugins_load(third_party, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_PLUGINS", "json,tp-good")
    third_party.reset()
    reg = third_party.registry()
    assert set(reg.outputs) == {"json", "thirdparty"}
    assert reg.problems == []


def test_plugins_are_loaded_once(third_party) -> None:
    assert third_party.get_plugin_manager() is third_party.get_plugin_manager()
    assert third_party.registry() is third_party.registry()


def test_a_plugin_registers_its_check_files_through_the_hook_and_a_bad_one_is_its_located_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_plugins) -> None:
    """``register(*load_check_file(path))``: the core loads no file for a plugin, and a broken file costs only
    that plugin, reported with the file and line (its checks registered before the bad file stay)."""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("provider: files\nchecks:\n  - id: files.thing.ok\n    title: Thing is fine\n"
                    "    fact_type: files.thing\n    controls: [IAM-01]\n"
                    "    condition: {key: ok, op: eq, value: true}\n    remediation: Make it fine.\n")
    bad.write_text("provider: files\nchecks:\n  - id: files.thing.broken\n    title: Broken\n")
    source = f"""
        from posture.checks import load_check_file
        from posture.hookspecs import hookimpl

        @hookimpl
        def register_checks(register):
            register(*load_check_file({str(good)!r}))
            register(*load_check_file({str(bad)!r}))
    """
    install_fake_distribution(tmp_path, "posture_files", {"tp_files": source}, {"tp-files": "tp_files"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("POSTURE_PLUGINS", "tp-files")
    sys.modules.pop("tp_files", None)
    fresh_plugins.reset()
    reg = fresh_plugins.registry()
    assert set(reg.checks) == {"files.thing.ok"} and reg.origins["files.thing.ok"] == "tp-files"
    (problem,) = reg.problems
    assert (problem.plugin, problem.stage) == ("tp-files", "register_checks")
    assert f"{bad}:3" in problem.error, problem.error
