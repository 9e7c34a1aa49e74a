"""The exposure rules, declared as data: id, severity, CCM controls, rationale and
remediation. ``graph.findings`` decides when each fires; reports (JSON, SARIF, HTML,
Security Hub) read the words from here and repeat none of them.

The ids are part of the findings contract (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.vocabulary import SEVERITY_RANK, Severity, at_or_above

#: Internet sources holding fewer public addresses than this, per address family, are
#: named parties (an office, a partner, a vendor's ranges), not the internet at large.
#: IPv4: 2**24 addresses, a /8 in total: the largest single allocations ever made (whole
#: legacy class A blocks) are /8s, so anything narrower is a bounded set of networks that
#: someone chose, while 0.0.0.0/0 and its big halves are every scanner on earth. IPv6:
#: 2**96, a /32 in total: the usual allocation to one ISP, which plays the /8's part (an
#: IPv4 /24 and an IPv6 /48 are both one site; /8 and /32 are 2**16 sites each).
NARROW_SOURCE_ADDRESSES: dict[int, int] = {4: 2**24, 6: 2**96}


@dataclass(frozen=True)
class ExposureRule:
    """One rule. ``narrow_source_severity``, for rules about the internet, is the severity
    when the admitted internet sources are narrow (``NARROW_SOURCE_ADDRESSES``): one level
    below ``severity``, since a path from named networks is real but not the open door
    that AWS Security Hub (EC2.13, EC2.14, EC2.19) and Prowler mean by "unrestricted".
    ``None``: the rule is not graded by its source."""

    id: str
    title: str
    severity: Severity
    controls: tuple[str, ...]
    rationale: str
    remediation: str
    narrow_source_severity: Severity | None = None


RULES: tuple[ExposureRule, ...] = (
    ExposureRule(
        "internet-exposed-admin-port",
        "Administration port reachable from the internet",
        "critical",
        ("CCM IVS-03", "CCM IVS-06", "CCM IVS-09"),
        "A remote administration service (SSH, RDP, WinRM) that the internet can reach is "
        "the first thing scanned and brute-forced; one weak credential or unpatched daemon "
        "gives an attacker an interactive foothold.",
        "Remove the security-group rule that admits the internet on the port (or narrow it "
        "to a known range), and reach hosts through Systems Manager Session Manager or a "
        "bastion in a private subnet instead.",
        narrow_source_severity="high",
    ),
    ExposureRule(
        "internet-exposed-database-port",
        "Database port reachable from the internet",
        "critical",
        ("CCM IVS-03", "CCM IVS-06", "CCM DSP-17"),
        "Database and cache services exposed to the internet are found within hours and "
        "are a leading cause of data breaches and ransom wipes.",
        "Move the database to private subnets without an internet-gateway route, and admit "
        "only the application tier's security group on the database port.",
        narrow_source_severity="high",
    ),
    ExposureRule(
        "internet-exposed-port",
        "Service reachable from the internet",
        "medium",
        ("CCM IVS-03", "CCM IVS-09"),
        "Every port the internet can reach is attack surface; it should be there on "
        "purpose, fronted by a load balancer or WAF where it serves people.",
        "Confirm the exposure is intended; otherwise remove the rule that admits the "
        "internet, or put the service behind a load balancer in public subnets and keep "
        "the instance private.",
        narrow_source_severity="low",
    ),
    ExposureRule(
        "cross-zone-path",
        "A zone reaches a protected zone outside the zone policy",
        "high",
        ("CCM IVS-05", "CCM IVS-06"),
        "Production must be separated from non-production: a path from a less trusted zone "
        "lets a compromise there spread into production.",
        "Remove the route, peering or transit-gateway association that joins the zones, or "
        "narrow the security-group and network-ACL rules to the flows the zone policy "
        "allows (or add the flow to the spec's zones.flows if it is intended).",
    ),
    ExposureRule(
        "sensitive-in-public-subnet",
        "Sensitive workload placed in a public subnet",
        "high",
        ("CCM IVS-06", "CCM IVS-08"),
        "A database or data-classified workload in a subnet routed to an internet gateway "
        "is one security-group change away from the internet.",
        "Move the workload to a private subnet (no route to an internet gateway); reach "
        "the internet, if it must, through a NAT gateway.",
    ),
    ExposureRule(
        "flat-network",
        "No segmentation inside the VPC",
        "medium",
        ("CCM IVS-06",),
        "When every workload in a VPC can reach every other on every port, one compromised "
        "host reaches them all (lateral movement).",
        "Give each tier its own security group and admit only the tiers and ports it needs, "
        "referencing groups instead of the VPC's CIDR.",
    ),
    ExposureRule(
        "default-sg-has-rules",
        "The default security group has rules",
        "low",
        ("CCM IVS-04", "CCM IVS-03"),
        "Resources launched without a chosen group land in the default group; rules there "
        "open them silently (CIS AWS Foundations 5.4).",
        "Remove every inbound and outbound rule from the default security group and use "
        "purpose-built groups.",
    ),
    ExposureRule(
        "vpc-flow-logs-missing",
        "VPC without flow logs",
        "medium",
        ("CCM IVS-09", "CCM LOG-05"),
        "Without flow logs there is no record of what talked to what: intrusions and "
        "exfiltration cannot be detected or investigated (CIS AWS Foundations 3.7).",
        "Enable VPC flow logs (all traffic) to CloudWatch Logs or S3 for every VPC.",
    ),
    ExposureRule(
        "unrestricted-egress",
        "Protected workload may open anything to the internet",
        "low",
        ("CCM IVS-03", "CCM IVS-09"),
        "Unrestricted outbound access from production lets malware call home and data "
        "leave on any port.",
        "Replace the allow-all egress rule with the destinations and ports the workload "
        "needs (prefix lists, VPC endpoints, a proxy or AWS Network Firewall).",
    ),
    ExposureRule(
        "nacl-allow-all-ingress",
        "Network ACL admits all traffic from the internet",
        "low",
        ("CCM IVS-03",),
        "A subnet ACL that admits every protocol and port from anywhere leaves security "
        "groups as the only layer of defence (CIS AWS Foundations 5.1).",
        "Deny inbound administration ports from 0.0.0.0/0 and ::/0 in the ACL and admit "
        "only the ports the subnet's services need, plus ephemeral return ports.",
    ),
)

RULES_BY_ID: dict[str, ExposureRule] = {rule.id: rule for rule in RULES}


def graded_severity(rule: ExposureRule, addresses: dict[int, int] | None) -> Severity:
    """The severity of a finding of ``rule`` whose internet sources hold ``addresses``
    public addresses per family (``None``: not a finding about internet sources).

    >>> rule = RULES_BY_ID["internet-exposed-admin-port"]
    >>> graded_severity(rule, {4: 256, 6: 0}), graded_severity(rule, {4: 2**32, 6: 0})
    ('high', 'critical')
    """
    if rule.narrow_source_severity is None or addresses is None:
        return rule.severity
    if all(addresses.get(v, 0) < limit for v, limit in NARROW_SOURCE_ADDRESSES.items()):
        return rule.narrow_source_severity
    return rule.severity


__all__ = ["RULES", "RULES_BY_ID", "SEVERITY_RANK", "ExposureRule", "at_or_above"]
