"""Lambda: ListFunctions carries runtime and environment; only variable *names* are kept."""

from __future__ import annotations

from datetime import UTC, datetime

from posture.secrets import secret_like_names
from posture_aws.context import UnitContext
from posture_aws.runtimes import deprecation_date, is_deprecated

FT = "aws.lambda.function"


def collect_functions(ctx: UnitContext) -> None:
    with ctx.collecting(FT) as sink:
        now = datetime.now(UTC)
        for fn in ctx.pages(ctx.client("lambda"), "list_functions", "Functions"):
            variables = (fn.get("Environment") or {}).get("Variables") or {}
            runtime = fn.get("Runtime")
            sink.add(ctx.fact(FT, fn["FunctionArn"], fn["FunctionName"], {
                "runtime": runtime, "package_type": fn.get("PackageType", "Zip"),
                "runtime_deprecated": is_deprecated(runtime, now),
                "runtime_deprecation_date": deprecation_date(runtime),
                "env_var_names": sorted(variables),
                "secret_like_env_vars": secret_like_names(variables),
                "env_kms_encrypted": bool(fn.get("KMSKeyArn")),
            }))
