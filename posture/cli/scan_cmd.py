"""``posture scan``, ``posture collect`` and ``posture evaluate``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from posture.atomic import check_writable_dir
from posture.cli import EXIT_INTERRUPTED, EXIT_USAGE
from posture.cli.common import (
    fail,
    finish,
    framework_option,
    installed_pipeline,
    load_frameworks_or_exit,
    load_tier_or_exit,
    load_waivers_or_exit,
    output_options,
    parse_formats,
    selection_from,
    selection_options,
    store_url,
)
from posture.cli.executor_options import executor_options, executor_or_exit
from posture.collect import DEFAULT_CONCURRENCY
from posture.terminal import debug, info, quiet


def provider_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add every installed provider's options (``--region``, ``--subscription``, ...)."""
    from posture.plugins import registry

    seen: dict[str, tuple[str, Any]] = {}
    for provider in sorted(registry().providers.values(), key=lambda p: p.name):
        for opt in getattr(provider, "options", []):
            if opt.name in seen:
                seen[opt.name] = (seen[opt.name][0] + "," + provider.name, seen[opt.name][1])
            else:
                seen[opt.name] = (provider.name, opt)
    for name in sorted(seen, reverse=True):
        owners, opt = seen[name]
        kwargs: dict[str, Any] = {"help": f"[{owners}] {opt.help}", "envvar": opt.envvar}
        if opt.is_flag:
            kwargs.update(is_flag=True, default=bool(opt.default))
        else:
            kwargs.update(multiple=opt.multiple, default=opt.default if not opt.multiple else opt.default or (),
                          metavar=opt.metavar, show_default=opt.default not in (None, (), []))
        func = click.option(f"--{opt.name}", opt.key, **kwargs)(func)
    return func


def scan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--provider", "-p", "providers", multiple=True,
                        help="Provider(s) to scan (default: the provider whose options you used).")(func)
    func = click.option("--concurrency", type=click.IntRange(1, 256), default=DEFAULT_CONCURRENCY,
                        show_default=True, help="Work units collected in parallel.")(func)
    return provider_options(executor_options(func))


def split_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Provider option values as plain Python (tuples become lists, unset ones dropped)."""
    out = {}
    for key, value in kwargs.items():
        if value is None or value == () or value is False:
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


PROGRESS_EVERY_S = 10.0


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A live bar on a terminal; elsewhere (CI logs) a plain line every ten seconds and one when done."""
    if not enabled:
        yield progress_lines()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        def update(provider: str, done: int, total: int) -> None:
            if provider not in tasks:
                tasks[provider] = progress.add_task(f"collecting {provider}", total=total)
            progress.update(tasks[provider], completed=done, total=total)

        yield update


