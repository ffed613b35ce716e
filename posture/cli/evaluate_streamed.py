"""``posture evaluate`` of a fact file as a stream (:mod:`posture.streaming`).

Used when nothing needs the whole result set before the outputs are written: no framework sections and
no scan history (both read and rewrite every result); waivers are applied as results are made. The exit
code, the files and their content are those of the in-memory evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from posture.cli import EXIT_USAGE
from posture.cli.common import exit_code, fail, load_waivers_or_exit
from posture.pipeline import REPORT_BASENAME
from posture.terminal import info


def can_stream(metadata: dict[str, Any], frameworks: list[Any], store: str | None) -> bool:
    """Framework sections and the history need every result in memory; a file that does not name its
    providers is evaluated for the providers of its facts, known only at its end."""
    return not frameworks and store is None and bool(metadata.get("providers"))


def evaluate_streamed(pipeline: Any, facts_file: Path, tier: Any, formats: list[str], output_dir: Path, fail_on: str,
                      strict: bool, waivers: Path | None, selection: Any, providers: list[str],
                      console: Any = None) -> int:
    """Evaluate with ``pipeline``'s checks, write every output, return the exit code (exit 2 for a damaged
    fact file)."""
    from posture.atomic import ensure_dir
    from posture.facts import FactFileError
    from posture.outputs.streamed import STREAMED_FORMATS, originals_needed, write_streamed
    from posture.result_spool import ResultSpool
    from posture.streaming import evaluate_file, workers_for
    from posture.textsafe import console as make_console

    loaded = load_waivers_or_exit(waivers) if waivers is not None else None
    outputs = pipeline.registry.outputs
    ensure_dir(output_dir)
    streamed = [n for n in formats if n in STREAMED_FORMATS]
    paths = {n: output_dir / f"{REPORT_BASENAME}{outputs[n].suffix}" for n in streamed}
    with ResultSpool() as spool:
        try:
            report = evaluate_file(facts_file, tier, pipeline.registry.checks, spool, providers=providers,
                                   selection=selection, waivers=loaded, plugin_problems=pipeline.plugin_problems(),
                                   originals=originals_needed(formats), workers=workers_for(facts_file))
        except FactFileError as exc:
            fail(str(exc))
        rest = write_streamed(report, spool, formats, paths)
    for name in streamed:
        info(f"wrote {paths[name]}")
    broken: list[str] = []
    others = [n for n in formats if n not in STREAMED_FORMATS]
    if others:
        assert rest is not None
        written, broken = pipeline.write(rest, others, output_dir, console or make_console())
        for path in written:
            info(f"wrote {path}")
    for problem in broken:
        click.echo(f"posture: error: {problem}", err=True)
    return EXIT_USAGE if broken else exit_code(report, fail_on, strict)
