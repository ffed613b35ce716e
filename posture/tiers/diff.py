"""What stepping up from one tier to another demands (and gives up)."""

from __future__ import annotations

from typing import Any

from posture.tiers.model import CATALOGUE_DEFAULT, ResolvedTier, is_tighter_or_equal


def diff_tiers(lower: ResolvedTier, higher: ResolvedTier) -> dict[str, Any]:
    """What stepping up from ``lower`` to ``higher`` demands (and gives up)."""
    low_active = {c.id: c for c in lower.active_controls()}
    high_active = {c.id: c for c in higher.active_controls()}
    added = [high_active[c].to_dict() for c in sorted(set(high_active) - set(low_active))]
    dropped = []
    for cid in sorted(set(low_active) - set(high_active)):
        rc = higher.controls.get(cid)
        dropped.append({"id": cid, "title": low_active[cid].spec.title,
                        "excluded_by": rc.excluded_by if rc else "",
                        "justification": rc.justification if rc else "not selected"})
    changed = []
    for cid in sorted(set(low_active) & set(high_active)):
        a, b = low_active[cid], high_active[cid]
        for name in sorted(b.parameters):
            if a.parameters.get(name) != b.parameters[name]:
                spec = b.spec.parameters[name]
                changed.append({
                    "control": cid, "parameter": name, "from": a.parameters.get(name), "to": b.parameters[name],
                    "source": b.sources.get(name, CATALOGUE_DEFAULT),
                    "tighter": is_tighter_or_equal(spec, b.parameters[name], a.parameters.get(name)),
                    "override": b.overrides.get(name, ""),
                })
    return {"from": lower.id, "to": higher.id, "added": added, "dropped": dropped, "changed": changed}
