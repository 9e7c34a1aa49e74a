"""What every rule family shares: the rule record, the facts a rule reads, a finding as a
rule decides it, and the grading of internet findings by the width of their sources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import networkx as nx

from core.snapshot_kinds import SNAPSHOT_KINDS
from core.spec import Exposure
from core.vocabulary import Severity, ccm
from graph.fleet import FLEET_KINDS
from graph.ports import PortSet
from graph.reach import Hop, Network, Sources
from graph.zones import ZonePolicy

#: Internet sources holding fewer public addresses than this, per address family, are
#: named parties (an office, a partner, a vendor's ranges), not the internet at large.
#: IPv4: 2**24 addresses, a /8 in total: the largest single allocations ever made (whole
#: legacy class A blocks) are /8s, so anything narrower is a bounded set of networks that
#: someone chose, while 0.0.0.0/0 and its big halves are every scanner on earth. IPv6:
#: 2**96, a /32 in total: the usual allocation to one ISP, which plays the /8's part (an
#: IPv4 /24 and an IPv6 /48 are both one site; /8 and /32 are 2**16 sites each).
NARROW_SOURCE_ADDRESSES: dict[int, int] = {4: 2**24, 6: 2**96}

#: The optional network files of an account-region (the required ones are there whenever
#: the place is assessed): a path may pass any of them, so a network rule needs them all.
NETWORK_KINDS: tuple[str, ...] = tuple(
    kind.key
    for kind in SNAPSHOT_KINDS
    if kind.scope == "account/region" and not kind.required and kind.key not in FLEET_KINDS
)


@dataclass(frozen=True)
class ExposureRule:
    """One rule. ``ccm`` holds bare CSA CCM ids (``IVS-03``); ``controls`` writes them as
    findings and reports do (``CCM IVS-03``). ``reads`` names the spec settings the rule
    reads (``exposure.admin_ports``), besides the zones every ENI is placed in.

    ``narrow_source_severity``, for rules about the internet, is the severity when the
    admitted internet sources are narrow (``NARROW_SOURCE_ADDRESSES``): one level below
    ``severity``, since a path from named networks is real but not the open door that
    AWS Security Hub (EC2.13, EC2.14, EC2.19) and Prowler mean by "unrestricted".
    ``None``: the rule is not graded by its source.

    ``needs`` names the snapshot kinds (``core.snapshot_kinds``) the rule's verdict rests
    on: where one was not seen, a finding of the rule that is gone is not thereby fixed
    (``graph.changes``)."""

    id: str
    title: str
    severity: Severity
    ccm: tuple[str, ...]
    rationale: str
    remediation: str
    narrow_source_severity: Severity | None = None
    reads: tuple[str, ...] = ()
    needs: tuple[str, ...] = NETWORK_KINDS

    @property
    def controls(self) -> tuple[str, ...]:
        return tuple(ccm(control) for control in self.ccm)


@dataclass(frozen=True)
class Facts:
    """What every rule reads in one analysis: the exposure graph, its reachability index
    (``graph.reach.Network``), the spec's zone policy and its exposure settings."""

    graph: nx.MultiDiGraph
    net: Network
    policy: ZonePolicy
    exposure: Exposure


class Found(NamedTuple):
    """A finding as a rule decides it. Findings of one rule, resource, protocol and source
    are one finding: ``graph.findings`` joins their ports and sources, and keeps the
    first one's path.

    The path is ``path``, or ``path_fn()``, which is called only for the first finding of
    each key: explaining a path costs more than finding it, and the others' paths are
    never read. ``sources_fn()``, for internet rules, gives the public addresses that
    reach (``source_cidrs``). A tuple: a large organization makes tens of thousands, and
    a frozen dataclass is four times slower to make."""

    rule: str
    resource: str
    account: str | None
    region: str | None
    vpc: str | None
    source: str
    protocol: str | None = None
    ports: PortSet | None = None
    path: list[Hop] | None = None
    path_fn: Callable[[], list[Hop]] | None = None
    sources_fn: Callable[[], Sources] | None = None
    #: more fields of the finding (the IAM rules' ``decision``)
    extra: Mapping[str, Any] | None = None


def resource_of(graph: nx.MultiDiGraph, eni_id: str) -> str:
    """What a finding about an ENI names: its instance when it belongs to one."""
    node = graph.nodes.get(eni_id)
    if node is None:
        return eni_id
    return str(node.get("instance") or eni_id)


def graded_severity(rule: ExposureRule, addresses: dict[int, int] | None) -> Severity:
    """The severity of a finding of ``rule`` whose internet sources hold ``addresses``
    public addresses per family (``None``: not a finding about internet sources).

    >>> from graph.rules import RULES_BY_ID
    >>> rule = RULES_BY_ID["internet-exposed-admin-port"]
    >>> graded_severity(rule, {4: 256, 6: 0}), graded_severity(rule, {4: 2**32, 6: 0})
    ('high', 'critical')
    """
    if rule.narrow_source_severity is None or addresses is None:
        return rule.severity
    if all(addresses.get(v, 0) < limit for v, limit in NARROW_SOURCE_ADDRESSES.items()):
        return rule.narrow_source_severity
    return rule.severity
