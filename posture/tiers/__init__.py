"""Tiers: load, validate and resolve tier files against the control catalogue.

A tier (``tiers/tier-2.yaml``) selects controls of the catalogue
(``tiers/controls.yaml``) and sets their parameters. It may ``extends:``
another tier: it inherits every control, may only *tighten* inherited
parameters (the catalogue says which direction is tighter) unless the control
carries ``override: {justification: ...}``, and may exclude inherited
controls with a written justification. Organisation tiers extend a standard
tier the same way.

Every problem raises :class:`TierError` naming the file, the JSON path inside
it, the line and what is wrong, so ``posture tiers validate`` can point at the
exact spot. The file format is documented in ``docs/tiers.md`` and
``posture/schemas/tier.schema.json``.

One module per job: :mod:`.model` (data classes, parameter values), :mod:`.catalogue`,
:mod:`.resolution` (``extends``), :mod:`.search` (search path), :mod:`.diff` and
:mod:`.classification`; this package re-exports their public names.
"""

from posture.documents import Document, json_path
from posture.tiers.catalogue import default_catalogue_path, iter_parameters, load_catalogue
from posture.tiers.classification import (
    ClassificationLevel,
    classification_level,
    load_classification,
    tier_for_classification,
)
from posture.tiers.diff import diff_tiers
from posture.tiers.model import (
    CATALOGUE_DEFAULT,
    PARAMETER_TYPES,
    TIGHTER,
    Catalogue,
    ControlSpec,
    ParameterSpec,
    ResolvedControl,
    ResolvedTier,
    TierError,
    check_value,
    did_you_mean,
    format_value,
    is_tighter_or_equal,
    read_document,
    validate_schema,
)
from posture.tiers.resolution import SCHEMA_DIR, list_tiers, load_tier, tier_path, validate_tier_file
from posture.tiers.search import (
    NON_TIER_FILES,
    TIER_SUFFIXES,
    TIERS_PATH_ENV,
    find_tier,
    standard_tier_ids,
    standard_tiers_dir,
    tier_search_path,
)

__all__ = [
    "CATALOGUE_DEFAULT", "NON_TIER_FILES", "PARAMETER_TYPES", "SCHEMA_DIR", "TIERS_PATH_ENV", "TIER_SUFFIXES", "TIGHTER",
    "Catalogue", "ClassificationLevel", "ControlSpec", "Document", "ParameterSpec", "ResolvedControl",
    "ResolvedTier", "TierError", "check_value", "classification_level", "default_catalogue_path", "did_you_mean", "diff_tiers",
    "find_tier", "format_value", "is_tighter_or_equal", "iter_parameters", "json_path", "list_tiers",
    "load_catalogue", "load_classification", "load_tier", "read_document", "standard_tier_ids",
    "standard_tiers_dir", "tier_for_classification", "tier_path", "tier_search_path", "validate_schema",
    "validate_tier_file",
]
