"""posture.toml / [tool.posture] defaults (env and flags win), `config show`, and terminal conventions:
NO_COLOR / --no-color, --quiet / --verbose, messages on stderr, completion scripts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


@pytest.fixture
def project(fake_cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a fact file of the fake cloud."""
    monkeypatch.chdir(tmp_path)
    for var in ("POSTURE_TIER", "POSTURE_FORMAT", "POSTURE_OUTPUT_DIR", "POSTURE_FAIL_ON", "POSTURE_CONFIG",
                "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    res = CliRunner().invoke(cli, ["collect", "--provider", "fake", "--output", "facts.jsonl"])
    assert res.exit_code == 0, res.output
    return tmp_path


def report_in(directory: Path) -> dict:
    return json.loads((directory / "posture-report.json").read_text())


def test_posture_toml_sets_defaults_for_evaluate(project: Path) -> None:
    (project / "posture.toml").write_text('tier = "tier-2"\nformats = ["json"]\noutput-dir = "reports"\n'
                                          'fail_on = "critical"\n')
    res = runner().invoke(cli, ["evaluate", "facts.jsonl"])
    assert res.exit_code == 1, res.output  # the fake world has a critical failure (a public bucket)
    assert report_in(project / "reports")["tier"]["id"] == "tier-2"
    assert not (project / "reports" / "posture-report.sarif").exists()


def test_environment_overrides_the_file_and_flags_override_both(project: Path, monkeypatch) -> None:
    (project / "posture.toml").write_text('tier = "tier-2"\nformats = "json"\noutput_dir = "reports"\n')
    monkeypatch.setenv("POSTURE_TIER", "tier-3")
    assert runner().invoke(cli, ["evaluate", "facts.jsonl"]).exit_code == 0
    assert report_in(project / "reports")["tier"]["id"] == "tier-3"
    assert runner().invoke(cli, ["evaluate", "facts.jsonl", "--tier", "tier-1"]).exit_code == 0
    assert report_in(project / "reports")["tier"]["id"] == "tier-1"


def test_tool_posture_in_pyproject_is_read_and_posture_toml_wins(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.posture]\ntier = "tier-2"\n'
                                            'formats = ["json"]\noutput_dir = "from-pyproject"\n')
    assert runner().invoke(cli, ["evaluate", "facts.jsonl"]).exit_code == 0
    assert report_in(project / "from-pyproject")["tier"]["id"] == "tier-2"
    (project / "posture.toml").write_text('output_dir = "from-posture-toml"\nformats = ["json"]\n')
    assert runner().invoke(cli, ["evaluate", "facts.jsonl"]).exit_code == 0
    assert report_in(project / "from-posture-toml")["tier"]["id"] == "tier-1"


@pytest.mark.parametrize(("text", "message"), [
    ('tier = "tier-2"\nregoins = ["eu-west-1"]\n', "unknown key 'regoins' (line 2); valid keys: tier, formats"),
    ('fail_on = "severe"\n', "at fail_on (line 1): 'severe' is not one of none, critical"),
    ('formats = [1, 2]\n', "at formats (line 1): expected a list of strings"),
    ('tier = \n', "not valid TOML"),
])
def test_a_bad_config_file_is_exit_2_naming_file_key_and_valid_keys(project: Path, text: str, message: str) -> None:
    (project / "posture.toml").write_text(text)
    res = runner().invoke(cli, ["evaluate", "facts.jsonl"])
    assert res.exit_code == 2 and "posture.toml" in res.stderr and message in res.stderr, res.stderr
    assert runner().invoke(cli, ["config", "show"]).exit_code == 2


def test_config_show_prints_each_setting_and_its_source(project: Path, monkeypatch) -> None:
    (project / "posture.toml").write_text('tier = "tier-2"\nregions = ["eu-west-1", "eu-central-1"]\n')
    monkeypatch.setenv("POSTURE_FAIL_ON", "high")
    res = runner().invoke(cli, ["config", "show", "--json"])
    rows = {r["key"]: r for r in json.loads(res.stdout)["settings"]}
    assert rows["tier"] == {"key": "tier", "value": "tier-2", "source": "posture.toml"}
    assert rows["regions"]["value"] == ["eu-west-1", "eu-central-1"]
    assert rows["fail_on"] == {"key": "fail_on", "value": "high", "source": "environment POSTURE_FAIL_ON"}
    assert rows["output_dir"]["source"] == "default"
    table = runner().invoke(cli, ["config", "show"]).stdout
    assert "posture.toml" in table and "environment POSTURE_FAIL_ON" in table


def test_quiet_silences_status_lines_and_verbose_adds_debug_on_stderr(project: Path) -> None:
    normal = runner().invoke(cli, ["evaluate", "facts.jsonl", "--format", "json"])
    assert "wrote " in normal.stderr and normal.stdout == ""
    quiet = runner().invoke(cli, ["--quiet", "evaluate", "facts.jsonl", "--format", "json"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    verbose = runner().invoke(cli, ["-v", "scan", "-p", "fake", "--format", "json", "--no-store"])
    assert "posture: debug: tier-1:" in verbose.stderr and "check(s) over" in verbose.stderr
    both = runner().invoke(cli, ["-q", "-v", "config", "show"])
    assert both.exit_code == 2 and "contradict" in both.stderr


def test_machine_output_on_stdout_stays_parseable(project: Path) -> None:
    res = runner().invoke(cli, ["checks", "list", "--provider", "fake", "--json"])
    assert json.loads(res.stdout) and res.exit_code == 0


def _posture(*args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | env
    return subprocess.run([sys.executable, "-c", "from posture.cli import main; main()", *args],
                          capture_output=True, text=True, env=environ, timeout=120)


#: an SGR sequence setting a foreground or background colour (bold or italic are not colour: no-color.org)
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def test_no_color_env_and_flag_turn_colour_off() -> None:
    args = ("tiers", "show", "tier-2")
    coloured = _posture(*args, FORCE_COLOR="1")
    assert COLOUR.search(coloured.stdout), "rich colours a forced terminal: " + coloured.stderr[-500:]
    assert not COLOUR.search(_posture(*args, FORCE_COLOR="1", NO_COLOR="1").stdout)
    assert not COLOUR.search(_posture("--no-color", *args, FORCE_COLOR="1").stdout)


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F"), ("zsh", "compdef"),
                                               ("fish", "complete --no-files --command posture")])
def test_completion_scripts_for_each_shell(shell: str, marker: str) -> None:
    res = CliRunner().invoke(cli, ["completion", shell])
    assert res.exit_code == 0 and marker in res.output and "_POSTURE_COMPLETE" in res.output


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_script_loads_and_registers_posture() -> None:
    script = CliRunner().invoke(cli, ["completion", "bash"]).output
    proc = subprocess.run(["bash", "-c", script + "\ncomplete -p posture"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "_posture_completion" in proc.stdout, proc.stderr
