"""``posture demo``: a full scan of an embedded mock AWS account, contributed by the AWS plugin.

No credentials and no network: moto runs in-process on 127.0.0.1, the AWS
plugin is pointed at it through ``AWS_ENDPOINT_URL`` (the same door a user of
a private endpoint uses), and a socket guard refuses any non-loopback
connection for the duration. moto comes with the ``demo`` extra only; this
module imports it (through :mod:`posture_aws.testing`) when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from posture.atomic import check_writable_dir
from posture.cli.common import (
    fail,
    finish,
    framework_option,
    installed_pipeline,
    load_frameworks_or_exit,
    load_tier_or_exit,
    parse_formats,
)
from posture.terminal import info, quiet


@click.command()
@click.option("--tier", "-t", default="tier-2", show_default=True, help="Tier to evaluate the mock account against.")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("posture-demo"),
              show_default=True, help="Where the SARIF, JSON and other reports are written.")
@click.option("--format", "formats", default="console,json,sarif", show_default=True,
              help="Comma-separated outputs: console, json, sarif, html, junit.")
@click.option("--scale", type=click.IntRange(1, 50), default=1, show_default=True,
              help="Multiply the seeded resources (1 = about 50 resources in 2 regions).")
@click.option("--fail-on", type=click.Choice(["none", "critical", "high", "medium", "low", "info"]), default="none",
              show_default=True, help="Exit 1 when a failure at or above this severity is found.")
@framework_option()
def demo(tier: str, output_dir: Path, formats: str, scale: int, fail_on: str, frameworks: tuple[str, ...]) -> None:
    """Scan an embedded mock AWS account seeded with compliant and misconfigured resources."""
    from posture.netguard import loopback_only

    pipeline = installed_pipeline()
    resolved = load_tier_or_exit(tier)
    names = parse_formats(formats)
    fws = load_frameworks_or_exit(frameworks, pipeline.registry.checks)
    check_writable_dir(output_dir)
    try:
        from posture_aws.testing.mock import mock_account
    except ImportError as exc:
        fail(f"the demo needs the AWS plugin and moto: pip install 'tiered-posture[demo]' ({exc})")
    from posture.cli.scan_cmd import progress_bar

    with loopback_only():
        info(f"posture demo: seeding a mock AWS account on 127.0.0.1 (scale {scale}) ...")
        with mock_account(scale=scale) as mock, progress_bar(sys.stderr.isatty() and not quiet()) as progress:
            # Only the provider options; the rest of `mock` describes the seeded account.
            report = pipeline.run(resolved, ["aws"], {"region": mock["region"]}, progress=progress, frameworks=fws)
        report.metadata["demo"] = True
        if report.metadata.get("interrupted"):
            from posture.cli.scan_cmd import finish_interrupted

            finish_interrupted(report, names, output_dir, None, pipeline)
        code = finish(report, names, output_dir, fail_on, False, None, None, pipeline=pipeline)
    sys.exit(code)
