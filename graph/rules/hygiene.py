"""Hygiene: configuration that opens doors silently or leaves no record.

- ``default-sg-has-rules``: a VPC's default security group has any rule;
- ``vpc-flow-logs-missing``: a VPC has no active flow log;
- ``unrestricted-egress``: a security group with an allow-all egress rule to 0.0.0.0/0
  or ::/0 lets an ENI of a protected zone open anything to the internet (through an IGW,
  NAT gateway or egress-only IGW);
- ``nacl-allow-all-ingress``: a subnet's network ACL admits every protocol and port from
  some part of the internet.
"""

from __future__ import annotations

from collections.abc import Iterator

from graph.cidr import ANY_V4, ANY_V6
from graph.ports import PortSet, Traffic
from graph.rules.base import ExposureRule, Facts, Found

DEFAULT_SG_HAS_RULES = ExposureRule(
    "default-sg-has-rules",
    "The default security group has rules",
    "low",
    ("IVS-04", "IVS-03"),
    "Resources launched without a chosen group land in the default group; rules there "
    "open them silently (CIS AWS Foundations 5.4).",
    "Remove every inbound and outbound rule from the default security group and use "
    "purpose-built groups.",
)
VPC_FLOW_LOGS_MISSING = ExposureRule(
    "vpc-flow-logs-missing",
    "VPC without flow logs",
    "medium",
    ("IVS-09", "LOG-05"),
    "Without flow logs there is no record of what talked to what: intrusions and "
    "exfiltration cannot be detected or investigated (CIS AWS Foundations 3.7).",
    "Enable VPC flow logs (all traffic) to CloudWatch Logs or S3 for every VPC.",
)
UNRESTRICTED_EGRESS = ExposureRule(
    "unrestricted-egress",
    "Protected workload may open anything to the internet",
    "low",
    ("IVS-03", "IVS-09"),
    "Unrestricted outbound access from production lets malware call home and data "
    "leave on any port.",
    "Replace the allow-all egress rule with the destinations and ports the workload "
    "needs (prefix lists, VPC endpoints, a proxy or AWS Network Firewall).",
    reads=("zones.protected",),
)
NACL_ALLOW_ALL_INGRESS = ExposureRule(
    "nacl-allow-all-ingress",
    "Network ACL admits all traffic from the internet",
    "low",
    ("IVS-03",),
    "A subnet ACL that admits every protocol and port from anywhere leaves security "
    "groups as the only layer of defence (CIS AWS Foundations 5.1).",
    "Deny inbound administration ports from 0.0.0.0/0 and ::/0 in the ACL and admit "
    "only the ports the subnet's services need, plus ephemeral return ports.",
)

RULES: tuple[ExposureRule, ...] = (
    DEFAULT_SG_HAS_RULES,
    VPC_FLOW_LOGS_MISSING,
    UNRESTRICTED_EGRESS,
    NACL_ALLOW_ALL_INGRESS,
)


def decide(facts: Facts) -> Iterator[Found]:
    """Hygiene findings, about VPCs, security groups and network ACLs."""
    yield from _flow_logs_missing(facts)
    yield from _default_groups_with_rules(facts)
    yield from _unrestricted_egress(facts)
    yield from _acls_allowing_all_ingress(facts)


def _flow_logs_missing(facts: Facts) -> Iterator[Found]:
    nodes = facts.graph.nodes
    for vpc_id, vpc in facts.net.vpcs.items():
        if not nodes[vpc_id].get("flow_logs"):
            yield Found(
                VPC_FLOW_LOGS_MISSING.id,
                vpc_id,
                vpc.account,
                vpc.region,
                vpc_id,
                vpc_id,
                path=[{"hop": vpc_id, "why": "no active flow log on the VPC"}],
            )


def _default_groups_with_rules(facts: Facts) -> Iterator[Found]:
    for sg in facts.net.sgs.values():
        if sg.name == "default" and (sg.ingress or sg.egress):
            hops = [{"hop": sg.id, "why": f"ingress {r.text}"} for r in sg.ingress]
            hops += [{"hop": sg.id, "why": f"egress {r.text}"} for r in sg.egress]
            yield Found(
                DEFAULT_SG_HAS_RULES.id,
                sg.id,
                sg.account,
                sg.region,
                sg.vpc_id,
                sg.vpc_id,
                path=hops,
            )


def _unrestricted_egress(facts: Facts) -> Iterator[Found]:
    net = facts.net
    wide = {ANY_V4, ANY_V6}
    open_groups = {
        sg.id
        for sg in net.sgs.values()
        if any(r.traffic.is_everything and r.cidr in wide for r in sg.egress)
    }
    for unit in net.units:
        if unit.kind != "eni" or not facts.policy.is_protected(unit.zone):
            continue
        culprits = sorted(unit.groups & open_groups)
        if not culprits:
            continue
        allowed, hops = net.internet_egress(unit)
        if not allowed.is_everything:
            continue
        for group in culprits:
            sg = net.sgs[group]
            yield Found(
                UNRESTRICTED_EGRESS.id,
                group,
                sg.account,
                sg.region,
                sg.vpc_id,
                f"zone:{unit.zone}",
                "all",
                PortSet.full(),
                path=[{"hop": unit.enis[0], "why": f"{unit.zone} ENI uses {group}"}, *hops],
            )


def _acls_allowing_all_ingress(facts: Facts) -> Iterator[Found]:
    net = facts.net
    used = {acl.id: acl for acl in net.subnet_acl.values()}
    for acl in used.values():
        prefixes = {e.cidr for e in acl.inbound}
        for family in (4, 6):
            hit = None
            for cell in net.internet_regions(prefixes, family):
                if net.acl_allows(acl, False, cell).is_everything:
                    hit = cell
                    break
            if hit is None:
                continue
            evidence = net.acl_evidence(acl, False, hit, Traffic.everything())
            why = "; ".join(f"inbound rule {n} allows {t.render()}" for n, t in evidence[:3])
            source = max(hit, key=lambda p: p.length)
            yield Found(
                NACL_ALLOW_ALL_INGRESS.id,
                acl.id,
                acl.account,
                acl.region,
                acl.vpc_id,
                "internet",
                "all",
                PortSet.full(),
                path=[
                    {"hop": "internet", "why": f"from {source}"},
                    {"hop": acl.id, "why": why},
                ],
            )
            break
