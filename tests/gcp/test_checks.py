"""Every GCP check against the fake's fixtures: exact status per resource.

The facts come from a real collection (google-cloud REST and discovery
clients talking to the fake GCP server), so these tests prove collectors and
check conditions together. Each check has compliant and non-compliant
resources; ``test_every_check_has_pass_and_fail`` keeps it that way.
"""

from __future__ import annotations

from typing import Any

import pytest

from posture.checks import Check
from posture.facts import FactSet

PARAMS: dict[str, Any] = {
    "max_access_key_age_days": 365, "admin_ports": [22, 3389], "min_backup_retention_days": 7,
    "max_key_rotation_days": 365, "min_log_retention_days": 90, "required_tags": ["owner"],
    "max_credential_unused_days": 90,
}

EXPECTED: dict[str, dict[tuple[str, str], str]] = {
    "gcp.apikeys.key.api_restricted": {
        ("bad-project", "legacy-integration"): "fail",
        ("bad-project", "maps-frontend"): "pass",
    },
    "gcp.apikeys.key.rotated": {
        ("bad-project", "legacy-integration"): "fail",
        ("bad-project", "maps-frontend"): "pass",
    },
    "gcp.apikeys.project.no_api_keys": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.bigquery.dataset.default_cmek": {
        ("bad-project", "errors"): "pass",
        ("bad-project", "exports"): "fail",
        ("good-project", "analytics"): "pass",
    },
    "gcp.bigquery.dataset.not_public": {
        ("bad-project", "errors"): "fail",
        ("bad-project", "exports"): "fail",
        ("good-project", "analytics"): "pass",
    },
    "gcp.bigquery.table.cmek": {
        ("bad-project", "exports.orders"): "fail",
        ("bad-project", "exports.orders_view"): "not_applicable",
        ("good-project", "analytics.daily_view"): "not_applicable",
        ("good-project", "analytics.events"): "pass",
        ("good-project", "analytics.scratch"): "fail",
    },
    "gcp.compute.address.in_use": {
        ("bad-project", "spare-ip"): "fail",
        ("good-project", "web-ip"): "pass",
    },
    "gcp.compute.backend_service.cloud_armor": {
        ("bad-project", "api"): "not_applicable",
        ("bad-project", "shop"): "fail",
        ("good-project", "db-tcp"): "not_applicable",
        ("good-project", "web"): "pass",
    },
    "gcp.compute.backend_service.logging": {
        ("bad-project", "api"): "fail",
        ("bad-project", "shop"): "fail",
        ("good-project", "db-tcp"): "not_applicable",
        ("good-project", "web"): "pass",
    },
    "gcp.compute.disk.attached": {
        ("bad-project", "old-data"): "fail",
        ("bad-project", "vm-public"): "pass",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.firewall.admin_ports_closed": {
        ("bad-project", "allow-everything-v6"): "fail",
        ("bad-project", "allow-port-range"): "fail",
        ("bad-project", "allow-rdp-internal"): "pass",
        ("bad-project", "allow-tcp-all-ports"): "fail",
        ("bad-project", "allow-udp-22"): "pass",
        ("bad-project", "default-allow-ssh"): "fail",
        ("bad-project", "disabled-open-ssh"): "pass",
        ("bad-project", "egress-all"): "pass",
        ("good-project", "allow-https"): "pass",
        ("good-project", "allow-iap-ssh"): "pass",
        ("good-project", "deny-all-egress"): "pass",
    },
    "gcp.compute.image.not_public": {
        ("bad-project", "shared-with-world"): "fail",
        ("good-project", "golden-2024"): "pass",
    },
    "gcp.compute.instance.block_project_ssh_keys": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.confidential_computing": {
        ("bad-project", "gke-pool-1-abcd"): "fail",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.default_sa_not_full_access": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.disks_csek": {
        ("bad-project", "gke-pool-1-abcd"): "fail",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.ip_forwarding_disabled": {
        ("bad-project", "gke-pool-1-abcd"): "not_applicable",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.no_default_service_account": {
        ("bad-project", "gke-pool-1-abcd"): "not_applicable",
        ("bad-project", "vm-mixed"): "fail",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.no_public_ip": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.os_login": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.required_labels": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.secure_boot": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.serial_port_disabled": {
        ("bad-project", "gke-pool-1-abcd"): "fail",
        ("bad-project", "vm-mixed"): "pass",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.instance.shielded_vm_integrity": {
        ("bad-project", "gke-pool-1-abcd"): "pass",
        ("bad-project", "vm-mixed"): "fail",
        ("bad-project", "vm-public"): "fail",
        ("good-project", "web-1"): "pass",
    },
    "gcp.compute.network.not_default": {
        ("bad-project", "default"): "fail",
        ("bad-project", "legacy-net"): "pass",
        ("good-project", "prod-vpc"): "pass",
    },
    "gcp.compute.network.not_legacy": {
        ("bad-project", "default"): "pass",
        ("bad-project", "legacy-net"): "fail",
        ("good-project", "prod-vpc"): "pass",
    },
    "gcp.compute.project.no_project_ssh_keys": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.compute.project.os_login": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.compute.project.serial_port_disabled": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.compute.snapshot.not_public": {
        ("bad-project", "db-export"): "fail",
        ("good-project", "web-1-daily"): "pass",
    },
    "gcp.compute.subnetwork.flow_logs": {
        ("bad-project", "default"): "fail",
        ("good-project", "prod-subnet"): "pass",
        ("good-project", "proxy-only"): "not_applicable",
    },
    "gcp.compute.target_http_proxy.redirects_to_https": {
        ("bad-project", "shop-http"): "fail",
        ("good-project", "web-http"): "pass",
    },
    "gcp.container.cluster.node_auto_upgrade": {
        ("bad-project", "legacy"): "fail",
        ("good-project", "autopilot"): "not_applicable",
        ("good-project", "prod"): "pass",
    },
    "gcp.dataproc.cluster.cmek": {
        ("bad-project", "spark-dev"): "fail",
        ("bad-project", "spark-prod"): "pass",
        ("good-project", "etl"): "pass",
    },
    "gcp.dns.managed_zone.dnssec_enabled": {
        ("bad-project", "legacy-example"): "pass",
        ("bad-project", "mixed-example"): "fail",
        ("bad-project", "shop-example"): "fail",
        ("good-project", "example-com"): "pass",
        ("good-project", "internal"): "not_applicable",
    },
    "gcp.dns.managed_zone.ksk_not_rsasha1": {
        ("bad-project", "legacy-example"): "fail",
        ("bad-project", "mixed-example"): "pass",
        ("bad-project", "shop-example"): "not_applicable",
        ("good-project", "example-com"): "pass",
        ("good-project", "internal"): "not_applicable",
    },
    "gcp.dns.managed_zone.zsk_not_rsasha1": {
        ("bad-project", "legacy-example"): "fail",
        ("bad-project", "mixed-example"): "fail",
        ("bad-project", "shop-example"): "not_applicable",
        ("good-project", "example-com"): "pass",
        ("good-project", "internal"): "not_applicable",
    },
    "gcp.dns.network.query_logging": {
        ("bad-project", "default"): "fail",
        ("bad-project", "legacy-net"): "fail",
        ("good-project", "prod-vpc"): "pass",
    },
    "gcp.essentialcontacts.organization.all_categories": {
        ("bad-project", "organizations/100"): "pass",
        ("good-project", "organizations/100"): "pass",
    },
    "gcp.essentialcontacts.project.security_contact": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.functions.function.no_secret_like_env": {
        ("bad-project", "resize"): "pass",
        ("bad-project", "webhook"): "fail",
        ("good-project", "ingest"): "pass",
    },
    "gcp.iam.service_account.keys_rotated": {
        ("bad-project", "222222222222-compute@developer.gserviceaccount.com"): "pass",
        ("bad-project", "deployer@bad-project.iam.gserviceaccount.com"): "fail",
        ("good-project", "app-sa@good-project.iam.gserviceaccount.com"): "not_applicable",
        ("good-project", "ci-sa@good-project.iam.gserviceaccount.com"): "pass",
    },
    "gcp.iam.service_account.no_user_managed_keys": {
        ("bad-project", "222222222222-compute@developer.gserviceaccount.com"): "fail",
        ("bad-project", "deployer@bad-project.iam.gserviceaccount.com"): "fail",
        ("good-project", "app-sa@good-project.iam.gserviceaccount.com"): "pass",
        ("good-project", "ci-sa@good-project.iam.gserviceaccount.com"): "fail",
    },
    "gcp.iam.service_account_key.unused_disabled": {
        ("bad-project", "222222222222-compute@developer.gserviceaccount.com/bb00"): "pass",  # disabled
        ("bad-project", "222222222222-compute@developer.gserviceaccount.com/bb01"): "pass",  # used 2 days ago
        ("bad-project", "deployer@bad-project.iam.gserviceaccount.com/aa01"): "fail",  # last used 200 days ago
        ("good-project", "ci-sa@good-project.iam.gserviceaccount.com/9f1e0c"): "pass",  # never used, 10 days old
    },
    "gcp.kms.crypto_key.rotation": {
        ("bad-project", "no-rotation-key"): "fail",
        ("bad-project", "slow-key"): "fail",
        ("good-project", "data-key"): "pass",
        ("good-project", "sign-key"): "not_applicable",
    },
    "gcp.kms.crypto_key_policy.not_public": {
        ("bad-project", "no-rotation-key"): "pass",
        ("bad-project", "slow-key"): "fail",
        ("good-project", "data-key"): "pass",
        ("good-project", "sign-key"): "pass",
    },
    "gcp.logging.bucket.cmek": {
        ("bad-project", "_Default"): "fail",
        ("bad-project", "_Required"): "fail",
        ("good-project", "_Default"): "pass",
        ("good-project", "_Required"): "fail",
    },
    "gcp.logging.bucket.retention": {
        ("bad-project", "_Default"): "fail",
        ("bad-project", "_Required"): "pass",
        ("good-project", "_Default"): "pass",
        ("good-project", "_Required"): "pass",
    },
    "gcp.logging.project.export_all_logs": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.logging.sink_destination.bucket_lock": {
        ("bad-project", "bad-log-archive"): "fail",
        ("good-project", "good-log-archive"): "pass",
    },
    "gcp.monitoring.change_alerts.audit_config": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.custom_role": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.firewall_rule": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.network": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.project_ownership": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.route": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.sql_config": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.monitoring.change_alerts.storage_iam": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.admin_read_audit_logs": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.data_access_audit_logs": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.default_service_accounts_not_privileged": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.kms_duties_separated": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.no_admin_roles_for_service_accounts": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.no_individual_user_grants": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.no_primitive_roles_for_service_accounts": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.no_primitive_roles_for_users": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.no_project_wide_impersonation": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.no_public_members": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.iam_policy.service_account_duties_separated": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.resourcemanager.project.required_labels": {
        ("bad-project", "Bad project"): "fail",
        ("good-project", "Good project"): "pass",
    },
    "gcp.secretmanager.secret.expires_or_rotates": {
        ("bad-project", "forever"): "fail",
        ("bad-project", "rotating"): "pass",
        ("good-project", "db-password"): "pass",
        ("good-project", "temp-token"): "pass",
    },
    "gcp.securitycenter.identity_findings.mfa_enforced": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.securitycenter.services.event_threat_detection": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.securitycenter.services.security_health_analytics": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.serviceusage.project.cloud_asset_inventory": {
        ("bad-project", "bad-project"): "fail",
        ("good-project", "good-project"): "pass",
    },
    "gcp.sql.instance.automated_backups": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.cmek": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.deletion_protection": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.mysql_local_infile_off": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.mysql_skip_show_database": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "pass",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.no_open_authorized_networks": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "pass",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.no_public_ip": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_connection_logging": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_log_error_verbosity": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_log_min_duration_statement_off": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_log_min_error_statement": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_log_min_messages": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_log_statement": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.postgres_pgaudit": {
        ("bad-project", "mssql-weak"): "not_applicable",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "not_applicable",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.required_labels": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "pass",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.sqlserver_contained_database_authentication_off": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.sqlserver_cross_db_ownership_chaining_off": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.sqlserver_external_scripts_off": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.sqlserver_remote_access_off": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.sqlserver_trace_flag_3625": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.sqlserver_user_connections_unlimited": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.sqlserver_user_options_unset": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "not_applicable",
        ("bad-project", "mysql-public"): "not_applicable",
        ("bad-project", "pg-weak"): "not_applicable",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "not_applicable",
        ("good-project", "pg-main"): "not_applicable",
        ("good-project", "pg-replica"): "not_applicable",
    },
    "gcp.sql.instance.ssl_required": {
        ("bad-project", "mssql-weak"): "fail",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "fail",
        ("bad-project", "pg-weak"): "pass",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.sql.instance.supported_version": {
        ("bad-project", "mssql-weak"): "pass",
        ("bad-project", "mysql-57"): "fail",
        ("bad-project", "mysql-public"): "pass",
        ("bad-project", "pg-weak"): "fail",
        ("good-project", "mssql-main"): "pass",
        ("good-project", "mysql-main"): "pass",
        ("good-project", "pg-main"): "pass",
        ("good-project", "pg-replica"): "pass",
    },
    "gcp.storage.bucket.access_logging": {
        ("bad-project", "bad-default-acl"): "fail",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "fail",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.bucket.cmek": {
        ("bad-project", "bad-default-acl"): "fail",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "fail",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.bucket.geo_redundant": {
        ("bad-project", "bad-default-acl"): "fail",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "pass",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.bucket.not_public": {
        ("bad-project", "bad-default-acl"): "fail",
        ("bad-project", "bad-legacy-acl"): "pass",
        ("bad-project", "bad-public-data"): "fail",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.bucket.public_access_prevention": {
        ("bad-project", "bad-default-acl"): "fail",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "fail",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "fail",
    },
    "gcp.storage.bucket.required_labels": {
        ("bad-project", "bad-default-acl"): "pass",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "fail",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.bucket.uniform_access": {
        ("bad-project", "bad-default-acl"): "fail",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "pass",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.bucket.versioning_or_retention": {
        ("bad-project", "bad-default-acl"): "pass",
        ("bad-project", "bad-legacy-acl"): "fail",
        ("bad-project", "bad-public-data"): "fail",
        ("good-project", "good-data"): "pass",
        ("good-project", "good-website-assets"): "pass",
    },
    "gcp.storage.hmac_key.inactive": {
        ("bad-project", "GOOG1EACTIVEKEY"): "fail",
        ("good-project", "GOOG1EOLDKEY"): "pass",
    },
}





