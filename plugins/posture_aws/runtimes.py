"""Lambda runtimes past AWS's deprecation date (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)."""

from __future__ import annotations

DEPRECATED_RUNTIMES = frozenset({
    "python2.7", "python3.6", "python3.7", "python3.8",
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
    "nodejs14.x", "nodejs16.x",
    "java8",
    "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet5.0",
    "ruby2.5", "ruby2.7",
    "go1.x", "provided",
})
