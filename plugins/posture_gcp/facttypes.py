"""The fact types the GCP provider collects, and which collector (API) feeds each.

SDK-free so ``posture --help`` and plugin listing stay fast.
"""

from __future__ import annotations

#: collector (one Google API, one work unit per project) -> {fact type: description}
COLLECTOR_FACT_TYPES: dict[str, dict[str, str]] = {
    "resourcemanager": {
        "gcp.resourcemanager.project": "A project: state, parent, labels",
        "gcp.resourcemanager.iam_policy": "A project's IAM policy: bindings, public/primitive grants, audit configs",
    },
    "iam": {
        "gcp.iam.service_account": "A service account and its user-managed keys (ids, ages; never key material)",
        "gcp.iam.service_account_key": "A user-managed service account key and when it last authenticated "
                                       "(Policy Analyzer activity)",
    },
    "storage": {
        "gcp.storage.bucket": "A Cloud Storage bucket: IAM exposure, uniform access, versioning, retention, logging",
    },
    "compute": {
        "gcp.compute.firewall": "A VPC firewall rule",
        "gcp.compute.network": "A VPC network (default / legacy)",
        "gcp.compute.subnetwork": "A subnetwork (flow logs, private Google access)",
        "gcp.compute.instance": "A VM instance: public IPs, OS Login, serial port, Shielded VM, service account",
        "gcp.compute.image": "A custom disk image and who it is shared with (IAM policy)",
        "gcp.compute.snapshot": "A disk snapshot and who it is shared with (IAM policy)",
    },
    "compute_project": {
        "gcp.compute.project": "Compute Engine project-wide metadata: OS Login, serial port, how many project SSH keys",
    },
    "dns": {
        "gcp.dns.managed_zone": "A Cloud DNS zone: visibility, DNSSEC state and key algorithms",
        "gcp.dns.network": "A VPC network's DNS server policies and whether they log queries",
    },
    "monitoring": {
        "gcp.monitoring.change_alerts": "Which security-relevant changes a log-based metric + alert policy pair "
                                        "reports (one fact per project)",
    },
    "sql": {
        "gcp.sql.instance": "A Cloud SQL instance: public IP, authorized networks, SSL, backups, flags",
    },
    "kms": {
        "gcp.kms.crypto_key": "A Cloud KMS key: purpose, rotation period",
    },
    "logging": {
        "gcp.logging.project": "A project's log sinks (one fact per project)",
        "gcp.logging.bucket": "A log bucket: retention, lock",
    },
    "essentialcontacts": {
        "gcp.essentialcontacts.project": "A project's essential contacts (categories only, no addresses)",
    },
    "securitycenter": {
        "gcp.securitycenter.identity_findings": "Active Security Health Analytics identity findings "
                                                "(MFA_NOT_ENFORCED) for a project's organization (counts only)",
    },
}

FACT_TYPES: dict[str, str] = {ft: d for group in COLLECTOR_FACT_TYPES.values() for ft, d in group.items()}
