"""``posture compare``: organisations x tiers and controls x organisations."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from posture.cli import EXIT_FINDINGS
from posture.cli.common import fail, writer_or_exit
from posture.terminal import info


def verify_reports(reports: tuple[Path, ...], labels: list[str | None], trusted_keys: Path,
                   attestations: tuple[Path, ...]) -> list[dict[str, Any]]:
    """One verification per report (``posture.attest.verify_for_compare``); unreadable keys exit 2."""
    from posture.attest import AttestationError, read_envelope, verify_for_compare
    from posture.signing import SigningError, load_trusted_keys

    try:
        keys = load_trusted_keys(trusted_keys)
        envelopes = [(p, read_envelope(p)) for p in attestations]
        return [verify_for_compare(p, keys, envelopes, lab) for p, lab in zip(reports, labels, strict=True)]
    except (SigningError, AttestationError) as exc:
        fail(str(exc))


def load_reports_or_exit(paths: tuple[Path, ...]) -> list[Any]:
    from posture.report import load_report

    reports = []
    for p in paths:
        try:
            reports.append(load_report(str(p)))
        except OSError as exc:
            fail(f"{p}: cannot read report: {exc.strerror or exc}")
        except ValueError as exc:
            fail(str(exc))
    return reports


def _salt(salt_env: str | None) -> str:
    if salt_env:
        value = os.environ.get(salt_env, "")
        if not value:
            fail(f"--salt-env {salt_env}: the environment variable is unset or empty")
        return value
    if not _interactive():
        # a prompt nobody can answer (CI, a pipe) would abort with exit 1 after a warning
        fail("--anonymise needs a salt: outside a terminal give --salt-env VAR (an environment variable "
             "holding it); there is no default")
    value = click.prompt("Anonymisation salt (kept secret; the same salt gives the same pseudonyms)",
                         hide_input=True, default="", show_default=False, err=True)
    if not value:
        fail("--anonymise needs a salt: --salt-env VAR or type one at the prompt (there is no default)")
    return value


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


@click.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--label", "labels", multiple=True, metavar="NAME",
              help="Organisation label for each report, in order (default: metadata.organisation, else scope ids).")
@click.option("--by", "group_by", type=click.Choice(["organisation", "scope"]), default="organisation",
              show_default=True, help="One row per organisation (reports with one label merge) or per scope.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write the comparison as JSON (schema posture.compare/v1); '-' for stdout.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML page with charts.")
@click.option("--anonymise", "--anonymize", "anonymise", is_flag=True,
              help="Replace organisation and scope identifiers with HMAC-SHA256 pseudonyms.")
@click.option("--salt-env", metavar="VAR", help="Environment variable holding the anonymisation salt "
              "(otherwise prompted; there is no default).")
@click.option("--trusted-keys", type=click.Path(file_okay=False, path_type=Path),
              help="Directory of trusted public keys (*.pub, *.pem): mark each organisation verified or "
                   "unverified from its reports' attestations (REPORT.intoto.json, or --attestation).")
@click.option("--attestation", "attestations", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Attestation file (repeatable); matched to its report by the report's SHA-256.")
@click.option("--require-signed", is_flag=True,
              help="Refuse (exit 1, nothing written) when any report is not verified with --trusted-keys.")
def compare(reports: tuple[Path, ...], labels: tuple[str, ...], group_by: str, json_out: Path | None,
            html_out: Path | None, anonymise: bool, salt_env: str | None, trusted_keys: Path | None,
            attestations: tuple[Path, ...], require_signed: bool) -> None:
    """Compare JSON reports of several organisations side by side.

    Rows are organisations (or scopes with --by scope); the matrices give tier
    attainment with pass rate, and per control the pass / fail / error /
    excluded counts. Controls are cloud-agnostic, so AWS, Azure and GCP
    reports line up.
    """
    from posture.compare import compare as build
    from posture.textsafe import console as make_console

    if len(labels) > len(reports):
        fail(f"{len(labels)} --label values for {len(reports)} reports")
    if salt_env and not anonymise:
        fail("--salt-env is only used with --anonymise")
    if (require_signed or attestations) and trusted_keys is None:
        fail("--require-signed and --attestation need --trusted-keys DIR")
    loaded = load_reports_or_exit(reports)
    label_list: list[str | None] = [*labels, *[None] * (len(reports) - len(labels))]
    verifications = None
    if trusted_keys is not None:
        verifications = verify_reports(reports, label_list, trusted_keys, attestations)
        unverified = [(p, v) for p, v in zip(reports, verifications, strict=True) if v["status"] != "verified"]
        if require_signed and unverified:
            for p, v in unverified:
                click.echo(f"posture: error: {p}: not verified: {'; '.join(v['problems'])}", err=True)
            click.echo(f"posture: error: --require-signed: {len(unverified)} of {len(reports)} report(s) not "
                       "verified; nothing written", err=True)
            sys.exit(EXIT_FINDINGS)
        # a verified report is shown under the organisation its attestation names
        label_list = [lab or (v.get("organisation") if v["status"] == "verified" else None)
                      for lab, v in zip(label_list, verifications, strict=True)]
    to_stdout = str(json_out) == "-"
    # the output plugins render; this command only chooses which writes what (all found before writing)
    wanted = [("json", None if to_stdout else json_out)] if json_out is not None else []
    wanted += [("html", html_out)] if html_out is not None else []
    wanted += [] if to_stdout else [("console", None)]
    writers = [(writer_or_exit(name, "write_comparison"), path) for name, path in wanted]
    salt = _salt(salt_env) if anonymise else None
    comparison = build(loaded, label_list, group_by=group_by, salt=salt, verifications=verifications)
    console = make_console()
    for write, path in writers:
        write(comparison, path, console)
        if path is not None:
            info(f"wrote {path}")
