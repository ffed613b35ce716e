"""Cloud KMS: keys of every key ring in every location (locations listed first).

Only when the tier needs ``gcp.kms.crypto_key_policy`` (CIS 1.10), each key's IAM policy is read
(``cryptoKeys.getIamPolicy``, one per key, concurrently and bounded) for grants to allUsers /
allAuthenticatedUsers.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, label_attributes

KEY, POLICY = "gcp.kms.crypto_key", "gcp.kms.crypto_key_policy"
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}


def policy_attributes(policy: dict[str, Any]) -> dict[str, Any]:
    return {"public_grants": [{"role": b.get("role"), "member": m} for b in policy.get("bindings") or []
                              for m in b.get("members") or [] if m in PUBLIC_MEMBERS]}


def _seconds(duration: str | None) -> float | None:
    if not duration:
        return None
    return float(str(duration).rstrip("s"))


def key_attributes(k: dict[str, Any]) -> dict[str, Any]:
    seconds = _seconds(k.get("rotationPeriod"))
    primary = k.get("primary") or {}
    return {
        "purpose": k.get("purpose"),
        "key_ring": k.get("name", "").split("/cryptoKeys/")[0].rsplit("/", 1)[-1],
        "rotation_period_days": round(seconds / 86400, 2) if seconds is not None else None,
        "next_rotation_time": k.get("nextRotationTime"),
        "primary_state": primary.get("state"),
        "protection_level": (k.get("versionTemplate") or {}).get("protectionLevel"),
        **label_attributes(k.get("labels")),
    }


@collector("kms", level="project", facts={
    "gcp.kms.crypto_key": 'A Cloud KMS key: purpose, rotation period',
    "gcp.kms.crypto_key_policy": "A Cloud KMS key's IAM policy: grants to allUsers / allAuthenticatedUsers",
})
def collect(ctx: GcpContext) -> None:
    from google.cloud.location import locations_pb2

    project, clients = ctx.project, ctx.clients
    with ctx.feeding(KEY, POLICY):
        client = clients.kms()
        locations: list[str] = []
        token = ""
        while True:
            resp = client.list_locations(
                request=locations_pb2.ListLocationsRequest(name=f"projects/{project}", page_token=token),
                retry=clients.retry())
            locations += [loc.location_id for loc in resp.locations]
            token = resp.next_page_token
            if not token:
                break

        def keys_in(location: str) -> list[dict[str, Any]]:
            found = []
            parent = f"projects/{project}/locations/{location}"
            for ring in client.list_key_rings(parent=parent, retry=clients.retry()):
                for key in client.list_crypto_keys(parent=ring.name, retry=clients.retry()):
                    found.append(type(key).to_dict(key, preserving_proto_field_name=False,
                                                   use_integers_for_enums=False))
            return found

        found = [(location, k) for location, keys in ctx.fan_out(keys_in, locations) for k in keys]
        for location, k in found:
            ctx.add(KEY, f"//cloudkms.googleapis.com/{k['name']}", k["name"].rsplit("/", 1)[-1], location,
                    key_attributes(k))
        if ctx.wants(POLICY):
            from google.protobuf.json_format import MessageToDict

            def policy_of(name: str) -> dict[str, Any]:
                return MessageToDict(client.get_iam_policy(request={"resource": name}, retry=clients.retry()))

            for (location, k), (_, policy) in zip(found, ctx.fan_out(policy_of, [k["name"] for _, k in found]),
                                                  strict=True):
                ctx.add(POLICY, f"//cloudkms.googleapis.com/{k['name']}", k["name"].rsplit("/", 1)[-1], location,
                        policy_attributes(policy))
