"""Fact types by collector, without importing any SDK (``posture --help`` stays fast)."""

from __future__ import annotations

COLLECTOR_FACT_TYPES: dict[str, dict[str, str]] = {
    "storage": {
        "azure.storage.account": "Storage account: public access, HTTPS, TLS, shared key and key age, network, encryption",
        "azure.storage.blob_service": "Blob service of a storage account: soft delete and versioning",
    },
    "network": {"azure.network.nsg": "Network security group with its inbound rules (custom and default)"},
    "compute": {
        "azure.compute.vm": "Virtual machine: public IP addresses, managed disks, encryption at host, secure boot",
        "azure.compute.disk": "Managed disk: encryption type and key, network export policy",
    },
    "keyvault": {
        "azure.keyvault.vault": "Key vault: soft delete, purge protection, RBAC authorization, network access",
        "azure.keyvault.key": "Key vault key metadata: enabled, expiry, rotation policy",
        "azure.keyvault.secret": "Key vault secret metadata (never the value): enabled, expiry",
    },
    "sql": {
        "azure.sql.server": "Azure SQL logical server: public network access, TLS, Entra ID admin, auditing",
        "azure.sql.database": "Azure SQL database: transparent data encryption, backup retention",
    },
    "monitor": {"azure.monitor.activity_log": "Subscription activity log export: categories, destinations, retention"},
    "security": {
        "azure.security.pricing": "Defender for Cloud plan of one resource type: pricing tier",
        "azure.security.contacts": "Defender for Cloud security contacts of a subscription (presence, not addresses)",
        "azure.security.identity_assessments":
            "Defender for Cloud identity recommendations of a subscription: MFA, guest and blocked accounts",
    },
    "authorization": {
        "azure.authorization.role_assignment": "Role assignment visible in a subscription: role, principal type, scope",
        "azure.authorization.role_definition": "Custom role definition: actions and assignable scopes",
        "azure.authorization.subscription": "Subscription-level authorization: classic (co-)administrators",
    },
    "locks": {
        "azure.resources.critical_resource":
            "Critical resource (key vault, storage account, SQL server, recovery vault) and its locks",
    },
    "web": {"azure.web.app": "App Service / Functions app: HTTPS only, minimum TLS, FTP state, language runtime"},
}

FACT_TYPES: dict[str, str] = {ft: d for fts in COLLECTOR_FACT_TYPES.values() for ft, d in fts.items()}
