"""Lambda runtimes and the date AWS deprecates each (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).

A runtime is deprecated from its date on: no more security patches. Dates are
compared with the collection time, so a runtime crosses over without a code
change. A runtime not listed (a new one) is treated as supported. Dates of
runtimes retired before 2024 are the published ones where known; all are long
past. Runtimes whose date AWS has not settled are left out rather than guessed.
"""

from __future__ import annotations

from datetime import date, datetime

DEPRECATION_DATES: dict[str, str] = {
    # retired before 2024
    "python2.7": "2021-07-15", "python3.6": "2022-07-18", "python3.7": "2023-12-04",
    "nodejs": "2016-10-31", "nodejs4.3": "2020-03-05", "nodejs4.3-edge": "2019-04-30",
    "nodejs6.10": "2019-08-12", "nodejs8.10": "2020-03-06", "nodejs10.x": "2021-07-30",
    "nodejs12.x": "2023-03-31", "nodejs14.x": "2023-12-04",
    "dotnetcore1.0": "2019-07-30", "dotnetcore2.0": "2019-05-30", "dotnetcore2.1": "2022-01-05",
    "dotnetcore3.1": "2023-04-03", "dotnet5.0": "2022-05-10",
    "ruby2.5": "2021-07-30", "ruby2.7": "2023-12-07",
    # retired since
    "java8": "2024-01-08", "go1.x": "2024-01-08", "provided": "2024-01-08",
    "nodejs16.x": "2024-06-12", "dotnet7": "2024-05-14", "python3.8": "2024-10-14", "dotnet6": "2024-12-20",
    "nodejs18.x": "2025-09-01", "python3.9": "2025-12-15",
    "ruby3.2": "2026-03-31", "nodejs20.x": "2026-04-30", "dotnet8": "2026-11-10",
    # announced
    "ruby3.3": "2027-03-31", "nodejs22.x": "2027-04-30", "python3.12": "2028-10-31",
}


def deprecation_date(runtime: str | None) -> str | None:
    return DEPRECATION_DATES.get(runtime or "")


def is_deprecated(runtime: str | None, at: datetime) -> bool:
    """True from the runtime's deprecation date on (``at``: the collection time)."""
    when = deprecation_date(runtime)
    return when is not None and at.date() >= date.fromisoformat(when)
