"""``posture oscal``: the catalogue, tiers, checks and reports as OSCAL documents (compliance-trestle)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from posture.cli.common import fail, load_tier_or_exit


def _write(kind: str, build: Callable[[], dict[str, Any]], output: Path) -> None:
    from posture.oscal import OscalUnavailable, write_document

    try:
        document = build()
        write_document(kind, document, output)
    except OscalUnavailable as exc:
        fail(str(exc))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError: a bug, but never a traceback
        fail(f"could not build a valid OSCAL {kind}: {exc}")
    click.echo(f"wrote {output}", err=True)


def _output(default: str | None) -> Callable[..., Any]:
    return click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                        default=Path(default) if default else None, show_default=default is not None,
                        help="Where to write the OSCAL JSON document.")


def _catalog_href(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--catalog-href", default="posture-catalog.json", show_default=True,
                        help="How the document refers to the catalog (a path relative to it, or a URL).")(func)


@click.group()
def oscal() -> None:
    """Write OSCAL documents: catalog, tier profiles, component definition, assessment results.

    Every document is validated with compliance-trestle's models (the oscal
    extra: pip install 'tiered-posture[oscal]'). Ids are stable: the same input gives
    the same file; only metadata.last-modified of the catalog, profile and
    component definition is the time of writing (set SOURCE_DATE_EPOCH to fix
    it); assessment results take it from the report.
    """


@oscal.command("catalog")
@_output("posture-catalog.json")
def catalog_cmd(output: Path) -> None:
    """The control catalogue as an OSCAL catalog (controls, parameters, references)."""
    from posture.oscal.catalog import build_catalog
    from posture.tiers import TierError, load_catalogue

    try:
        cat = load_catalogue()
    except TierError as exc:
        fail(str(exc))
    _write("catalog", lambda: build_catalog(cat), output)


@oscal.command("profile")
@click.argument("tier")
@_output(None)
@_catalog_href
def profile_cmd(tier: str, output: Path | None, catalog_href: str) -> None:
    """TIER (an id or an organisation's tier file) as an OSCAL profile importing the catalog.

    Selected controls, set parameters, and exclusions with their justification.
    Default output: TIER-ID-profile.json.
    """
    from posture.oscal.profile import build_profile

    resolved = load_tier_or_exit(tier)
    target = output or Path(f"{resolved.id}-profile.json")
    _write("profile", lambda: build_profile(resolved, catalog_href), target)


@oscal.command("components")
@_output("posture-components.json")
@_catalog_href
@click.option("--provider", "providers", multiple=True, help="Only these clouds (default: every registered one).")
def components_cmd(output: Path, catalog_href: str, providers: tuple[str, ...]) -> None:
    """An OSCAL component definition per cloud: which checks assess which control."""
    from posture.oscal.components import build_components
    from posture.plugins import registry
    from posture.tiers import load_catalogue

    reg = registry()
    names = list(providers) or sorted(reg.providers)
    unknown = [p for p in names if p not in reg.providers]
    if unknown:
        fail(f"unknown provider(s) {', '.join(unknown)}; registered: {', '.join(sorted(reg.providers)) or 'none'}")
    _write("component-definition", lambda: build_components(reg.checks, names, load_catalogue(), catalog_href),
           output)


@oscal.command("results")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@_output(None)
@click.option("--organisation", "--organization", "organisation",
              help="Organisation label (default: the report's metadata.organisation, else its scope ids).")
@click.option("--plan-href", help="import-ap href (default: TIER-ID-profile.json, the tier profile).")
def results_cmd(report: Path, output: Path | None, organisation: str | None, plan_href: str | None) -> None:
    """A JSON report as OSCAL assessment results: results per scope and tier, findings, observations.

    Default output: REPORT with .oscal-ar.json in place of .json.
    """
    from posture.cli.compare_cmd import load_reports_or_exit
    from posture.compare import report_label
    from posture.oscal.results import build_results

    loaded = load_reports_or_exit((report,))[0]
    target = output or report.with_name(report.stem + ".oscal-ar.json")
    _write("assessment-results", lambda: build_results(loaded, report_label(loaded, organisation), plan_href), target)