#: Organization-level checks: good- and bad-project share organizations/100, so their contrast is a project of
#: another organization (ancestors.json: inheriting-project under organizations/800).
OTHER_PROJECTS: dict[str, dict[tuple[str, str], str]] = {
    "gcp.essentialcontacts.organization.all_categories": {("inheriting-project", "organizations/800"): "fail"},
}


def _statuses(check: Check, facts: FactSet, params: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f.scope, f.name): check.evaluate(f, params).status
            for f in facts.facts if f.type == check.fact_type and f.scope in ("good-project", "bad-project")}


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_check_gives_the_expected_status_for_every_fixture_resource(
        check_id: str, gcp_checks: dict[str, Check], collected: FactSet) -> None:
    assert _statuses(gcp_checks[check_id], collected, PARAMS) == EXPECTED[check_id]


def test_every_registered_gcp_check_is_in_the_expected_table(gcp_checks: dict[str, Check]) -> None:
    assert set(gcp_checks) == set(EXPECTED)
    assert len(gcp_checks) >= 25


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_every_check_has_pass_and_fail(check_id: str) -> None:
    statuses = set(EXPECTED[check_id].values()) | set(OTHER_PROJECTS.get(check_id, {}).values())
    assert {"pass", "fail"} <= statuses


def test_key_age_limit_follows_the_tier_parameter(gcp_checks: dict[str, Check], collected: FactSet) -> None:
    """The 100-day-old key passes at 365 days and fails at a 90-day tier."""
    statuses = _statuses(gcp_checks["gcp.iam.service_account.keys_rotated"], collected,
                         {**PARAMS, "max_access_key_age_days": 90})
    assert statuses[("bad-project", "222222222222-compute@developer.gserviceaccount.com")] == "fail"


