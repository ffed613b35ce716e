"""A tier (standard or an organisation's) as an OSCAL profile importing the catalog.

Selected controls are ``include-controls``; controls the tier (or an ancestor)
excludes are ``exclude-controls`` and each exclusion's justification is kept
as a metadata property; every parameter of a selected control is set with
the tier that set it (and the justification of a loosening ``override``).
"""

from __future__ import annotations

from typing import Any

from posture.oscal import document_time, metadata, prop, props, stable_uuid, value_strings
from posture.oscal.catalog import CATALOG_HREF
from posture.tiers import CATALOGUE_DEFAULT, ResolvedTier


def build_profile(tier: ResolvedTier, catalog_href: str = CATALOG_HREF, last_modified: str | None = None
                  ) -> dict[str, Any]:
    from posture.attest import tier_digest

    active, excluded = tier.active_controls(), tier.excluded_controls()
    include = {"href": catalog_href, "include-controls": [{"with-ids": [c.id for c in active]}]}
    if excluded:
        include["exclude-controls"] = [{"with-ids": [c.id for c in excluded]}]
    set_parameters = [{
        "param-id": name,
        "values": value_strings(value) or None,
        "props": props(prop("set-by", c.sources.get(name, CATALOGUE_DEFAULT)), prop("control", c.id)),
        "remarks": f"Loosened with override: {c.overrides[name].strip()}" if name in c.overrides else None,
    } for c in active for name, value in sorted(c.parameters.items())]
    digest = tier_digest(tier)
    return {
        "uuid": stable_uuid("profile", tier.id, digest),
        "metadata": metadata(
            f"posture tier {tier.id}: {tier.title}", digest[:12], last_modified or document_time(),
            props=props(
                prop("tier", tier.id),
                prop("chain", " -> ".join(tier.chain)),
                prop("tier-digest", digest, cls="sha256"),
                *(prop("classification", c) for c in tier.classifications),
                *(prop("excluded-control", c.id, cls=c.excluded_by or None, remarks=c.justification.strip())
                  for c in excluded),
            ),
            remarks=(tier.description.strip() or None),
        ),
        "imports": [include],
        "merge": {"as-is": True},
        "modify": {"set-parameters": set_parameters} if set_parameters else None,
    }
