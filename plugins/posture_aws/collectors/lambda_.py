"""Lambda: ListFunctions carries runtime and environment; only variable *names* are kept."""

from __future__ import annotations

from datetime import UTC, datetime

from posture.secrets import secret_like_names
from posture_aws.collectors import collector
from posture_aws.context import AwsContext
from posture_aws.runtimes import deprecation_date, is_deprecated

FT = "aws.lambda.function"


@collector("lambda", level="region", facts={
    "aws.lambda.function": 'Lambda functions: runtime, names of secret-like environment variables',
})
def collect_functions(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        now = datetime.now(UTC)
        for fn in ctx.pages(ctx.client("lambda"), "list_functions", "Functions"):
            variables = (fn.get("Environment") or {}).get("Variables") or {}
            runtime = fn.get("Runtime")
            ctx.add(FT, fn["FunctionArn"], fn["FunctionName"], None, {
                "runtime": runtime, "package_type": fn.get("PackageType", "Zip"),
                "runtime_deprecated": is_deprecated(runtime, now),
                "runtime_deprecation_date": deprecation_date(runtime),
                "env_var_names": sorted(variables),
                "secret_like_env_vars": secret_like_names(variables),
                "env_kms_encrypted": bool(fn.get("KMSKeyArn")),
            })
