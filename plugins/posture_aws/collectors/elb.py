"""ELBv2 (ALB/NLB) listeners: protocol and TLS policy; one DescribeListeners per load balancer."""

from __future__ import annotations

from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext

FT = "aws.elbv2.listener"
TLS_PROTOCOLS = ("HTTPS", "TLS")
#: lowest TLS version accepted by the predefined ELB security policies
POLICY_MIN_TLS = {
    "ELBSecurityPolicy-2016-08": "1.0", "ELBSecurityPolicy-2015-05": "1.0", "ELBSecurityPolicy-TLS-1-0-2015-04": "1.0",
    "ELBSecurityPolicy-TLS-1-1-2017-01": "1.1", "ELBSecurityPolicy-TLS-1-2-2017-01": "1.2",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": "1.2", "ELBSecurityPolicy-FS-2018-06": "1.0",
    "ELBSecurityPolicy-FS-1-1-2019-08": "1.1", "ELBSecurityPolicy-FS-1-2-2019-08": "1.2",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08": "1.2", "ELBSecurityPolicy-FS-1-2-Res-2020-10": "1.2",
}


def min_tls_version(policy: str | None) -> str | None:
    if not policy:
        return None
    if policy in POLICY_MIN_TLS:
        return POLICY_MIN_TLS[policy]
    if "TLS13-1-3" in policy:
        return "1.3"
    if "TLS13-1-2" in policy or "TLS-1-2" in policy or "FS-1-2" in policy:
        return "1.2"
    if "TLS13-1-1" in policy or "TLS-1-1" in policy or "FS-1-1" in policy:
        return "1.1"
    return "1.0" if "TLS13-1-0" in policy else None


def _redirects_to_https(listener: dict[str, Any]) -> bool:
    return any(a.get("Type") == "redirect" and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
               for a in listener.get("DefaultActions", []))


@collector("elbv2", level="region", facts={
    "aws.elbv2.listener": 'ALB/NLB listeners: protocol, TLS policy',
})
def collect_listeners(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        elb = ctx.client("elbv2")
        lbs = list(ctx.pages(elb, "describe_load_balancers", "LoadBalancers"))
        results = ctx.parallel(lambda lb: list(ctx.pages(elb, "describe_listeners", "Listeners",
                                                         LoadBalancerArn=lb["LoadBalancerArn"])), lbs)
        for lb, listeners, exc in results:
            if exc is not None:
                raise exc
            for ls in listeners or []:
                tls = ls.get("Protocol") in TLS_PROTOCOLS
                ctx.add(FT, ls["ListenerArn"], f"{lb['LoadBalancerName']}:{ls.get('Port')}", None, {
                    "load_balancer": lb["LoadBalancerName"], "scheme": lb.get("Scheme"),
                    "protocol": ls.get("Protocol"), "port": ls.get("Port"), "tls": tls,
                    "redirects_to_https": _redirects_to_https(ls),
                    "ssl_policy": ls.get("SslPolicy"), "min_tls_version": min_tls_version(ls.get("SslPolicy")),
                })


LB = "aws.elbv2.load_balancer"


@collector("elbv2_waf", level="region", facts={
    "aws.elbv2.load_balancer": 'load balancers: scheme, and the WAF web ACL of internet-facing ALBs',
})
def collect_load_balancers(ctx: AwsContext) -> None:
    """Internet-facing Application Load Balancers and the AWS WAF web ACL protecting each
    (``GetWebACLForResource`` per internet-facing ALB; internal and network load balancers need no call)."""
    with ctx.feeding(LB):
        lbs = list(ctx.pages(ctx.client("elbv2"), "describe_load_balancers", "LoadBalancers"))
        exposed = [lb for lb in lbs if lb.get("Scheme") == "internet-facing" and lb.get("Type") == "application"]
        waf = ctx.client("wafv2") if exposed else None

        def acl(lb: dict[str, Any]) -> str | None:
            found = waf.get_web_acl_for_resource(ResourceArn=lb["LoadBalancerArn"]).get("WebACL") or {}
            return found.get("Name")

        acls = {lb["LoadBalancerArn"]: (name, exc) for lb, name, exc in ctx.parallel(acl, exposed)}
        for lb in lbs:
            name, exc = acls.get(lb["LoadBalancerArn"], (None, None))
            if exc is not None:
                raise exc
            ctx.add(LB, lb["LoadBalancerArn"], lb["LoadBalancerName"], None, {
                "type": lb.get("Type"), "scheme": lb.get("Scheme"), "web_acl": name,
                "waf_protected": name is not None,
            })
