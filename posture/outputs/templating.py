"""Jinja2 for every HTML page: autoescaping on for all templates, undefined names are errors.

Values from reports (cloud resource names, tier titles, waiver reasons) reach the page only through
template expressions, which escape them; only markup posture itself builds (rendered remediation
markdown with raw HTML disabled) is marked safe, in one place (:func:`markdown`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def markdown(text: str) -> Any:
    """Remediation markdown as HTML with raw HTML disabled (escaped) and unsafe link schemes refused."""
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    return Markup(MarkdownIt("commonmark", {"html": False}).render(text or ""))


@lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["markdown"] = markdown
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{float(v):.0%}"
    env.filters["words"] = lambda s: str(s).replace("_", " ")
    from markupsafe import Markup

    env.globals["CSP"] = Markup(CSP)  # posture's own constant (no quotes): kept readable in the attribute
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
