"""Cloud Storage: buckets (one paginated list) and, where it can matter, each bucket's IAM policy.

A bucket with public access prevention *enforced* cannot be public whatever
its IAM policy says, so its policy is not fetched (one call saved per bucket).
The list asks for ``projection=full``: without uniform bucket-level access a
bucket's default object ACL can make every new object public, and the full
projection carries it at no extra request.

The ``storage.publicAccessPrevention`` organization policy constraint enforces prevention on every bucket
whose own setting is ``inherited``; it is read (once per project and scan) only when such a bucket exists,
and when enforced, no bucket IAM policy is fetched either.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, label_attributes, orgpolicy

BUCKET = "gcp.storage.bucket"
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}


def bucket_attributes(b: Any, bindings: list[dict[str, Any]] | None, org_enforced: bool | None = None,
                      org_errors: dict[str, str] | None = None) -> dict[str, Any]:
    """``org_enforced``: the project's ``storage.publicAccessPrevention`` constraint (None: not read/unknown)."""
    iam_cfg = b.iam_configuration
    pap = str(iam_cfg.public_access_prevention or "inherited")
    prevented = pap == "enforced" or org_enforced is True
    uniform = bool(iam_cfg.uniform_bucket_level_access_enabled)
    public = [{"role": x["role"], "member": m} for x in bindings or [] for m in sorted(x.get("members") or [])
              if m in PUBLIC_MEMBERS]
    # ACLs are ignored under uniform access and public ones refused under enforced prevention. The client's ACL
    # objects would re-fetch, so the listed resource is read directly.
    default_acl = [] if uniform or prevented else b._properties.get("defaultObjectAcl") or []
    default_acl_public = [{"role": e.get("role"), "entity": e.get("entity")} for e in default_acl
                          if e.get("entity") in PUBLIC_MEMBERS]
    logging = b.get_logging() or {}
    soft = getattr(b, "soft_delete_policy", None)
    soft_seconds = getattr(soft, "retention_duration_seconds", None) if soft is not None else None
    retention = b.retention_period
    return {
        "location": (b.location or "").lower(),
        "location_type": b.location_type,
        "storage_class": b.storage_class,
        "uniform_bucket_level_access": uniform,
        "public_access_prevention": pap,
        "org_policy_public_access_prevention": org_enforced,
        "org_policy_errors": dict(org_errors or {}),
        "iam_policy_read": bindings is not None,
        "public_grants": public,
        "default_object_acl_public": default_acl_public,
        "versioning_enabled": bool(b.versioning_enabled),
        "retention_period_days": int(retention) // 86400 if retention else 0,
        "retention_locked": bool(b.retention_policy_locked),
        "soft_delete_days": int(soft_seconds) // 86400 if soft_seconds else 0,
        "logging_enabled": bool(logging.get("logBucket")),
        "cmek_enabled": bool(b.default_kms_key_name),
        **label_attributes(b.labels),
    }


@collector("storage", level="project", facts={
    "gcp.storage.bucket": 'A Cloud Storage bucket: IAM exposure, uniform access, versioning, retention, logging',
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(BUCKET):
        client = clients.storage(project)
        buckets = list(client.list_buckets(project=project, projection="full", retry=clients.retry(), timeout=60))
        org: dict[str, bool | None] = {orgpolicy.PUBLIC_ACCESS_PREVENTION: None}
        org_errors: dict[str, str] = {}
        if any(str(b.iam_configuration.public_access_prevention) != "enforced" for b in buckets):
            org, org_errors = orgpolicy.constraints(ctx, [orgpolicy.PUBLIC_ACCESS_PREVENTION])
        org_enforced = org[orgpolicy.PUBLIC_ACCESS_PREVENTION]

        def policy_of(b: Any) -> Any:
            if org_enforced or str(b.iam_configuration.public_access_prevention) == "enforced":
                return None
            try:
                policy = b.get_iam_policy(requested_policy_version=3, retry=clients.retry(), timeout=60)
                return [{"role": x["role"], "members": set(x.get("members") or [])} for x in policy.bindings]
            except Exception as exc:  # recorded per bucket below
                return exc

        for b, bindings in ctx.fan_out(policy_of, buckets):
            if isinstance(bindings, BaseException):
                ctx.fail([BUCKET], bindings, region=(b.location or "global").lower(),
                          where=f"IAM policy of bucket {b.name}")
                continue
            attrs = bucket_attributes(b, bindings, org_enforced, org_errors)
            ctx.add(BUCKET, f"//storage.googleapis.com/projects/_/buckets/{b.name}", b.name,
                    attrs["location"] or "global", attrs)
