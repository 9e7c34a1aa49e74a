"""The VM-control graph of a snapshot: who can act as whom, and who can take over which
instance, once the organization's SCPs and RCPs are applied.

``build_control(iam, instances)`` makes a NetworkX ``MultiDiGraph`` whose nodes are
principal ARNs (users and roles) and instance ids, and whose edges are the
``graph.iam.edges`` edges (each edge's data holds its :class:`~graph.iam.edges.Edge` as
``edge``, with the calls and statements behind it). The IAM rules (``graph.rules.iam``)
walk it.

``instance_refs(records, graph, zones, iam)`` turns the snapshot's instances into what
the graph needs: the zone (from the exposure graph's ENIs, as the network analysis
placed them, else from the instance's tags) and the role of its instance profile.
Terminated instances are out of scope.

``administrator_equivalent`` says whether a principal can give itself any permission:
it holds ``*`` on ``*``, or may put or attach a policy on itself (IAM User Guide,
"Permissions required to access IAM resources"; PMapper calls such principals admins).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import networkx as nx

from core.spec import Zones
from graph.iam.edges import (
    Asker,
    Call,
    Edge,
    InstanceRef,
    can_assume,
    instance_control,
    instance_roles,
    launch_with_role,
)
from graph.iam.model import Principal
from graph.iam.snapshot import IamSnapshot
from graph.model import Instance
from graph.zones import zone_from_tags

#: The calls that make a principal administrator-equivalent, on itself (``{self}``) or on
#: every resource: any one of them allowed is enough.
ADMIN_CALLS: dict[str, tuple[tuple[str, str], ...]] = {
    "role": (
        ("iam:*", "*"),
        ("iam:PutRolePolicy", "{self}"),
        ("iam:AttachRolePolicy", "{self}"),
    ),
    "user": (
        ("iam:*", "*"),
        ("iam:PutUserPolicy", "{self}"),
        ("iam:AttachUserPolicy", "{self}"),
    ),
}


@dataclass
class ControlGraph:
    graph: nx.MultiDiGraph
    asker: Asker
    instances: list[InstanceRef]
    principals: list[Principal]
    #: the regions of the snapshot: where a regional call may be made
    regions: list[str] = field(default_factory=list)
    _admins: dict[str, Call | None] = field(default_factory=dict)

    def edges_from(self, node: str) -> list[Edge]:
        if node not in self.graph:
            return []
        return [data for _, _, data in self.graph.out_edges(node, data="edge")]

    def administrator_equivalent(self, arn: str) -> Call | None:
        """The allowed call that makes ``arn`` administrator-equivalent, or None."""
        if arn in self._admins:
            return self._admins[arn]
        found: Call | None = None
        principal = self.asker.principal(arn)
        if principal is not None and not principal.service_linked:
            for action, resource in ADMIN_CALLS[principal.kind]:
                if not self.asker.grants.may_allow(principal, action):
                    continue
                call = self.asker(principal, action, resource.format(self=arn))
                if call.result.decision == "allowed":
                    found = call
                    break
        self._admins[arn] = found
        return found


def instance_refs(
    records: Iterable[Instance],
    graph: nx.MultiDiGraph,
    zones: Zones,
    iam: IamSnapshot,
) -> list[InstanceRef]:
    """The instances of the snapshot (terminated ones left out) as the VM-control graph
    needs them: zone and instance-profile role."""
    zone_of: dict[str, str] = {}
    for _, data in graph.nodes(data=True):
        instance = data.get("instance") if data.get("kind") == "eni" else None
        if instance and "zone" in data:
            record = data.get("record")
            if instance not in zone_of or getattr(record, "device_index", None) == 0:
                zone_of[instance] = data["zone"]
    out = []
    for record in records:
        if record.state in ("terminated", "shutting-down"):
            continue
        role = None
        if record.profile:
            held = iam.accounts.get(record.account)
            found = held.roles_by_profile.get(record.profile) if held else None
            role = found.arn if found is not None else None
        zone = zone_of.get(record.id) or zone_from_tags([record.tags], zones)
        out.append(InstanceRef(record.id, record.account, record.region, zone, role))
    return out


def build_control(
    iam: IamSnapshot, instances: Sequence[InstanceRef], regions: Sequence[str] | None = None
) -> ControlGraph:
    """The VM-control graph of every principal of ``iam`` and every instance."""
    principals = [p for account in iam.accounts.values() for p in account.principals]
    asker = Asker(iam.accounts, iam.organization)
    where = sorted(set(regions or ()) | {i.region for i in instances})
    graph = nx.MultiDiGraph()
    for principal in principals:
        graph.add_node(principal.arn, kind=principal.kind, account=principal.account)
    for instance in instances:
        graph.add_node(instance.id, kind="instance", account=instance.account, zone=instance.zone)
    roles = [p for p in principals if p.kind == "role"]
    actors = [p for p in principals if not p.service_linked]
    for edges in (
        can_assume(actors, roles, asker),
        launch_with_role(actors, roles, where, asker),
        instance_control(actors, instances, asker),
        instance_roles(instances),
    ):
        for edge in edges:
            graph.add_edge(edge.source, edge.target, key=edge.kind, edge=edge)
    return ControlGraph(graph, asker, list(instances), principals, where)
