"""The exposure rules: one module per family, each rule's record next to the code that
decides it.

- ``graph.rules.internet``: what the internet reaches (``internet-exposed-admin-port``,
  ``-database-port``, ``internet-exposed-port``), directly or through a load balancer;
- ``graph.rules.segmentation``: zones and tiers (``cross-zone-path``,
  ``sensitive-in-public-subnet``, ``flat-network``), and the zone-to-zone matrix;
- ``graph.rules.hygiene``: configuration that opens doors silently (``default-sg-has-rules``,
  ``vpc-flow-logs-missing``, ``unrestricted-egress``, ``nacl-allow-all-ingress``);
- ``graph.rules.fleet``: what already exists against each control (volumes, snapshots,
  images, instances, detection services), with the controls that prevent new ones;
- ``graph.rules.iam``: who can take over a VM (``vm-admin-permission-broad``,
  ``vm-takeover-path``, ``instance-role-escalation``,
  ``internet-exposed-instance-escalation``), on the VM-control graph of ``graph.iam``.

A family's ``decide`` reads the :class:`Facts` of one analysis and yields each finding it
makes as a :class:`Found`; ``graph.findings`` merges them and writes the document. Every
output (JSON, SARIF, ASFF, HTML, Markdown) reads a rule's words from its
:class:`ExposureRule` in :data:`RULES` and repeats none of them. The ids are part of the
findings contract (DESIGN.md).
"""

from __future__ import annotations

from graph.rules import fleet, hygiene, iam, internet, segmentation
from graph.rules.base import (
    NARROW_SOURCE_ADDRESSES,
    ExposureRule,
    Facts,
    Found,
    graded_severity,
    resource_of,
)

#: Every rule, in the order reports list them: by family, as each family lists its own.
RULES: tuple[ExposureRule, ...] = (
    *internet.RULES,
    *segmentation.RULES,
    *hygiene.RULES,
    *fleet.RULES,
    *iam.RULES,
)
RULES_BY_ID: dict[str, ExposureRule] = {rule.id: rule for rule in RULES}
INTERNET_RULE_IDS = internet.INTERNET_RULE_IDS

__all__ = [
    "INTERNET_RULE_IDS",
    "NARROW_SOURCE_ADDRESSES",
    "RULES",
    "RULES_BY_ID",
    "ExposureRule",
    "Facts",
    "Found",
    "graded_severity",
    "resource_of",
]
