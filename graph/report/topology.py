"""The layered view of the exposure graph that the HTML report draws.

A thousand VPCs do not fit in one picture, so the report never draws the whole graph:
it starts from zones (or VPCs, when there are few; or accounts, on request) and opens one
level on click. ``overview`` is what the page needs at first: zones and accounts, VPCs
(with counts, zones, worst finding), transit gateways and peerings. ``vpc_detail`` is
one VPC's subnets, ENIs, gateways and load balancers, embedded separately and parsed
only when the VPC is opened.
``trail`` maps a finding's hop-by-hop path onto the nodes the page can show, so the
page can open and highlight it. ``NODE_STYLES`` and ``EDGE_STYLES`` are how the page
draws each node and edge, and what its legend says of each.

Node ids are AWS ids (ARNs for load balancers); ``internet`` is the internet; an account
node is ``acct:<id>``, a zone node ``zone:<name>``. A VPC belongs to the zone most of its
ENIs are in (``unknown`` when it has none, or they are untagged). Keys are short because
a large organization embeds many of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import networkx as nx

from graph.report import enis_of, worst
from graph.rules import INTERNET_RULE_IDS

# How a hop of a finding's path shows on the picture (others: no node of their own).
_SHOWN_KINDS = frozenset(
    {
        "internet",
        "internet-gateway",
        "egress-only-internet-gateway",
        "nat-gateway",
        "vpc",
        "subnet",
        "eni",
        "load-balancer",
        "peering",
        "transit-gateway",
    }
)
_GATEWAY_KINDS = ("internet-gateway", "egress-only-internet-gateway", "nat-gateway")
_TAGS_MAX = 24  # tags kept per node (values are shown, never interpreted)

#: How the page draws each style of node: its shape and colours, and what the legend says
#: of it. The page draws from this table and builds its legend from it, so nothing is
#: drawn that the legend does not explain. Zones and ENIs take their zone's colour (the
#: legend lists the zones); a border in a severity's colour is the worst finding there.
NODE_STYLES: dict[str, dict[str, Any]] = {
    "internet": {"legend": "the internet", "shape": "circle", "fill": "#101a2e", "line": "#101a2e"},
    "zone": {"legend": "zone (open: dashed)", "shape": "dot"},
    "account": {
        "legend": "account (open: dashed)",
        "shape": "dot",
        "fill": "#eef1f6",
        "line": "#9aa6b8",
    },
    "vpc": {"legend": "VPC (fill: its zone)", "shape": "box"},
    "subnet-public": {
        "legend": "public subnet (routed to an internet gateway)",
        "shape": "box",
        "fill": "#fff4e0",
        "line": "#f0a43a",
    },
    "subnet-private": {
        "legend": "private subnet",
        "shape": "box",
        "fill": "#f1f3f6",
        "line": "#b7c0cd",
    },
    "eni": {"legend": "network interface (fill: its zone)", "shape": "dot"},
    "internet-gateway": {
        "legend": "internet gateway",
        "shape": "diamond",
        "fill": "#34425c",
        "line": "#101a2e",
    },
    "egress-only-internet-gateway": {
        "legend": "egress-only internet gateway",
        "shape": "diamond",
        "fill": "#8a94a6",
        "line": "#34425c",
    },
    "nat-gateway": {
        "legend": "NAT gateway",
        "shape": "triangle",
        "fill": "#7b8aa3",
        "line": "#4a566b",
    },
    "transit-gateway": {
        "legend": "transit gateway",
        "shape": "hexagon",
        "fill": "#7048e8",
        "line": "#5f3dc4",
    },
    "load-balancer": {
        "legend": "load balancer",
        "shape": "square",
        "fill": "#ffa94d",
        "line": "#e8590c",
    },
    "more": {
        "legend": "more not drawn (click to draw them)",
        "shape": "dot",
        "fill": "#dfe4ec",
        "line": "#a5adba",
    },
}
#: How the page draws each style of edge, and what the legend says of it. What an open
#: node holds is drawn inside its frame, so no edge says it again.
EDGE_STYLES: dict[str, dict[str, Any]] = {
    "internet": {
        "legend": "internet to a gateway something is exposed through",
        "color": "#e03131",
        "width": 1.5,
        "dashes": [4, 4],
        "arrow": True,
    },
    "gateway": {
        "legend": "internet to a gateway (nothing exposed through it)",
        "color": "#8a94a6",
        "width": 1.2,
        "dashes": [4, 4],
    },
    "route": {
        "legend": "route to an internet gateway (public subnet)",
        "color": "#f0a43a",
        "width": 1.2,
        "dashes": [3, 3],
    },
    "in-subnet": {
        "legend": "NAT gateway or load balancer in a subnet",
        "color": "#b7c0cd",
        "width": 1,
        "dashes": False,
    },
    "forwards": {
        "legend": "load balancer forwards to a target",
        "color": "#e8590c",
        "width": 1.5,
        "dashes": [2, 3],
        "arrow": True,
    },
    "peering": {"legend": "VPC peering", "color": "#0ca678", "width": 2.5, "dashes": False},
    "tgw": {
        "legend": "transit gateway attachment",
        "color": "#7048e8",
        "width": 2,
        "dashes": False,
    },
    "zone-forbidden": {
        "legend": "zone to zone, partly forbidden by the zone policy",
        "color": "#e03131",
        "width": 2,
        "dashes": False,
        "arrow": True,
    },
    "zone-allowed": {
        "legend": "zone to zone, allowed by the zone policy",
        "color": "#4c6ef5",
        "width": 2,
        "dashes": False,
        "arrow": True,
    },
    "path": {
        "legend": "the opened finding's path, hop by hop (its severity's colour)",
        "color": "#c92a2a",
        "width": 4,
        "dashes": False,
        "arrow": True,
    },
}


class Topology:
    """Indexes over the graph that the overview, details and trails share."""

    def __init__(self, graph: nx.MultiDiGraph, findings: list[dict[str, Any]]) -> None:
        self.graph = graph
        self.findings = findings
        self.vpcs: list[str] = []
        self.subnets: dict[str, list[str]] = defaultdict(list)  # vpc -> subnets
        self.enis: dict[str, list[str]] = defaultdict(list)  # subnet -> ENIs
        self.groups: dict[str, list[str]] = defaultdict(list)  # ENI -> security groups
        self.gateways: dict[str, list[str]] = defaultdict(list)  # vpc -> igw/eigw/nat
        self.lbs: dict[str, list[str]] = defaultdict(list)  # vpc -> load balancers
        self.lb_subnets: dict[str, list[str]] = defaultdict(list)
        self.lb_targets: dict[str, list[str]] = defaultdict(list)
        self.nat_subnet: dict[str, str] = {}
        self.tgw_vpcs: dict[str, list[str]] = defaultdict(list)
        self.peerings: list[tuple[str, str, str, str]] = []  # (pcx, vpc a, vpc b, status)
        self.acl_subnets: dict[str, list[str]] = defaultdict(list)
        self._zone_of: dict[str, str | None] = {}  # resource -> zone of its first ENI
        self._index()
        # severities of the findings about each node
        self.node_sev: dict[str, list[str]] = defaultdict(list)
        self.vpc_sev: dict[str, list[str]] = defaultdict(list)
        self.account_sev: dict[str, list[str]] = defaultdict(list)
        self.vpc_internet: Counter[str] = Counter()  # findings of internet exposure per VPC
        for finding in findings:
            sev = finding["severity"]
            if finding["source"] == "internet" and finding["rule"] in INTERNET_RULE_IDS:
                self.vpc_internet[str(finding.get("vpc"))] += 1
            for eni in enis_of(graph, finding["resource"]):
                self.node_sev[eni].append(sev)
            self.node_sev[finding["resource"]].append(sev)
            if finding.get("vpc"):
                self.vpc_sev[finding["vpc"]].append(sev)
            if finding.get("account"):
                self.account_sev[finding["account"]].append(sev)

    def _index(self) -> None:
        g = self.graph
        for node, data in g.nodes(data=True):
            kind = data.get("kind")
            if kind == "vpc":
                self.vpcs.append(node)
            elif kind in _GATEWAY_KINDS and kind != "nat-gateway":
                for _src, dst, edge in g.out_edges(node, data=True):
                    if edge.get("kind") == "attached":
                        self.gateways[dst].append(node)
        for src, dst, edge in g.edges(data=True):
            kind = edge.get("kind")
            src_kind = g.nodes[src].get("kind")
            if kind == "contains":
                self.subnets[src].append(dst)
            elif kind == "in-subnet":
                if src_kind == "eni":
                    self.enis[dst].append(src)
                elif src_kind == "nat-gateway":
                    self.nat_subnet[src] = dst
                    vpc = g.nodes[src].get("vpc")
                    if vpc:
                        self.gateways[vpc].append(src)
                elif src_kind == "load-balancer":
                    self.lb_subnets[src].append(dst)
            elif kind == "member-of" and src_kind == "eni":
                self.groups[src].append(dst)
            elif kind == "forwards":
                if dst not in self.lb_targets[src]:
                    self.lb_targets[src].append(dst)
            elif kind == "peers":
                pass
            elif kind == "attached" and src_kind == "tgw-attachment":
                vpc = g.nodes[src].get("vpc")
                if vpc and vpc in g and vpc not in self.tgw_vpcs[dst]:
                    self.tgw_vpcs[dst].append(vpc)
            elif kind == "uses" and g.nodes[dst].get("kind") == "network-acl":
                self.acl_subnets[dst].append(src)
        for node, data in g.nodes(data=True):
            if data.get("kind") == "load-balancer" and data.get("vpc"):
                self.lbs[data["vpc"]].append(node)
            elif data.get("kind") == "peering":
                sides = [
                    (dst, edge.get("status", ""))
                    for _s, dst, edge in g.out_edges(node, data=True)
                    if edge.get("kind") == "peers"
                ]
                if len(sides) == 2 and all(v in g for v, _ in sides):
                    self.peerings.append((node, sides[0][0], sides[1][0], sides[0][1]))

    # ---- the first view -----------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        g = self.graph
        vpcs = []
        accounts: dict[str, dict[str, Any]] = {}
        for index, vpc_id in enumerate(self.vpcs):
            data = g.nodes[vpc_id]
            zones: Counter[str] = Counter()
            eni_count = 0
            for subnet in self.subnets.get(vpc_id, []):
                for eni in self.enis.get(subnet, []):
                    eni_count += 1
                    zones[str(g.nodes[eni].get("zone") or "unknown")] += 1
            sev = self.vpc_sev.get(vpc_id, [])
            vpcs.append(
                {
                    "id": vpc_id,
                    "a": data.get("account"),
                    "r": data.get("region"),
                    "label": _label(data, vpc_id),
                    "cidrs": data.get("cidrs") or "",
                    "zone": zones.most_common(1)[0][0] if zones else None,
                    "zones": dict(zones.most_common()),
                    "subnets": len(self.subnets.get(vpc_id, [])),
                    "enis": eni_count,
                    "gw": [gw for gw in self.gateways.get(vpc_id, []) if gw.startswith("igw-")],
                    "flow": bool(data.get("flow_logs")),
                    "x": self.vpc_internet.get(vpc_id, 0),
                    "tags": _tags(getattr(data.get("record"), "tags", None)),
                    "sev": worst(sev),
                    "n": len(sev),
                    "d": index,
                }
            )
            account = accounts.setdefault(
                str(data.get("account")),
                {"id": str(data.get("account")), "regions": [], "vpcs": 0, "enis": 0},
            )
            account["vpcs"] += 1
            account["enis"] += eni_count
            if data.get("region") not in account["regions"]:
                account["regions"].append(data.get("region"))
        for account_id, account in accounts.items():
            sev = self.account_sev.get(account_id, [])
            account["sev"] = worst(sev)
            account["n"] = len(sev)
        tgws = [
            {
                "id": tgw,
                "a": g.nodes[tgw].get("account"),
                "r": g.nodes[tgw].get("region"),
                "label": _label(g.nodes[tgw], tgw),
                "vpcs": vpcs_of,
            }
            for tgw, vpcs_of in sorted(self.tgw_vpcs.items())
            if tgw in g
        ]
        peerings = [
            {"id": pcx, "a": a, "b": b, "status": status} for pcx, a, b, status in self.peerings
        ]
        return {
            "zones": self.zones(vpcs),
            "accounts": sorted(accounts.values(), key=lambda a: a["id"]),
            "vpcs": vpcs,
            "tgws": tgws,
            "peerings": peerings,
        }

    def zones(self, vpcs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The zone level of the picture: one entry per zone, largest first (prod first).

        ``vpcs`` is how many VPCs the zone groups (each VPC in its main zone), ``enis``
        how many ENIs are in the zone wherever their VPC is, ``n`` and ``sev`` the count
        and worst severity of the findings about the zone's resources (a finding without
        an ENI counts for its VPC's zone).

        A VPC of three prod ENIs without flow logs, and an empty VPC:

        >>> vpcs = [{"id": "vpc-1", "zone": "prod", "zones": {"prod": 3}},
        ...         {"id": "vpc-2", "zone": None, "zones": {}}]
        >>> finding = {"rule": "vpc-flow-logs-missing", "severity": "medium", "account": "1",
        ...            "vpc": "vpc-1", "resource": "vpc-1", "source": "vpc-1", "path": []}
        >>> for zone in Topology(nx.MultiDiGraph(), [finding]).zones(vpcs):
        ...     print(zone)
        {'id': 'prod', 'vpcs': 1, 'enis': 3, 'n': 1, 'sev': 'medium'}
        {'id': 'unknown', 'vpcs': 1, 'enis': 0, 'n': 0, 'sev': None}
        """
        grouped: Counter[str] = Counter()
        enis: Counter[str] = Counter()
        vpc_zone: dict[str, str] = {}
        for vpc in vpcs:
            zone = vpc["zone"] or "unknown"
            vpc_zone[vpc["id"]] = zone
            grouped[zone] += 1
            enis.update(vpc["zones"])
        sevs: dict[str, list[str]] = defaultdict(list)
        for finding in self.findings:
            zone = self.zone_of(finding) or vpc_zone.get(str(finding.get("vpc")))
            if zone is not None:
                sevs[zone].append(finding["severity"])
        names = set(grouped) | set(enis)

        def order(zone: str) -> tuple[int, int, str]:
            return (0 if zone == "prod" else 2 if zone == "unknown" else 1, -grouped[zone], zone)

        return [
            {
                "id": zone,
                "vpcs": grouped[zone],
                "enis": enis[zone],
                "n": len(sevs[zone]),
                "sev": worst(sevs[zone]),
            }
            for zone in sorted(names, key=order)
        ]

    # ---- one VPC, on demand ---------------------------------------------------------------
    def vpc_detail(self, vpc_id: str) -> dict[str, Any]:
        g = self.graph
        subnets, enis = [], []
        for subnet in self.subnets.get(vpc_id, []):
            data = g.nodes[subnet]
            sub_enis = self.enis.get(subnet, [])
            sevs = [s for eni in sub_enis for s in self.node_sev.get(eni, [])]
            subnets.append(
                {
                    "id": subnet,
                    "label": _label(data, subnet),
                    "cidrs": data.get("cidrs") or "",
                    "public": bool(data.get("public")),
                    "rtb": data.get("route_table"),
                    "acl": data.get("network_acl"),
                    "az": getattr(data.get("record"), "az", "") or "",
                    "tags": _tags(getattr(data.get("record"), "tags", None)),
                    "sev": worst(sevs),
                    "n": len(sevs),
                }
            )
            for eni in sub_enis:
                eni_data = g.nodes[eni]
                sev = self.node_sev.get(eni, [])
                tags = eni_data.get("instance_tags")
                if tags is None:
                    tags = eni_data.get("tags")
                enis.append(
                    {
                        "id": eni,
                        "label": _label(eni_data, eni),
                        "subnet": subnet,
                        "instance": eni_data.get("instance"),
                        "service": eni_data.get("service"),
                        "zone": eni_data.get("zone"),
                        "ips": eni_data.get("private_ips") or "",
                        "pub": eni_data.get("public_ips") or "",
                        "sgs": self.groups.get(eni, []),
                        "tags": _tags(tags),
                        "sev": worst(sev),
                        "n": len(sev),
                    }
                )
        gateways = [
            {
                "id": gw,
                "kind": g.nodes[gw].get("kind"),
                "label": _label(g.nodes[gw], gw),
                "subnet": self.nat_subnet.get(gw),
            }
            for gw in self.gateways.get(vpc_id, [])
        ]
        lbs = [
            {
                "id": lb,
                "label": _label(g.nodes[lb], lb),
                "scheme": g.nodes[lb].get("scheme"),
                "subnets": self.lb_subnets.get(lb, []),
                "targets": self.lb_targets.get(lb, []),
                "sev": worst(self.node_sev.get(lb, [])),
            }
            for lb in self.lbs.get(vpc_id, [])
        ]
        return {"subnets": subnets, "enis": enis, "gateways": gateways, "lbs": lbs}

    # ---- a finding on the picture -------------------------------------------------------
    def trail(self, finding: dict[str, Any]) -> list[str]:
        """The shown nodes (and peering edges) of ``finding``'s path, in path order.

        The path enters a VPC through its node: ``internet, igw, vpc, subnet, eni`` for
        the internet, ``eni, subnet, vpc, pcx, vpc, subnet, eni`` across a peering.
        """
        g = self.graph
        out: list[str] = []
        inside: list[str | None] = [None]  # the VPC the path is in

        def enter(vpc: str | None) -> None:
            if vpc and vpc != inside[0] and vpc in g:
                out.append(vpc)
                inside[0] = vpc

        for n, hop in enumerate(finding.get("path") or []):
            ident = hop["hop"]
            data = g.nodes.get(ident) or {}
            kind = "internet" if ident == "internet" else data.get("kind")
            if kind == "eni":
                if n == 0:
                    out += [ident, data.get("subnet") or ""]
                    enter(data.get("vpc"))
                else:
                    enter(data.get("vpc"))
                    out += [data.get("subnet") or "", ident]
            elif kind in ("internet-gateway", "egress-only-internet-gateway"):
                out.append(ident)
                enter(data.get("vpc"))
            elif kind in ("nat-gateway", "load-balancer", "subnet"):
                enter(data.get("vpc"))
                out.append(ident)
            elif kind == "vpc":
                enter(ident)
            elif kind == "tgw-attachment":
                enter(data.get("vpc"))
            elif kind in ("peering", "transit-gateway", "internet"):
                out.append(ident)
                inside[0] = None
        resource = finding["resource"]
        targets = [e for e in enis_of(g, resource) if g.nodes[e].get("vpc") == finding.get("vpc")]
        if targets:
            if targets[0] not in out:
                enter(g.nodes[targets[0]].get("vpc"))
                out += [g.nodes[targets[0]].get("subnet") or "", targets[0]]
        elif resource in g:
            kind = g.nodes[resource].get("kind")
            enter(finding.get("vpc"))
            if kind == "network-acl":
                out += self.acl_subnets.get(resource, [])
            elif kind in _SHOWN_KINDS:
                out.append(resource)
        if not out and finding.get("vpc"):
            out.append(finding["vpc"])
        return [x for x in dict.fromkeys(out) if x]

    def zone_of(self, finding: dict[str, Any]) -> str | None:
        """The zone of the finding's resource (its first ENI's, or a load balancer's own),
        when it has one."""
        resource = finding["resource"]
        if resource not in self._zone_of:
            zone = None
            for eni in enis_of(self.graph, resource):
                zone = str(self.graph.nodes[eni].get("zone") or "unknown")
                break
            node = self.graph.nodes.get(resource)
            if zone is None and node is not None and node.get("kind") == "load-balancer":
                zone = str(node.get("zone") or "unknown")
            self._zone_of[resource] = zone
        return self._zone_of[resource]


def _label(data: dict[str, Any], ident: str) -> str | None:
    label = data.get("label")
    return str(label) if label and label != ident else None


def _tags(tags: Any) -> list[list[str]] | None:
    if not tags:
        return None
    return [[str(k), str(v)] for k, v in list(tags.items())[:_TAGS_MAX]]