def progress_lines(every_s: float = PROGRESS_EVERY_S) -> Callable[[str, int, int], None]:
    start = time.monotonic()
    last: dict[str, float] = {}

    def update(provider: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total:
            info(f"collected {provider}: {total} work units in {now - start:.1f} s")
        elif now - last.setdefault(provider, start) >= every_s:
            last[provider] = now
            info(f"collecting {provider}: {done}/{total} work units ({100 * done // total}%)")

    return update


def opt_is_env_only(key: str) -> bool:
    """Options set only through the environment (endpoints, CA bundles) don't choose a provider by themselves."""
    import click as _click

    ctx = _click.get_current_context(silent=True)
    if ctx is None:
        return False
    source = ctx.get_parameter_source(key)
    return source is not None and source.name in ("ENVIRONMENT", "DEFAULT", "DEFAULT_MAP")


def infer_providers(reg: Any, providers: tuple[str, ...], options: dict[str, Any],
                    frameworks: list[Any] = ()) -> list[str]:
    """The providers of registry ``reg`` to scan: as given, else those whose own options were used, else the
    frameworks' ones."""
    if providers:
        return list(providers)
    owners: dict[str, set[str]] = {}
    defaults: dict[str, object] = {}
    for p in reg.providers.values():
        for opt in getattr(p, "options", []):
            owners.setdefault(opt.key, set()).add(p.name)
            defaults[opt.key] = opt.default
    used = {k for k, v in options.items() if v != defaults.get(k) and not (opt_is_env_only(k))}
    inferred = sorted({next(iter(o)) for k, o in owners.items() if len(o) == 1 and k in used})
    if inferred:
        return inferred
    from_frameworks = sorted({fw.provider for fw in frameworks if fw.provider in reg.providers})
    if from_frameworks:
        return from_frameworks
    if len(reg.providers) == 1:
        return list(reg.providers)
    fail("choose what to scan with --provider (" + "|".join(sorted(reg.providers)) + "), e.g. "
         "`posture scan --provider aws`")


def plan_and_collect(pipeline: Any, tier: Any, providers: tuple[str, ...], options: dict[str, Any],
                     executor: Any, frameworks: list[Any] = (), selection: Any = None) -> Any:
    """Plan (``tier`` None: every fact type) and collect on ``executor`` with a progress display; a plan
    error is exit 2."""
    from posture.provider import ProviderError
    from posture.selection import NO_SELECTION

    try:
        plan = pipeline.plan(tier, infer_providers(pipeline.registry, providers, options, frameworks),
                             frameworks=frameworks, selection=selection or NO_SELECTION)
        if plan.tier is not None:
            debug(f"{plan.tier.id}: {len(plan.checks)} check(s) over {len(plan.fact_types)} fact type(s) on "
                  + ", ".join(plan.provider_names) + ": " + ", ".join(sorted(plan.fact_types)))
        with progress_bar(sys.stderr.isatty() and not quiet()) as progress:
            return plan, pipeline.collect(plan, options, progress=progress, executor=executor)
    except ProviderError as exc:
        fail(str(exc))


@click.command()
@output_options
@selection_options
@scan_options
@click.option("--save-facts", type=click.Path(dir_okay=False, path_type=Path),
              help="Also save the collected facts (JSON Lines) for `posture evaluate`.")
def scan(tier: str, formats: str, output_dir: Path, fail_on: str, strict: bool, waivers: Path | None,
         store: str | None, no_store: bool, frameworks: tuple[str, ...], providers: tuple[str, ...],
         concurrency: int, save_facts: Path | None, **provider_kwargs: Any) -> None:
    """Collect exactly the facts a tier needs and evaluate them.

    \b
    Examples:
      posture scan --provider aws --tier tier-2 --region eu-west-1
      posture scan --provider aws --org --role-name SecurityAudit --fail-on high
      posture scan --provider azure --subscription 0000-... --format sarif,json
      posture scan --provider aws --tier tier-1 --framework cis-aws-foundations-7.0
      posture scan --provider aws --service s3 --severity critical,high
    """
    from posture.facts import write_fact_file

    pipeline = installed_pipeline()
    selection = selection_from(provider_kwargs)
    resolved = load_tier_or_exit(tier)
    names = parse_formats(formats)
    fws = load_frameworks_or_exit(frameworks, pipeline.registry.checks)
    # Everything that can be wrong with the command is found before collecting, not after an hour of API calls.
    if waivers is not None:
        load_waivers_or_exit(waivers)
    check_writable_dir(output_dir)
    if save_facts:
        check_writable_dir(save_facts.parent)
    executor = executor_or_exit(provider_kwargs, concurrency)
    plan, facts = plan_and_collect(pipeline, resolved, providers, split_options(provider_kwargs), executor, fws,
                                   selection)
    if save_facts:
        write_fact_file(save_facts, facts)
        info(f"wrote {save_facts}")
    report = pipeline.evaluate(plan, facts)
    if facts.metadata.get("interrupted"):
        finish_interrupted(report, names, output_dir, waivers, pipeline)
    if facts.metadata.get("executor_lost"):
        finish_lost(report, names, output_dir, waivers, pipeline, facts.metadata["executor_lost"])
    sys.exit(finish(report, names, output_dir, fail_on, strict, waivers, store_url(store, no_store, True),
                    pipeline=pipeline))


def finish_interrupted(report: Any, names: list[str], output_dir: Path, waivers: Path | None,
                       pipeline: Any = None) -> NoReturn:
    """Write the partial results (never recorded in the history as a complete scan) and exit 130."""
    report.metadata["interrupted"] = True
    finish(report, names, output_dir, "none", False, waivers, None, pipeline=pipeline)
    click.echo("posture: interrupted: wrote the partial results collected so far", err=True)
    sys.exit(EXIT_INTERRUPTED)


def finish_lost(report: Any, names: list[str], output_dir: Path, waivers: Path | None, pipeline: Any,
                why: str) -> NoReturn:
    """The executor went away (a broker lost): write what was collected (not recorded in the history) and exit 2."""
    report.metadata["executor_lost"] = why
    finish(report, names, output_dir, "none", False, waivers, None, pipeline=pipeline)
    click.echo(f"posture: error: {why}; wrote the partial results collected so far", err=True)
    sys.exit(EXIT_USAGE)


@click.command()
@click.option("--tier", "-t", default=None, help="Collect only the facts this tier's checks need "
              "(default: every fact type the providers offer).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("posture-facts.jsonl"), show_default=True, help="Fact file to write (JSON Lines).")
@framework_option()
@selection_options
@scan_options
def collect(tier: str | None, output: Path, frameworks: tuple[str, ...], providers: tuple[str, ...],
            concurrency: int, **provider_kwargs: Any) -> None:
    """Collect facts and save them, to evaluate later (or against several tiers) offline.

    With a check selection (--check, --service, ...) only the fact types the selected checks read
    are collected.
    """
    from posture.facts import write_fact_file

    pipeline = installed_pipeline()
    selection = selection_from(provider_kwargs)
    fws = load_frameworks_or_exit(frameworks, pipeline.registry.checks)
    check_writable_dir(output.parent)
    executor = executor_or_exit(provider_kwargs, concurrency)
    options = split_options(provider_kwargs)
    if tier is None:  # every fact type the providers offer; --framework is validated only
        plan, facts = plan_and_collect(pipeline, None, providers, options, executor, [], selection)
    else:
        plan, facts = plan_and_collect(pipeline, load_tier_or_exit(tier), providers, options, executor, fws,
                                       selection)
    write_fact_file(output, facts)
    info(f"wrote {output}: {len(facts.facts)} fact(s), {len(facts.errors)} collection error(s), "
         f"{facts.metadata.get('requests', 0)} request(s)")
    if facts.metadata.get("interrupted"):
        click.echo("posture: interrupted: the fact file holds what was collected so far", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if facts.metadata.get("executor_lost"):
        click.echo(f"posture: error: {facts.metadata['executor_lost']}; the fact file holds what was collected so "
                   "far", err=True)
        sys.exit(EXIT_USAGE)


@click.command()
@click.argument("facts_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@output_options
@selection_options
def evaluate(facts_file: Path, tier: str, formats: str, output_dir: Path, fail_on: str, strict: bool,
             waivers: Path | None, store: str | None, no_store: bool, frameworks: tuple[str, ...],
             **selection_kwargs: Any) -> None:
    """Evaluate a saved fact file against a tier, offline (no cloud calls).

    Recorded in the scan history only when --store is given.
    """
    from posture.cli.evaluate_streamed import can_stream, evaluate_streamed
    from posture.facts import FactFileError, peek_metadata, read_fact_file

    pipeline = installed_pipeline()
    selection = selection_from(selection_kwargs)
    resolved = load_tier_or_exit(tier)
    names = parse_formats(formats)
    fws = load_frameworks_or_exit(frameworks, pipeline.registry.checks)
    metadata = peek_metadata(facts_file)
    if can_stream(metadata, fws, store_url(store, no_store, False)):
        sys.exit(evaluate_streamed(pipeline, facts_file, resolved, names, output_dir, fail_on, strict, waivers,
                                   selection, metadata["providers"]))
    try:
        facts = read_fact_file(facts_file)
    except FactFileError as exc:
        fail(str(exc))
    report = pipeline.evaluate(pipeline.offline_plan(facts, resolved, frameworks=fws, selection=selection), facts)
    sys.exit(finish(report, names, output_dir, fail_on, strict, waivers, store_url(store, no_store, False),
                    pipeline=pipeline))
