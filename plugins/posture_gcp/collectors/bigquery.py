"""BigQuery (discovery client, v2): datasets (access and default key) and tables (customer-managed keys).

Datasets: ``datasets.list``, then ``datasets.get`` per dataset (the list carries neither access entries nor
the default key), concurrently and bounded. Tables: ``tables.list`` has no encryption settings, so without
Cloud Asset Inventory each table costs a ``tables.get``; the inventory's ``kmsKeys`` answer for every table
in one paged search, and only tables it shows without a key are read (to confirm, and to skip views).
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, cai, collector, label_attributes, pages

DATASET, TABLE = "gcp.bigquery.dataset", "gcp.bigquery.table"
TABLE_ASSET = "bigquery.googleapis.com/Table"
PUBLIC = {"allUsers", "allAuthenticatedUsers"}


def dataset_attributes(ds: dict[str, Any]) -> dict[str, Any]:
    public = []
    for entry in ds.get("access") or []:
        who = entry.get("specialGroup") or entry.get("iamMember")
        if who in PUBLIC:
            public.append({"role": entry.get("role"), "member": who})
    return {
        "location": ds.get("location"),
        "public_grants": public,
        "default_cmek": bool((ds.get("defaultEncryptionConfiguration") or {}).get("kmsKeyName")),
        **label_attributes(ds.get("labels")),
    }


def table_attributes(dataset: str, table_type: str | None, kms_keys: list[str], source: str) -> dict[str, Any]:
    return {"dataset": dataset, "table_type": table_type, "cmek_enabled": bool(kms_keys), "source": source}


def _datasets(ctx: GcpContext) -> list[dict[str, Any]]:
    clients = ctx.clients
    return list(pages(clients, lambda token: clients.discovery("bigquery", "v2").datasets().list(
        projectId=ctx.project, all=True, pageToken=token), "datasets"))


def _dataset_id(ds: dict[str, Any]) -> str:
    return str((ds.get("datasetReference") or {}).get("datasetId", ""))


def _collect_datasets(ctx: GcpContext, listed: list[dict[str, Any]]) -> None:
    clients, project = ctx.clients, ctx.project

    def get(ds: dict[str, Any]) -> dict[str, Any]:
        return clients.execute(clients.discovery("bigquery", "v2").datasets().get(
            projectId=project, datasetId=_dataset_id(ds)))

    for _, ds in ctx.fan_out(get, listed):
        name = _dataset_id(ds)
        ctx.add(DATASET, f"//bigquery.googleapis.com/projects/{project}/datasets/{name}", name,
                ds.get("location") or "global", dataset_attributes(ds))


def _tables_from_inventory(ctx: GcpContext, found: list[dict[str, Any]]) -> None:
    """Tables with a key in the inventory pass as they are; only those without one are read (``tables.get``)
    to confirm it and learn their type (the inventory does not say whether a table is a view)."""
    clients, project = ctx.clients, ctx.project

    def split(r: dict[str, Any]) -> tuple[str, str]:
        parts = str(r.get("name", "")).split("/")  # //bigquery.googleapis.com/projects/P/datasets/D/tables/T
        return (parts[parts.index("datasets") + 1] if "datasets" in parts else ""), parts[-1]

    def keys_of(r: dict[str, Any]) -> list[str]:
        return list(r.get("kmsKeys") or ([r["kmsKey"]] if r.get("kmsKey") else []))

    def get(r: dict[str, Any]) -> dict[str, Any]:
        dataset, table = split(r)
        return clients.execute(clients.discovery("bigquery", "v2").tables().get(
            projectId=project, datasetId=dataset, tableId=table))

    checked = dict(ctx.fan_out(lambda i: get(found[i]), [i for i, r in enumerate(found) if not keys_of(r)]))
    for i, r in enumerate(found):
        dataset, table = split(r)
        if i in checked:
            t = checked[i]
            key = (t.get("encryptionConfiguration") or {}).get("kmsKeyName")
            attrs = table_attributes(dataset, t.get("type"), [key] if key else [], "cloudasset+bigquery")
        else:
            attrs = table_attributes(dataset, None, keys_of(r), "cloudasset")
        ctx.add(TABLE, str(r.get("name", "")), f"{dataset}.{table}", r.get("location") or "global", attrs)


def _tables_from_service(ctx: GcpContext, listed: list[dict[str, Any]]) -> None:
    clients, project = ctx.clients, ctx.project

    def tables_of(ds: dict[str, Any]) -> list[dict[str, Any]]:
        found = list(pages(clients, lambda token: clients.discovery("bigquery", "v2").tables().list(
            projectId=project, datasetId=_dataset_id(ds), pageToken=token), "tables"))
        return [clients.execute(clients.discovery("bigquery", "v2").tables().get(
            projectId=project, datasetId=_dataset_id(ds), tableId=t["tableReference"]["tableId"])) for t in found]

    for _, tables in ctx.fan_out(tables_of, listed):
        for t in tables:
            ref = t.get("tableReference") or {}
            dataset, table = ref.get("datasetId", ""), ref.get("tableId", "")
            key = (t.get("encryptionConfiguration") or {}).get("kmsKeyName")
            ctx.add(TABLE, f"//bigquery.googleapis.com/projects/{project}/datasets/{dataset}/tables/{table}",
                    f"{dataset}.{table}", t.get("location") or "global",
                    table_attributes(dataset, t.get("type"), [key] if key else [], "bigquery"))


@collector("bigquery", level="project", facts={
    "gcp.bigquery.dataset": "A BigQuery dataset: public access entries, default customer-managed key",
    "gcp.bigquery.table": "A BigQuery table and whether a customer-managed key encrypts it",
})
def collect(ctx: GcpContext) -> None:
    listed: list[dict[str, Any]] | None = None
    if ctx.wants(DATASET):
        with ctx.feeding(DATASET):
            listed = _datasets(ctx)
            _collect_datasets(ctx, listed)
    if ctx.wants(TABLE):
        with ctx.feeding(TABLE):
            found = cai.search(ctx, TABLE_ASSET)
            if found is not None:
                _tables_from_inventory(ctx, found)
            else:
                _tables_from_service(ctx, listed if listed is not None else _datasets(ctx))