def test_admin_ports_parameter_extends_to_more_ports(gcp_checks: dict[str, Check], collected: FactSet) -> None:
    """allow-https opens 443 and 8443-8444: compliant by default, not when 8443 is an admin port."""
    check = gcp_checks["gcp.compute.firewall.admin_ports_closed"]
    fact = next(f for f in collected.facts if f.name == "allow-https")
    outcome = check.evaluate(fact, {**PARAMS, "admin_ports": [22, 8443]})
    assert outcome.status == "fail"
    assert outcome.evidence["exposed_admin_ports"] == [8443]


def test_required_labels_parameter_names_the_missing_labels(gcp_checks: dict[str, Check],
                                                           collected: FactSet) -> None:
    check = gcp_checks["gcp.resourcemanager.project.required_labels"]
    fact = next(f for f in collected.facts if f.type == "gcp.resourcemanager.project" and f.scope == "good-project")
    outcome = check.evaluate(fact, {"required_tags": ["owner", "cost-center"]})
    assert (outcome.status, outcome.evidence["missing"]) == ("fail", ["cost-center"])


@pytest.mark.parametrize("check_id", sorted(OTHER_PROJECTS))
def test_organization_level_check_judges_each_organization(check_id: str, gcp_checks: dict[str, Check],
                                                           fake_gcp: Any) -> None:
    from posture_gcp.provider import GcpProvider

    from posture.collect import collect

    check = gcp_checks[check_id]
    provider = GcpProvider()
    projects = sorted({scope for scope, _ in OTHER_PROJECTS[check_id]})
    facts = collect([provider], {check.fact_type}, {"gcp_api_endpoint": fake_gcp.url, "gcp_max_retries": 2,
                                                   "project": projects}, concurrency=4)
    assert {(f.scope, f.name): check.evaluate(f, PARAMS).status for f in facts.facts} == OTHER_PROJECTS[check_id]
