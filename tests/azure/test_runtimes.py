"""App Service runtime parsing (Linux and Windows site config) and end-of-life dates on a given day."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from posture_azure.collectors.web import app_attributes
from posture_azure.runtimes import assess, end_of_life_table, normalise, site_runtimes

JUNE_2024 = date(2024, 6, 1)


@pytest.mark.parametrize(("stack", "version", "key"), [
    ("PYTHON", "3.8", "3.8"), ("NODE", "18-lts", "18"), ("NODE", "~16", "16"), ("NODE", "20.x", "20"),
    ("PHP", "7.4", "7.4"), ("DOTNETCORE", "v6.0", "6.0"), ("DOTNETCORE", "8", "8.0"),
    ("JAVA", "1.7", "7"), ("JAVA", "11-java11", "11"), ("JAVA", "9.0-java11", "11"), ("RUBY", "2.7", "2.7"),
])
def test_version_strings_normalise_to_table_keys(stack: str, version: str, key: str) -> None:
    assert normalise(stack, version) == key


def test_linux_fx_version_names_the_stack_and_containers_have_none() -> None:
    assert site_runtimes({"linux_fx_version": "NODE|18-lts"}) == [
        {"stack": "NODE", "version": "18-lts", "source": "linuxFxVersion"}]
    assert site_runtimes({"linux_fx_version": "DOTNET|7.0"})[0]["stack"] == "DOTNETCORE"
    # function apps on the isolated worker model, in any case
    for fx in ("DOTNET-ISOLATED|7.0", "dotnet-isolated|6.0", "Dotnet-Isolated|8.0"):
        assert site_runtimes({"linux_fx_version": fx})[0]["stack"] == "DOTNETCORE", fx
    assert site_runtimes({"linux_fx_version": "TOMCAT|10.0-java17"})[0]["stack"] == "JAVA"
    assert site_runtimes({"linux_fx_version": "DOCKER|nginx:1.27", "php_version": "5.6"}) == []


def test_windows_fields_are_read_but_net_framework_4_and_off_are_not_runtimes() -> None:
    config = {"linux_fx_version": "", "net_framework_version": "v4.0", "php_version": "OFF",
              "python_version": "", "node_version": "~14", "java_version": None}
    assert site_runtimes(config) == [{"stack": "NODE", "version": "~14", "source": "nodeVersion"}]
    assert site_runtimes({"net_framework_version": "v6.0"}) == [
        {"stack": "DOTNETCORE", "version": "v6.0", "source": "netFrameworkVersion"}]
    assert site_runtimes({"windows_fx_version": "DOCKER|mcr.microsoft.com/iis", "php_version": "7.4"}) == []


def test_end_of_life_is_judged_on_the_given_day() -> None:
    rts = [{"stack": "PYTHON", "version": "3.8", "source": "linuxFxVersion"},
           {"stack": "DOTNETCORE", "version": "v6.0", "source": "netFrameworkVersion"},
           {"stack": "GO", "version": "1.19", "source": "linuxFxVersion"}]
    assert [(r["end_of_life"], r["end_of_life_reached"]) for r in assess(rts, JUNE_2024)] == [
        ("2024-10-07", False), ("2024-11-12", False), (None, False)]
    assert [r["end_of_life_reached"] for r in assess(rts, date(2024, 12, 1))] == [True, True, False]


def test_app_attributes_list_end_of_life_runtimes_on_the_collection_date() -> None:
    site = SimpleNamespace(kind="app", https_only=True, public_network_access="Enabled", tags={})
    config = SimpleNamespace(linux_fx_version="PHP|8.0", min_tls_version="1.2", ftps_state="Disabled")
    assert app_attributes(site, config, today=date(2023, 11, 1))["eol_runtimes"] == []
    assert app_attributes(site, config, today=date(2023, 11, 26))["eol_runtimes"] == ["PHP|8.0"]


def test_every_end_of_life_date_is_iso_and_every_stack_has_a_source() -> None:
    import yaml
    from posture_azure.runtimes import DATA

    sources = yaml.safe_load(DATA.read_text(encoding="utf-8"))["sources"]
    for stack, versions in end_of_life_table().items():
        assert stack in sources, stack
        for version, day in versions.items():
            date.fromisoformat(day)
            assert normalise(stack, version) == version, (stack, version)
