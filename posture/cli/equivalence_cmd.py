"""``posture tiers equivalence``: a tier's coverage of a NIST SP 800-53B baseline, per cloud."""

from __future__ import annotations

import click

from posture.cli.common import plain_row
from posture.cli.tiers_cmd import console, echo_json, fail, load


@click.command("equivalence")
@click.argument("tier")
@click.option("--baseline", "baseline_name", required=True,
              type=click.Choice(["nist-800-53b-low", "nist-800-53b-moderate", "nist-800-53b-high"]),
              help="The official NIST SP 800-53B baseline to measure the tier against.")
@click.option("--provider", "providers", multiple=True, help="Only these clouds (default: every registered one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (covered, uncovered, per cloud, beyond).")
def equivalence_cmd(tier: str, baseline_name: str, providers: tuple[str, ...], as_json: bool) -> None:
    """How many controls of a NIST SP 800-53B baseline TIER checks automatically on each cloud.

    \b
    covered    baseline controls an active tier control references and a check
               implements (on at least one cloud; per cloud below)
    uncovered  left to manual assessment
    beyond     tier controls that reference no control of the baseline
    A coverage statement, not a certification (docs/tiers.md).
    """
    from posture.equivalence import equivalence, load_baseline
    from posture.plugins import registry

    resolved = load(tier)
    reg = registry()
    names = list(providers) or sorted(reg.providers)
    unknown = [p for p in names if p not in reg.providers]
    if unknown:
        fail(f"unknown provider(s) {', '.join(unknown)}; registered: {', '.join(sorted(reg.providers)) or 'none'}")
    result = equivalence(resolved, load_baseline(baseline_name), reg.checks, names)
    if as_json:
        echo_json(result)
        return
    from rich.table import Table

    s = result["summary"]
    con = console()
    con.print(f"{result['tier']} vs {result['baseline']['title']} ({result['baseline']['version']}): "
              f"{s['covered']} of {s['baseline_controls']} controls checked automatically on at least one cloud, "
              f"{s['uncovered']} left to manual assessment; {s['tier_controls_beyond_baseline']} of "
              f"{s['tier_controls']} tier controls reach beyond the baseline.", markup=False, highlight=False)
    table = Table(title="Covered per cloud")
    for col in ("cloud", "covered", "of baseline"):
        table.add_column(col)
    for p in result["providers"]:
        plain_row(table, p, str(s["covered_by_provider"][p]), f"{s['covered_by_provider'][p] / s['baseline_controls']:.0%}")
    con.print(table)
    table = Table(title="Covered baseline controls")
    for col in ("800-53", "tier controls", "clouds"):
        table.add_column(col)
    for c in result["covered"]:
        plain_row(table, c["label"], ", ".join(c["tier_controls"]), ", ".join(c["providers"]))
    con.print(table)
    if result["beyond_baseline"]:
        table = Table(title="Tier controls beyond the baseline")
        for col in ("control", "title", "800-53 references"):
            table.add_column(col)
        for c in result["beyond_baseline"]:
            plain_row(table, c["control"], c["title"], ", ".join(c["nist_800_53"]) or "-")
        con.print(table)
    con.print(f"{s['uncovered']} baseline controls left to manual assessment (--json lists them). "
              + result["note"], markup=False, highlight=False)
