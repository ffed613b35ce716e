"""Security Command Center services of a project: Event Threat Detection and Security Health Analytics.

SCC v1beta2 ``projects.{eventThreatDetection,securityHealthAnalytics}Settings.calculate`` return the
*effective* enablement (a project set to ``INHERITED`` resolves to its folder's or organization's state),
one call each per project. SCC observes rather than holds resources, so a disabled or denied API leaves
TD-01 / TD-02 unassessable: an error with a hint, never not applicable.
"""

from __future__ import annotations

from posture_gcp.collectors import GcpContext, collector

SERVICES = "gcp.securitycenter.services"
HINT = ("threat detection cannot be assessed: activate Security Command Center and grant "
        "roles/securitycenter.settingsViewer")


@collector("securitycenter_services", level="project", facts={
    "gcp.securitycenter.services": "Effective Event Threat Detection and Security Health Analytics enablement",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    try:
        projects = clients.discovery("securitycenter", "v1beta2").projects()
        etd = clients.execute(projects.eventThreatDetectionSettings().calculate(
            name=f"projects/{project}/eventThreatDetectionSettings"))
        sha = clients.execute(projects.securityHealthAnalyticsSettings().calculate(
            name=f"projects/{project}/securityHealthAnalyticsSettings"))
    except Exception as exc:
        ctx.fail([SERVICES], exc, where="Security Command Center settings", hint=HINT)
        return
    with ctx.feeding(SERVICES):
        ctx.add(SERVICES, f"//securitycenter.googleapis.com/projects/{project}", project, "global", {
            "event_threat_detection": etd.get("serviceEnablementState") or "ENABLEMENT_STATE_UNSPECIFIED",
            "security_health_analytics": sha.get("serviceEnablementState") or "ENABLEMENT_STATE_UNSPECIFIED",
        })

