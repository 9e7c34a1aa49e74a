"""Reachability with AWS semantics, on equivalence classes of ENIs.

``Network(graph, zones)`` indexes the exposure graph built by ``graph.build`` and groups
ENI addresses into **units**: addresses that share subnet, security-group set, address
family, public-address status, zone and *cell* behave alike. A cell is the set of every
prefix the snapshot mentions anywhere (security-group rules, network-ACL entries, routes,
prefix lists, VPC and subnet blocks) that holds the address; since two prefixes either
nest or are disjoint, "does rule prefix P match this address" is ``P in cell``, for every
rule at once. Units are few (usually about subnets x group sets) however many ENIs there
are, which is what lets 100k ENIs be analysed in seconds.

Semantics (DESIGN.md, "what exposed means"):

- security groups are stateful and allow-only; rules match CIDRs, prefix lists (their
  entries) or membership of a referenced group (the peer's group set);
- network ACLs are stateless, first match in rule-number order, inbound and outbound;
  the return leg must be allowed to ephemeral ports 1024-65535 (some port of it: a
  client may use any), and traffic inside one subnet crosses no ACL;
- routes use longest-prefix match, ``local`` covers the VPC, a blackholed route drops;
  routes to appliances (ENIs, instances, gateway endpoints, VGWs) are not followed;
- internet ingress needs an active route to an attached internet gateway in the subnet's
  route table (for the return) and a public IPv4 or EIP on the address; IPv6 needs a
  global address and an IGW route for it. NAT gateways and egress-only IGWs carry
  outbound traffic only;
- peering is not transitive and carries traffic only between the two VPCs' blocks, with
  routes on both sides;
- transit gateways route by the attachment's associated TGW route table: static routes
  (winning over propagated ones of the same length) and propagated routes (the attached
  VPCs' blocks), longest prefix, blackholes drop; routes are needed both ways;
- internet-facing load balancers expose the targets that receive traffic on the target
  port (``graph.balancing``): the internet must reach the load balancer on a listener
  port (a network load balancer without security groups filters nothing), then the
  target must admit the client where it sees the client's address (``via`` the load
  balancer's groups, which its rules may name), else the load balancer (its subnets and
  security groups) must reach it;
- ENIs of managed services are assessed like instances; NAT gateway and transit gateway
  ENIs are not endpoints (they accept no connections).

Every check has a fast form returning ``graph.ports.Traffic`` and an ``explain_*`` form
returning the hop-by-hop path (``[{"hop": id, "why": text}]``) for a finding.

``internet_sources`` says which public addresses really reach a unit on some traffic (the
regions of the address space that pass route, network ACL and security group), as
``Spans``: sorted, disjoint address ranges; ``source_cidrs`` writes them as few prefixes.

A bastion with SSH open to the world, in a subnet routed to an internet gateway:

>>> from graph import model as m
>>> from graph.build import build_graph
>>> from graph.cidr import parse_prefix
>>> from graph.snapshot import RegionSnapshot, Snapshot
>>> A, R, anywhere = "111111111111", "eu-west-1", parse_prefix("0.0.0.0/0")
>>> region = RegionSnapshot(A, R)
>>> region.vpcs.append(m.Vpc("vpc-1", A, R, [parse_prefix("10.0.0.0/16")]))
>>> region.subnets.append(m.Subnet("subnet-1", A, R, "vpc-1", [parse_prefix("10.0.1.0/24")]))
>>> region.gateways.append(m.Gateway("igw-1", A, R, "internet-gateway", ["vpc-1"]))
>>> to_igw = m.Route(anywhere, None, "igw-1", "internet-gateway")
>>> region.route_tables.append(m.RouteTable("rtb-1", A, R, "vpc-1", [to_igw], main=True))
>>> allow = [m.AclEntry(100, out, True, EVERYTHING, anywhere) for out in (False, True)]
>>> region.network_acls.append(m.NetworkAcl("acl-1", A, R, "vpc-1", True, allow[:1], allow[1:]))
>>> ssh = m.SgRule(Traffic.of("tcp", 22), "cidr", anywhere, None, "tcp 22 from 0.0.0.0/0")
>>> region.security_groups.append(m.SecurityGroup("sg-1", A, R, "vpc-1", "bastion", [ssh], []))
>>> address = m.PrivateIp(parse_prefix("10.0.1.5/32"), public_ip="54.0.0.10")
>>> region.enis.append(m.Eni("eni-1", A, R, "vpc-1", "subnet-1", ("sg-1",), [address]))
>>> net = Network(build_graph(Snapshot("snap", None, [region], [])))
>>> [(unit.enis, net.internet_to(unit).render()) for unit in net.units]
[(['eni-1'], 'tcp 22')]
>>> [hop["hop"] for hop in net.explain_internet(net.units[0], Traffic.of("tcp", 22))]
['internet', 'igw-1', 'acl-1', 'sg-1', 'eni-1']
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx

from graph import model as m
from graph.cidr import (
    ANY_V4,
    ANY_V6,
    GLOBAL_V6,
    NON_PUBLIC_V4,
    Prefix,
    PrefixTable,
    contains,
    is_global_v6,
)
from graph.ports import EPHEMERAL, NAMED_PROTOCOLS, PortSet, Traffic

Hop = dict[str, str]
Cell = frozenset[Prefix]
#: An address range ``(version, first, last)``; ``Spans`` are sorted, disjoint and
#: non-adjacent (what ``spans_union`` returns), so equal sets are equal tuples.
Span = tuple[int, int, int]
Spans = tuple[Span, ...]


class Sources(NamedTuple):
    """Internet sources of a path: ``admitted`` are the public addresses that reach the
    unit; ``own`` are the blocks of its VPC, which AWS gives to that VPC alone (its
    ``local`` route), so no internet source has one and a finding's ``source_cidrs`` may
    span them, as it may span non-public space. Every other public address is not a
    source, wherever a route sends it."""

    admitted: Spans
    own: Spans


NOTHING = Traffic.nothing()
EVERYTHING = Traffic.everything()
NO_GROUPS: frozenset[str] = frozenset()
NO_GROUPS_WHY = (
    "no security group: a network load balancer without one admits all client traffic "
    "to its listeners"
)
#: ENIs that accept no connections of their own.
NOT_ENDPOINTS = frozenset({"nat", "transit-gateway"})


@dataclass(slots=True)
class Member:
    eni: str
    address: Prefix
    public_ip: str | None


@dataclass(slots=True, eq=False)
class Unit:
    """Addresses that behave alike. ``kind`` is ``eni``, or ``load-balancer`` for a load
    balancer whose own ENIs the snapshot does not hold (one unit per subnet of it);
    ``owner`` is the load balancer of either."""

    index: int
    kind: str
    account: str
    region: str
    vpc_id: str
    subnet_id: str
    groups: frozenset[str]
    family: int
    public: bool
    cell: Cell
    zone: str
    members: list[Member] = field(default_factory=list)
    #: the load balancer ARN, for its ENIs and ``load-balancer`` units
    owner: str | None = None
    #: no security group applies (a network load balancer without groups)
    no_groups: bool = False

    #: what decides its reachability (set on creation)
    netkey: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        self.netkey = (self.subnet_id, self.groups, self.family, self.cell, self.no_groups)

    @property
    def enis(self) -> list[str]:
        return list(dict.fromkeys(member.eni for member in self.members))


class Forward(NamedTuple):
    """A load balancer's listener forwarding to a target that receives traffic: ``why``
    says why it does (its health) and which source address it sees."""

    lb: m.LoadBalancer
    protocol: str
    listener_port: int
    target_port: int
    group: str
    eni: str
    keeps_client: bool
    why: str


@dataclass(slots=True)
class _TgwRoute:
    destination: Prefix
    attachments: list[str]
    state: str
    type: str


def returnable(out: Traffic) -> Traffic:
    """Protocols whose return leg ``out`` (an ACL's allowed traffic back) lets through.

    TCP and UDP need some ephemeral port (1024-65535); other protocols any port.
    """
    found = _RETURNABLE.get(out)
    if found is None:
        found = _RETURNABLE[out] = _returnable(out)
    return found


_RETURNABLE: dict[Traffic, Traffic] = {}


def _returnable(out: Traffic) -> Traffic:
    if out.is_everything:
        return EVERYTHING
    ports: dict[str, PortSet] = {}
    for proto in set(NAMED_PROTOCOLS) | set(out.ports):
        allowed = out.get(proto)
        ok = bool(allowed & EPHEMERAL) if proto in ("tcp", "udp") else bool(allowed)
        ports[proto] = PortSet.full() if ok else PortSet.empty()
    return Traffic(ports, out.rest)


class Network:
    """Indexes of one exposure graph, its units, and the reachability functions."""

    def __init__(self, graph: nx.MultiDiGraph, zones: Mapping[str, str] | None = None) -> None:
        self.graph = graph
        zones = zones or {}
        self.vpcs: dict[str, m.Vpc] = {}
        self.subnets: dict[str, m.Subnet] = {}
        self.subnet_rtb: dict[str, m.RouteTable] = {}
        self.subnet_acl: dict[str, m.NetworkAcl] = {}
        self.acls: dict[str, m.NetworkAcl] = {}
        self.rtbs: dict[str, m.RouteTable] = {}
        self.sgs: dict[str, m.SecurityGroup] = {}
        self.gateways: dict[str, m.Gateway] = {}
        self.nats: dict[str, m.NatGateway] = {}
        self.peerings: dict[str, m.Peering] = {}
        self.prefix_lists: dict[str, list[Prefix]] = {}
        self.load_balancers: dict[str, m.LoadBalancer] = {}
        self.tgw_attachments: dict[str, m.TgwAttachment] = {}
        self.tgw_vpc_attachments: dict[str, m.TgwVpcAttachment] = {}
        self.enis: dict[str, m.Eni] = {}
        #: ENIs none of whose addresses could be placed
        self.unplaced: list[str] = []
        #: each ENI, address or route that could not be placed, with the reason
        self.not_placed: list[m.NotPlaced] = []
        rtb_of: dict[str, str] = {}
        acl_of: dict[str, str] = {}
        for key, data in graph.nodes(data=True):
            kind = data["kind"]
            record = data.get("record")
            if kind == "vpc":
                self.vpcs[key] = record
            elif kind == "subnet":
                self.subnets[key] = record
                if data.get("route_table"):
                    rtb_of[key] = data["route_table"]
                if data.get("network_acl"):
                    acl_of[key] = data["network_acl"]
            elif kind == "route-table":
                self.rtbs[key] = record
            elif kind == "network-acl":
                self.acls[key] = record
            elif kind == "security-group":
                self.sgs[key] = record
            elif kind in ("internet-gateway", "egress-only-internet-gateway"):
                self.gateways[key] = record
            elif kind == "nat-gateway":
                self.nats[key] = record
            elif kind == "peering":
                self.peerings[key] = record
            elif kind == "prefix-list":
                self.prefix_lists[key] = list(record.cidrs)
            elif kind == "load-balancer":
                self.load_balancers[key] = record
            elif kind == "tgw-attachment":
                if isinstance(record, m.TgwAttachment):
                    self.tgw_attachments[key] = record
                else:
                    self.tgw_vpc_attachments[key] = record
            elif kind == "eni":
                self.enis[key] = record
        for subnet_id, rtb_id in rtb_of.items():
            if rtb_id in self.rtbs:
                self.subnet_rtb[subnet_id] = self.rtbs[rtb_id]
        for subnet_id, acl_id in acl_of.items():
            if acl_id in self.acls:
                self.subnet_acl[subnet_id] = self.acls[acl_id]
        self._index_routes()
        self._index_transit()
        self._index_prefixes()
        self.units: list[Unit] = []
        self._build_units(zones)
        self._index_units()
        self._acl_cache: dict[Any, Traffic] = {}
        self._sg_cache: dict[Any, Traffic] = {}
        self._lpm_cache: dict[Any, m.Route | None] = {}
        self._path_cache: dict[Any, list[Hop] | None] = {}
        self._internet_cache: dict[Any, Traffic] = {}
        self._refs: dict[frozenset[str], frozenset[str]] = {}
        self._acl_prefixes: dict[str, frozenset[Prefix]] = {}
        self._sg_prefixes: dict[frozenset[str], frozenset[Prefix]] = {}
        self._rtb_prefixes: dict[str, frozenset[Prefix]] = {}
        self._regions_cache: dict[tuple[frozenset[Prefix], int], list[Cell]] = {}
        self._parts_cache: dict[tuple[frozenset[Prefix], int], list[tuple[Cell, Spans]]] = {}
        self._sources_cache: dict[Any, Sources] = {}
        self._own_cache: dict[str, Spans] = {}
        self._explain_cache: dict[tuple[Any, ...], list[Hop]] = {}
        self._network_cache: dict[tuple[Any, ...], Traffic] = {}
        self._sg_exact: dict[tuple[Any, ...], Traffic] = {}
        self._egress_ids: dict[frozenset[str], int] = {}
        self._source_keys: dict[int, tuple[Any, ...]] = {}
        self._egress_rule_ids: dict[frozenset[Any], int] = {}
        self._candidates: dict[tuple[Any, ...], list[tuple[Unit, list[Unit]]]] = {}
        self._members: dict[int, dict[str, Member]] = {}

    # ---- indexes ------------------------------------------------------------------------
    def _index_routes(self) -> None:
        """Each route table's routes, prefix lists expanded, longest prefix first."""
        self.routes: dict[str, list[tuple[Prefix, m.Route]]] = {}
        for rtb in self.rtbs.values():
            items: list[tuple[Prefix, m.Route]] = []
            for route in rtb.routes:
                if route.destination is not None:
                    items.append((route.destination, route))
                elif route.prefix_list_id:
                    for cidr in self.prefix_lists.get(route.prefix_list_id, []):
                        items.append((cidr, route))
            items.sort(key=lambda item: -item[0].length)
            self.routes[rtb.id] = items

    def _index_transit(self) -> None:
        # (tgw, vpc) -> attachment id; attachment -> (vpc, associated route table)
        self.tgw_attachment_of: dict[tuple[str, str], str] = {}
        self.attachment_vpc: dict[str, str] = {}
        self.attachment_table: dict[str, str] = {}
        for att_v in self.tgw_vpc_attachments.values():
            if att_v.state == "available":
                self.tgw_attachment_of[(att_v.tgw_id, att_v.vpc_id)] = att_v.id
                self.attachment_vpc[att_v.id] = att_v.vpc_id
        for att in self.tgw_attachments.values():
            if att.resource_type == "vpc" and att.state == "available":
                self.tgw_attachment_of[(att.tgw_id, att.resource_id)] = att.id
                self.attachment_vpc[att.id] = att.resource_id
            if att.route_table_id and att.association_state in (None, "associated"):
                self.attachment_table[att.id] = att.route_table_id
        self.tgw_routes: dict[str, list[_TgwRoute]] = {}
        for key, data in self.graph.nodes(data=True):
            if data["kind"] != "tgw-route-table":
                continue
            routes: list[_TgwRoute] = []
            for static in data.get("static_routes", []):
                routes.append(
                    _TgwRoute(
                        static.destination, list(static.attachment_ids), static.state, "static"
                    )
                )
            for prop in data.get("propagations", []):
                if prop.state != "enabled":
                    continue
                vpc = self.vpcs.get(self.attachment_vpc.get(prop.attachment_id, ""))
                if vpc is None:
                    # a VPN, Direct Connect or peering attachment learns its routes, which
                    # no describe call lists; a VPC attachment needs the VPC's blocks
                    what = prop.resource_type or "an"
                    self.not_placed.append(
                        m.NotPlaced(
                            "record",
                            data["account"],
                            data["region"],
                            f"{key} {prop.attachment_id}",
                            f"routes propagated from {what} attachment {prop.attachment_id}"
                            f" ({prop.resource_id or 'resource unknown'}): not in the snapshot,"
                            " so not followed",
                        )
                    )
                    continue
                for cidr in vpc.cidrs:
                    routes.append(_TgwRoute(cidr, [prop.attachment_id], "active", "propagated"))
            # longest first; static before propagated at equal length
            routes.sort(key=lambda r: (-r.destination.length, r.type != "static"))
            self.tgw_routes[key] = routes
        # VPCs that may reach each other at all (same VPC, peering, shared TGW)
        self.linked: dict[str, set[str]] = {vpc: {vpc} for vpc in self.vpcs}
        for pcx in self.peerings.values():
            if pcx.status == "active":
                a, b = pcx.requester.vpc_id, pcx.accepter.vpc_id
                self.linked.setdefault(a, {a}).add(b)
                self.linked.setdefault(b, {b}).add(a)
        by_tgw: dict[str, set[str]] = {}
        for (tgw, vpc_id), _att in self.tgw_attachment_of.items():
            by_tgw.setdefault(tgw, set()).add(vpc_id)
        for vpc_ids in by_tgw.values():
            for vpc_id in vpc_ids:
                self.linked.setdefault(vpc_id, {vpc_id}).update(vpc_ids)

    def _index_prefixes(self) -> None:
        """Every prefix the snapshot mentions, and which of them lie inside each subnet."""
        known: PrefixTable[bool] = PrefixTable()
        add = known.add
        add(ANY_V4, True)
        add(ANY_V6, True)
        for vpc in self.vpcs.values():
            for cidr in vpc.cidrs:
                add(cidr, True)
        for subnet in self.subnets.values():
            for cidr in subnet.cidrs:
                add(cidr, True)
        for items in self.routes.values():
            for cidr, _route in items:
                add(cidr, True)
        for cidrs in self.prefix_lists.values():
            for cidr in cidrs:
                add(cidr, True)
        for acl in self.acls.values():
            for entry in acl.inbound + acl.outbound:
                add(entry.cidr, True)
        for sg in self.sgs.values():
            for rule in sg.ingress + sg.egress:
                if rule.cidr is not None:
                    add(rule.cidr, True)
        for pcx in self.peerings.values():
            for cidr in pcx.requester.cidrs + pcx.accepter.cidrs:
                add(cidr, True)
        for routes in self.tgw_routes.values():
            for route in routes:
                add(route.destination, True)
        self.known = known
        by_cidr: PrefixTable[list[str]] = PrefixTable()
        for subnet in self.subnets.values():
            for cidr in subnet.cidrs:
                found = by_cidr.get(cidr)
                if found is None:
                    by_cidr.add(cidr, [subnet.id])
                else:
                    found.append(subnet.id)
        self.inner: dict[tuple[str, Prefix], list[Prefix]] = {}
        for prefix, _ in known:
            for cidr, subnet_ids in by_cidr.containing(prefix):
                if cidr.length < prefix.length:
                    for subnet_id in subnet_ids:
                        self.inner.setdefault((subnet_id, cidr), []).append(prefix)
        self._cell_cache: dict[Prefix, Cell] = {}

    def cell_of(self, prefix: Prefix) -> Cell:
        """The known prefixes holding ``prefix`` (a subnet block, say)."""
        found = self._cell_cache.get(prefix)
        if found is None:
            found = frozenset(p for p, _ in self.known.containing(prefix))
            self._cell_cache[prefix] = found
        return found

    def _address_cell(self, subnet: m.Subnet, address: Prefix) -> Cell | None:
        for cidr in subnet.cidrs:
            if contains(cidr, address):
                base = self.cell_of(cidr)
                inner = self.inner.get((subnet.id, cidr))
                if not inner:
                    return base
                return base | frozenset(p for p in inner if contains(p, address))
        return None

    def _build_units(self, zones: Mapping[str, str]) -> None:
        units: dict[tuple[Any, ...], Unit] = {}
        nodes = self.graph.nodes
        #: a load balancer's own units: its ENIs' (``ELB app/NAME/ID`` is the description
        #: of an ENI of ``...:loadbalancer/app/NAME/ID``), else one per subnet
        self.lb_units: dict[str, list[Unit]] = {}
        by_suffix = {
            lb.arn.partition(":loadbalancer/")[2]: lb for lb in self.load_balancers.values()
        }
        for eni in self.enis.values():
            if nodes[eni.id].get("service") in NOT_ENDPOINTS:
                continue
            subnet = self.subnets.get(eni.subnet_id)
            if subnet is None:
                self._not_placed(
                    eni, "eni", eni.id, f"its subnet {eni.subnet_id} is not in the snapshot"
                )
                continue
            groups = frozenset(eni.group_ids)
            zone = zones.get(eni.id, "unknown")
            addresses = [(p.address, p.public_ip, p.public_ip is not None) for p in eni.private_ips]
            if eni.ipv6:
                addresses += [(a, None, is_global_v6(a)) for a in eni.ipv6]
            if not addresses:
                self._not_placed(eni, "eni", eni.id, "it has no address")
            owner, no_groups = None, False
            if eni.description.startswith("ELB "):
                lb = by_suffix.get(eni.description[4:])
                if lb is not None:
                    owner = lb.arn
                    # A network load balancer made without security groups has none, and
                    # filters no client traffic (NLB Guide, "Update the security groups
                    # for your Network Load Balancer").
                    no_groups = lb.type == "network" and not lb.group_ids
            placed = False
            for address, public_ip, public in addresses:
                cell = self._address_cell(subnet, address)
                if cell is None:
                    blocks = ", ".join(str(c) for c in subnet.cidrs) or "none"
                    self._not_placed(
                        eni,
                        "address",
                        f"{eni.id} {address.address()}",
                        f"in no block of its subnet {subnet.id} (blocks: {blocks})",
                    )
                    continue
                placed = True
                key = (subnet.id, groups, address.version, public, cell, zone, owner)
                unit = units.get(key)
                if unit is None:
                    unit = units[key] = Unit(
                        len(self.units),
                        "eni",
                        eni.account,
                        eni.region,
                        subnet.vpc_id,
                        subnet.id,
                        groups,
                        address.version,
                        public,
                        cell,
                        zone,
                        owner=owner,
                        no_groups=no_groups,
                    )
                    self.units.append(unit)
                    if owner is not None:
                        self.lb_units.setdefault(owner, []).append(unit)
                unit.members.append(Member(eni.id, address, public_ip))
            if addresses and not placed:
                self.unplaced.append(eni.id)
        # Load balancers whose ENIs the snapshot lacks: one unit per subnet.
        for lb in self.load_balancers.values():
            if lb.arn in self.lb_units:
                continue
            created = []
            for subnet_id in lb.subnet_ids:
                subnet = self.subnets.get(subnet_id)
                if subnet is None or not subnet.cidrs:
                    continue
                cidr = subnet.cidrs[0]
                unit = Unit(
                    len(self.units),
                    "load-balancer",
                    lb.account,
                    lb.region,
                    lb.vpc_id,
                    subnet_id,
                    frozenset(lb.group_ids),
                    cidr.version,
                    lb.scheme == "internet-facing",
                    self.cell_of(cidr),
                    zones.get(lb.arn, "unknown"),
                    [Member(lb.arn, cidr, None)],
                    owner=lb.arn,
                    no_groups=not lb.group_ids,
                )
                self.units.append(unit)
                created.append(unit)
            self.lb_units[lb.arn] = created

    def _not_placed(self, eni: m.Eni, kind: str, resource: str, reason: str) -> None:
        """Count what cannot be placed, with the reason; an ``eni`` is not assessed."""
        self.not_placed.append(m.NotPlaced(kind, eni.account, eni.region, resource, reason))
        if kind == "eni":
            self.unplaced.append(eni.id)

    def _index_units(self) -> None:
        self.by_group: dict[str, list[Unit]] = {}
        self.by_prefix: dict[Prefix, dict[str, list[Unit]]] = {}
        #: the units of each ENI a load balancer forwards to (of those only: at a million
        #: ENIs an index of all would weigh 170 MB)
        self.by_eni: dict[str, list[Unit]] = {}
        targets = {forward.eni for forward in self.forwards()}
        for unit in self.units:
            if unit.kind != "eni":
                continue
            for group in unit.groups:
                self.by_group.setdefault(group, []).append(unit)
            for prefix in unit.cell:
                self.by_prefix.setdefault(prefix, {}).setdefault(unit.vpc_id, []).append(unit)
            if targets:
                for member in unit.members:
                    if member.eni in targets:
                        self.by_eni.setdefault(member.eni, []).append(unit)

    # ---- building blocks ----------------------------------------------------------------
    def acl_allows(self, acl: m.NetworkAcl | None, egress: bool, cell: Cell) -> Traffic:
        """Traffic an ACL lets through (first match) to (egress) or from a peer in ``cell``."""
        if acl is None:
            return EVERYTHING  # no ACL in the snapshot: AWS's default ACL allows all
        prefixes = self._acl_prefixes.get(acl.id)
        if prefixes is None:
            prefixes = self._acl_prefixes[acl.id] = frozenset(
                e.cidr for e in acl.inbound + acl.outbound
            )
        key = (acl.id, egress, cell & prefixes)
        found = self._acl_cache.get(key)
        if found is not None:
            return found
        allowed, remaining = NOTHING, EVERYTHING
        for entry in acl.outbound if egress else acl.inbound:
            if entry.cidr not in cell:
                continue
            if entry.allow:
                allowed = allowed | (entry.traffic & remaining)
            remaining = remaining - entry.traffic
            if remaining.is_empty:
                break
        self._acl_cache[key] = allowed
        return allowed

    def acl_evidence(
        self, acl: m.NetworkAcl, egress: bool, cell: Cell, wanted: Traffic
    ) -> list[tuple[int, Traffic]]:
        """(rule number, rule traffic) of the allow rules that let part of ``wanted`` through
        (first match, in rule order), for a finding's path."""
        out: list[tuple[int, Traffic]] = []
        remaining = EVERYTHING
        for entry in acl.outbound if egress else acl.inbound:
            if entry.cidr not in cell:
                continue
            portion = entry.traffic & remaining & wanted
            if entry.allow and portion:
                out.append((entry.number, entry.traffic))
            remaining = remaining - entry.traffic
            if (wanted & remaining).is_empty:
                break
        return out

    def _refs_of(self, groups: frozenset[str]) -> frozenset[str]:
        found = self._refs.get(groups)
        if found is None:
            refs: set[str | None] = set()
            for group in groups:
                sg = self.sgs.get(group)
                if sg is not None:
                    refs.update(r.ref for r in sg.ingress + sg.egress if r.peer == "group")
            found = self._refs[groups] = frozenset(x for x in refs if x)
        return found

    def _rule_matches(self, rule: m.SgRule, cell: Cell, peer_groups: frozenset[str]) -> bool:
        if rule.peer == "cidr":
            return rule.cidr in cell
        if rule.peer == "group":
            return rule.ref in peer_groups
        return any(c in cell for c in self.prefix_lists.get(rule.ref or "", ()))

    def sg_allows(
        self, groups: frozenset[str], egress: bool, cell: Cell, peer_groups: frozenset[str]
    ) -> Traffic:
        """Traffic a set of groups allows to (egress) or from a peer (its cell and groups)."""
        exact = (groups, egress, cell, peer_groups)
        found = self._sg_exact.get(exact)
        if found is None:
            found = self._sg_exact[exact] = self._sg_allows(groups, egress, cell, peer_groups)
        return found

    def _sg_allows(
        self, groups: frozenset[str], egress: bool, cell: Cell, peer_groups: frozenset[str]
    ) -> Traffic:
        prefixes = self._sg_prefixes.get(groups)
        if prefixes is None:
            collected: set[Prefix] = set()
            for group in groups:
                sg = self.sgs.get(group)
                for rule in (sg.ingress + sg.egress) if sg is not None else ():
                    if rule.cidr is not None:
                        collected.add(rule.cidr)
                    elif rule.peer == "prefix-list":
                        collected.update(self.prefix_lists.get(rule.ref or "", ()))
            prefixes = self._sg_prefixes[groups] = frozenset(collected)
        key = (groups, egress, cell & prefixes, peer_groups & self._refs_of(groups))
        found = self._sg_cache.get(key)
        if found is not None:
            return found
        allowed = NOTHING
        for group in groups:
            sg = self.sgs.get(group)
            if sg is None:
                continue  # a group the snapshot lacks: it allows nothing we can see
            for rule in sg.egress if egress else sg.ingress:
                if self._rule_matches(rule, cell, peer_groups):
                    allowed = allowed | rule.traffic
                    if allowed.is_everything:
                        break
        self._sg_cache[key] = allowed
        return allowed

    def _sg_evidence(
        self,
        groups: frozenset[str],
        egress: bool,
        cell: Cell,
        peer_groups: frozenset[str],
        wanted: Traffic,
    ) -> list[Hop]:
        hops = []
        for group in sorted(groups):
            sg = self.sgs.get(group)
            if sg is None:
                continue
            for rule in sg.egress if egress else sg.ingress:
                if (rule.traffic & wanted) and self._rule_matches(rule, cell, peer_groups):
                    word = "egress" if egress else "ingress"
                    hops.append({"hop": group, "why": f"{word} {rule.text}"})
        return hops

    def lpm(self, rtb: m.RouteTable | None, cell: Cell) -> tuple[Prefix, m.Route] | None:
        """The route table's longest-prefix route for addresses in ``cell``."""
        if rtb is None:
            return None
        prefixes = self._rtb_prefixes.get(rtb.id)
        if prefixes is None:
            prefixes = self._rtb_prefixes[rtb.id] = frozenset(
                cidr for cidr, _ in self.routes.get(rtb.id, ())
            )
        key = (rtb.id, cell & prefixes)
        if key in self._lpm_cache:
            return self._lpm_cache[key]  # type: ignore[return-value]
        found = None
        for cidr, route in self.routes.get(rtb.id, ()):
            if cidr in cell:
                found = (cidr, route)
                break
        self._lpm_cache[key] = found  # type: ignore[assignment]
        return found

    def tgw_lpm(self, table: str | None, cell: Cell) -> _TgwRoute | None:
        if table is None:
            return None
        for route in self.tgw_routes.get(table, ()):
            if route.destination in cell:
                return route
        return None

    # ---- paths between units ------------------------------------------------------------
    def route_path(self, src: Unit, dst: Unit) -> list[Hop] | None:
        """The routed path from ``src`` to ``dst`` and back, or None when there is none."""
        if src.family != dst.family:
            return None
        if src.subnet_id == dst.subnet_id:
            return [{"hop": src.subnet_id, "why": "same subnet"}]
        src_rtb = self.subnet_rtb.get(src.subnet_id)
        dst_rtb = self.subnet_rtb.get(dst.subnet_id)
        key = (
            src_rtb.id if src_rtb else None,
            src.vpc_id,
            src.cell,
            dst_rtb.id if dst_rtb else None,
            dst.vpc_id,
            dst.cell,
        )
        if key in self._path_cache:
            return self._path_cache[key]
        path = self._route_path(src, dst, src_rtb, dst_rtb)
        self._path_cache[key] = path
        return path

    def _route_path(
        self,
        src: Unit,
        dst: Unit,
        src_rtb: m.RouteTable | None,
        dst_rtb: m.RouteTable | None,
    ) -> list[Hop] | None:
        if src_rtb is None:
            # No route table seen: only the implicit local route of the VPC.
            if src.vpc_id == dst.vpc_id:
                return [{"hop": "local", "why": f"local route of {src.vpc_id}"}]
            return None
        found = self.lpm(src_rtb, dst.cell)
        if found is None:
            return None
        cidr, route = found
        if route.state != "active":
            return None
        where = f"route {cidr} in {src_rtb.id}"
        if route.target == "local":
            if src.vpc_id != dst.vpc_id:
                return None
            return [{"hop": "local", "why": f"{where} (local)"}]
        if route.kind == "vpc-peering-connection":
            return self._peering_path(src, dst, route.target, where, dst_rtb)
        if route.kind == "transit-gateway":
            return self._tgw_path(src, dst, route.target, where, dst_rtb)
        return None

    def _return_route(
        self, dst_rtb: m.RouteTable | None, src: Unit, target: str
    ) -> tuple[Prefix, m.Route] | None:
        back = self.lpm(dst_rtb, src.cell)
        if back is None or back[1].target != target or back[1].state != "active":
            return None
        return back

    def _peering_path(
        self, src: Unit, dst: Unit, pcx_id: str, where: str, dst_rtb: m.RouteTable | None
    ) -> list[Hop] | None:
        pcx = self.peerings.get(pcx_id)
        if pcx is None or pcx.status != "active":
            return None
        sides = {pcx.requester.vpc_id: pcx.requester, pcx.accepter.vpc_id: pcx.accepter}
        if src.vpc_id not in sides or dst.vpc_id not in sides or src.vpc_id == dst.vpc_id:
            return None  # not transitive: the far VPC must be the peer itself
        here, there = sides[src.vpc_id], sides[dst.vpc_id]
        # only between the two VPCs' blocks (empty lists: the snapshot did not say)
        if there.cidrs and not any(c in dst.cell for c in there.cidrs):
            return None
        if here.cidrs and not any(c in src.cell for c in here.cidrs):
            return None
        back = self._return_route(dst_rtb, src, pcx_id)
        if back is None or dst_rtb is None:
            return None
        return [
            {"hop": pcx_id, "why": where},
            {"hop": dst.vpc_id, "why": f"return route {back[0]} in {dst_rtb.id} via {pcx_id}"},
        ]

    def _tgw_path(
        self, src: Unit, dst: Unit, tgw_id: str, where: str, dst_rtb: m.RouteTable | None
    ) -> list[Hop] | None:
        src_att = self.tgw_attachment_of.get((tgw_id, src.vpc_id))
        dst_att = self.tgw_attachment_of.get((tgw_id, dst.vpc_id))
        if src_att is None or dst_att is None or src.vpc_id == dst.vpc_id:
            return None
        table = self.attachment_table.get(src_att)
        forward = self.tgw_lpm(table, dst.cell)
        if forward is None or forward.state != "active" or dst_att not in forward.attachments:
            return None
        back = self._return_route(dst_rtb, src, tgw_id)
        if back is None or dst_rtb is None:
            return None
        back_table = self.attachment_table.get(dst_att)
        backward = self.tgw_lpm(back_table, src.cell)
        if backward is None or backward.state != "active" or src_att not in backward.attachments:
            return None
        return [
            {"hop": src_att, "why": where},
            {
                "hop": tgw_id,
                "why": f"{forward.type} route {forward.destination} in {table} to {dst_att}",
            },
            {
                "hop": dst_att,
                "why": f"return route {back[0]} in {dst_rtb.id}; {backward.type} route "
                f"{backward.destination} in {back_table} to {src_att}",
            },
        ]

    def between(self, src: Unit, dst: Unit) -> Traffic:
        """What ``src`` can open to ``dst`` (security groups, ACLs both ways, routes)."""
        if src.family != dst.family:
            return NOTHING
        key = (src.subnet_id, src.cell, dst.subnet_id, dst.cell)
        network = self._network_cache.get(key)
        if network is None:
            network = self._network_cache[key] = self._network_part(src, dst)
        if network.is_empty:
            return NOTHING
        if not src.no_groups:
            network = network & self.sg_allows(src.groups, True, dst.cell, dst.groups)
            if network.is_empty:
                return NOTHING
        if not dst.no_groups:
            network = network & self.sg_allows(dst.groups, False, src.cell, src.groups)
        return network

    def _network_part(self, src: Unit, dst: Unit) -> Traffic:
        """Routes both ways and the two subnets' ACLs both ways, between two addresses."""
        if self.route_path(src, dst) is None:
            return NOTHING
        if src.subnet_id == dst.subnet_id:
            return EVERYTHING  # inside one subnet no network ACL applies
        src_acl = self.subnet_acl.get(src.subnet_id)
        dst_acl = self.subnet_acl.get(dst.subnet_id)
        allowed = self.acl_allows(src_acl, True, dst.cell) & self.acl_allows(
            dst_acl, False, src.cell
        )
        if allowed.is_empty:
            return NOTHING
        return (
            allowed
            & returnable(self.acl_allows(dst_acl, True, src.cell))
            & returnable(self.acl_allows(src_acl, False, dst.cell))
        )

    def explain_between(
        self, src: Unit, dst: Unit, wanted: Traffic, eni: str | None = None
    ) -> list[Hop]:
        """The hop-by-hop path of ``wanted`` from ``src`` to ``dst`` (assumes it exists),
        ending at ``eni`` (default: the first member of ``dst``)."""
        key = ("between", src.index, dst.index, wanted)
        hops = self._explain_cache.get(key)
        if hops is None:
            hops = self._explain_cache[key] = self._explain_between(src, dst, wanted)
        return [*hops, self.member_hop(dst, eni)]

    def _explain_between(self, src: Unit, dst: Unit, wanted: Traffic) -> list[Hop]:
        first = src.members[0]
        hops: list[Hop] = [
            {
                "hop": _member_name(src, first),
                "why": f"source {first.address.address()} in {src.subnet_id}",
            }
        ]
        if not src.no_groups:
            hops += self._sg_evidence(src.groups, True, dst.cell, dst.groups, wanted)
        cross = src.subnet_id != dst.subnet_id
        src_acl = self.subnet_acl.get(src.subnet_id)
        dst_acl = self.subnet_acl.get(dst.subnet_id)
        if cross and src_acl is not None:
            hops.append(
                {"hop": src_acl.id, "why": _acl_why(self, src_acl, dst.cell, wanted, outbound=True)}
            )
        hops += self.route_path(src, dst) or []
        if cross and dst_acl is not None:
            hops.append(
                {
                    "hop": dst_acl.id,
                    "why": _acl_why(self, dst_acl, src.cell, wanted, outbound=False),
                }
            )
        if not dst.no_groups:
            hops += self._sg_evidence(dst.groups, False, src.cell, src.groups, wanted)
        return hops

    def sources(self, dst: Unit) -> Iterator[tuple[Unit, Traffic]]:
        """Every unit that can open a connection to ``dst``, with what it can open.

        Candidates come from ``dst``'s ingress rules (groups they name, prefixes they
        match) among VPCs linked to ``dst``'s (same, peered, or on a shared TGW).
        """
        key = (dst.groups, dst.vpc_id, dst.family)
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = self._candidates[key] = self._candidate_groups(dst)
        between = self.between
        for representative, units in candidates:
            allowed = between(representative, dst)
            if allowed:
                for unit in units:
                    yield unit, allowed

    def _candidate_groups(self, dst: Unit) -> list[tuple[Unit, list[Unit]]]:
        """Possible sources of units like ``dst``, grouped by what decides reachability."""
        linked = self.linked.get(dst.vpc_id, {dst.vpc_id})
        refs = self._refs_of(dst.groups)
        seen: set[int] = set()
        grouped: dict[tuple[Any, ...], list[Unit]] = {}
        for group in dst.groups:
            sg = self.sgs.get(group)
            if sg is None:
                continue
            for rule in sg.ingress:
                for unit in self._rule_sources(rule, linked):
                    if unit.index in seen or unit.family != dst.family:
                        continue
                    seen.add(unit.index)
                    # Sources alike for this destination: same address and subnet, same
                    # egress rules, same membership of the groups its rules name.
                    source_key = self._source_keys.get(unit.index)
                    if source_key is None:
                        source_key = self._source_keys[unit.index] = (
                            unit.subnet_id,
                            unit.cell,
                            unit.no_groups,
                            self._egress_signature(unit.groups),
                        )
                    key = (source_key, unit.groups & refs if refs else None)
                    grouped.setdefault(key, []).append(unit)
        return [(units[0], units) for units in grouped.values()]

    def _egress_signature(self, groups: frozenset[str]) -> int:
        """Equal numbers for group sets whose egress rules, taken together, are equal."""
        found = self._egress_ids.get(groups)
        if found is None:
            rules = frozenset(
                (rule.traffic, rule.peer, rule.cidr, rule.ref)
                for group in groups
                if group in self.sgs
                for rule in self.sgs[group].egress
            )
            found = self._egress_ids[groups] = self._egress_rule_ids.setdefault(
                rules, len(self._egress_rule_ids)
            )
        return found

    def _rule_sources(self, rule: m.SgRule, linked: set[str]) -> Iterator[Unit]:
        if rule.peer == "group":
            for unit in self.by_group.get(rule.ref or "", ()):
                if unit.vpc_id in linked:
                    yield unit
            return
        prefixes = (
            [rule.cidr] if rule.cidr is not None else self.prefix_lists.get(rule.ref or "", [])
        )
        for prefix in prefixes:
            by_vpc = self.by_prefix.get(prefix)
            if not by_vpc:
                continue
            if len(by_vpc) < len(linked):
                for vpc, units in by_vpc.items():
                    if vpc in linked:
                        yield from units
            else:
                for vpc in linked:
                    yield from by_vpc.get(vpc, ())

    # ---- the internet -------------------------------------------------------------------
    def internet_regions(self, prefixes: set[Prefix], family: int) -> list[Cell]:
        """Cells of the public address space, split by ``prefixes`` (one per region)."""
        key = (frozenset(prefixes), family)
        found = self._regions_cache.get(key)
        if found is None:
            found = self._regions_cache[key] = [cell for cell, _ in self._region_parts(key)]
        return found

    def _region_parts(self, key: tuple[frozenset[Prefix], int]) -> list[tuple[Cell, Spans]]:
        """The regions of ``internet_regions``, each with the addresses it holds."""
        found = self._parts_cache.get(key)
        if found is None:
            found = self._parts_cache[key] = self._compute_regions(*key)
        return found

    def _compute_regions(
        self, prefixes: frozenset[Prefix], family: int
    ) -> list[tuple[Cell, Spans]]:
        any_prefix = ANY_V4 if family == 4 else ANY_V6
        markers = set(NON_PUBLIC_V4) if family == 4 else {GLOBAL_V6}
        pool = sorted(
            {p for p in prefixes if p.version == family} | markers | {any_prefix},
            key=lambda p: p.length,
        )
        cells = []
        for prefix in pool:
            children = [
                q
                for q in pool
                if q.length > prefix.length
                and contains(prefix, q)
                and not any(
                    r.length > prefix.length
                    and r.length < q.length
                    and contains(prefix, r)
                    and contains(r, q)
                    for r in pool
                )
            ]
            if sum(q.size for q in children) >= prefix.size:
                continue  # no address of its own
            cell = frozenset(q for q in pool if contains(q, prefix))
            if family == 4 and any(p in cell for p in NON_PUBLIC_V4):
                continue
            if family == 6 and GLOBAL_V6 not in cell:
                continue
            # the region: the prefix less its nested prefixes (the direct ones suffice)
            holes = spans_union(_span(q) for q in children)
            cells.append((cell, spans_difference((_span(prefix),), holes)))
        return cells

    def _internet_prefixes(self, unit: Unit, egress: bool) -> set[Prefix]:
        out: set[Prefix] = set()
        rtb = self.subnet_rtb.get(unit.subnet_id)
        if rtb is not None:
            out.update(cidr for cidr, _ in self.routes.get(rtb.id, ()))
        acl = self.subnet_acl.get(unit.subnet_id)
        if acl is not None:
            out.update(e.cidr for e in acl.inbound + acl.outbound)
        for group in unit.groups:
            sg = self.sgs.get(group)
            if sg is None:
                continue
            for rule in sg.egress if egress else sg.ingress:
                if rule.cidr is not None:
                    out.add(rule.cidr)
                elif rule.peer == "prefix-list":
                    out.update(self.prefix_lists.get(rule.ref or "", ()))
        return out

    def _igw_route(self, unit: Unit, cell: Cell) -> tuple[Prefix, m.Route] | None:
        rtb = self.subnet_rtb.get(unit.subnet_id)
        found = self.lpm(rtb, cell)
        if found is None:
            return None
        route = found[1]
        if route.state != "active" or route.kind != "internet-gateway":
            return None
        gateway = self.gateways.get(route.target)
        if gateway is None or unit.vpc_id not in gateway.vpc_ids:
            return None
        return found

    def _internet_in_region(
        self, unit: Unit, cell: Cell, need_route: bool, via: frozenset[str] = NO_GROUPS
    ) -> Traffic:
        if need_route and self._igw_route(unit, cell) is None:
            return NOTHING
        allowed = EVERYTHING
        if not unit.no_groups:
            allowed = self.sg_allows(unit.groups, False, cell, via)
            if allowed.is_empty:
                return NOTHING
        acl = self.subnet_acl.get(unit.subnet_id)
        allowed = allowed & self.acl_allows(acl, False, cell)
        if allowed.is_empty:
            return NOTHING
        return allowed & returnable(self.acl_allows(acl, True, cell))

    def internet_to(
        self, unit: Unit, need_route: bool = True, via: frozenset[str] = NO_GROUPS
    ) -> Traffic:
        """What the internet can open to ``unit`` (needs a public address and IGW route).

        ``need_route=False`` drops the public-address and route conditions: used for
        targets of a network load balancer that keeps the client's address, ``via`` the
        groups of that load balancer (a target's rule naming one of them admits the
        client: NLB Guide, "Update the security groups for your Network Load Balancer").
        """
        if need_route and not unit.public:
            return NOTHING
        key = self._internet_key(unit, need_route, via)
        found = self._internet_cache.get(key)
        if found is not None:
            return found
        allowed = NOTHING
        for cell in self.internet_regions(self._internet_prefixes(unit, False), unit.family):
            allowed = allowed | self._internet_in_region(unit, cell, need_route, via)
            if allowed.is_everything:
                break
        self._internet_cache[key] = allowed
        return allowed

    def _internet_key(
        self, unit: Unit, need_route: bool, via: frozenset[str] = NO_GROUPS
    ) -> tuple[Any, ...]:
        """What decides the internet's reach to ``unit`` (besides its public address)."""
        rtb = self.subnet_rtb.get(unit.subnet_id)
        acl = self.subnet_acl.get(unit.subnet_id)
        return (
            rtb.id if rtb else None,
            acl.id if acl else None,
            unit.groups,
            unit.family,
            unit.vpc_id,
            unit.no_groups,
            need_route,
            via,
        )

    def internet_sources(
        self, unit: Unit, wanted: Traffic, need_route: bool = True, via: frozenset[str] = NO_GROUPS
    ) -> Sources:
        """The public addresses from which some of ``wanted`` reaches ``unit``.

        The union of the regions of the address space (split by every prefix the
        subnet's routes, its network ACL and the unit's ingress rules and prefix lists
        name) where route, ACL both ways and security group let ``wanted`` through: an
        ingress rule from 0.0.0.0/0 behind an ACL that admits only 198.51.100.0/24 gives
        that /24, and under a route of 0.0.0.0/0 to the internet gateway a more specific
        one that sends 198.51.100.0/24 elsewhere (or drops it) takes that /24 out, since
        the answers to it would not go back to the internet. Non-public space never
        counts (``internet_regions`` leaves it out).
        """
        if need_route and not unit.public:
            return Sources((), ())
        key = (self._internet_key(unit, need_route, via), wanted)
        found = self._sources_cache.get(key)
        if found is None:
            admitted: list[Span] = []
            pool = (frozenset(self._internet_prefixes(unit, False)), unit.family)
            for cell, spans in self._region_parts(pool):
                if not (self._internet_in_region(unit, cell, need_route, via) & wanted).is_empty:
                    admitted.extend(spans)
            found = self._sources_cache[key] = Sources(
                spans_union(admitted), self._own_blocks(unit.vpc_id)
            )
        return found

    def _own_blocks(self, vpc_id: str) -> Spans:
        found = self._own_cache.get(vpc_id)
        if found is None:
            vpc = self.vpcs.get(vpc_id)
            blocks = vpc.cidrs if vpc is not None else ()
            found = self._own_cache[vpc_id] = spans_union(_span(c) for c in blocks)
        return found

    def explain_internet(
        self,
        unit: Unit,
        wanted: Traffic,
        need_route: bool = True,
        eni: str | None = None,
        via: frozenset[str] = NO_GROUPS,
    ) -> list[Hop]:
        """Hops of ``wanted`` from the internet to ``unit`` (the first region that passes),
        ending at ``eni`` (default: the unit's first member)."""
        key = ("internet", unit.index, wanted, need_route, via)
        hops = self._explain_cache.get(key)
        if hops is None:
            hops = self._explain_cache[key] = self._explain_internet(unit, wanted, need_route, via)
        if not hops:
            return []
        return [*hops, self.member_hop(unit, eni)]

    def member_hop(self, unit: Unit, eni: str | None = None) -> Hop:
        """The last hop: the ENI (or load balancer) with the address the path reached."""
        member = unit.members[0]
        if eni is not None and eni != member.eni:
            index = self._members.get(unit.index)
            if index is None:
                index = self._members[unit.index] = {}
                for item in unit.members:
                    index.setdefault(item.eni, item)
            member = index.get(eni, member)
        return {"hop": _member_name(unit, member), "why": _address_why(unit, member)}

    def _explain_internet(
        self, unit: Unit, wanted: Traffic, need_route: bool, via: frozenset[str]
    ) -> list[Hop]:
        for cell in self.internet_regions(self._internet_prefixes(unit, False), unit.family):
            passed = self._internet_in_region(unit, cell, need_route, via) & wanted
            if passed.is_empty:
                continue
            source = max(cell, key=lambda p: p.length)
            hops: list[Hop] = [{"hop": "internet", "why": f"from {source}"}]
            if need_route:
                found = self._igw_route(unit, cell)
                rtb = self.subnet_rtb.get(unit.subnet_id)
                if found is not None and rtb is not None:
                    hops.append({"hop": found[1].target, "why": f"route {found[0]} in {rtb.id}"})
            acl = self.subnet_acl.get(unit.subnet_id)
            if acl is not None:
                hops.append({"hop": acl.id, "why": _acl_why(self, acl, cell, passed, False)})
            if unit.no_groups and unit.kind == "eni":
                hops.append({"hop": unit.owner or unit.members[0].eni, "why": NO_GROUPS_WHY})
            elif not unit.no_groups:
                hops += self._sg_evidence(unit.groups, False, cell, via, passed)
            return hops
        return []

    def internet_egress(self, unit: Unit) -> tuple[Traffic, list[Hop]]:
        """What ``unit`` can open to the internet, with the path of the first region."""
        total, first = NOTHING, list[Hop]()
        for cell in self.internet_regions(self._internet_prefixes(unit, True), unit.family):
            via = self._egress_route(unit, cell)
            if via is None:
                continue
            allowed = (
                EVERYTHING
                if unit.no_groups
                else self.sg_allows(unit.groups, True, cell, frozenset())
            )
            acl = self.subnet_acl.get(unit.subnet_id)
            allowed = allowed & self.acl_allows(acl, True, cell)
            allowed = allowed & returnable(self.acl_allows(acl, False, cell))
            if allowed.is_empty:
                continue
            if not first:
                first = self._sg_evidence(unit.groups, True, cell, frozenset(), allowed)
                if acl is not None:
                    first.append({"hop": acl.id, "why": _acl_why(self, acl, cell, allowed, True)})
                first.append(via)
            total = total | allowed
        return total, first

    def _egress_route(self, unit: Unit, cell: Cell) -> Hop | None:
        rtb = self.subnet_rtb.get(unit.subnet_id)
        found = self.lpm(rtb, cell)
        if found is None or rtb is None or found[1].state != "active":
            return None
        cidr, route = found
        why = f"route {cidr} in {rtb.id}"
        gateway = self.gateways.get(route.target)
        if route.kind == "internet-gateway":
            if gateway is not None and unit.vpc_id in gateway.vpc_ids and unit.public:
                return {"hop": route.target, "why": why}
            return None
        if route.kind == "egress-only-internet-gateway":
            if unit.family == 6 and gateway is not None and unit.vpc_id in gateway.vpc_ids:
                return {"hop": route.target, "why": why}
            return None
        if route.kind == "nat-gateway" and unit.family == 4:
            nat = self.nats.get(route.target)
            if nat is None or nat.state != "available" or nat.connectivity != "public":
                return None
            nat_rtb = self.subnet_rtb.get(nat.subnet_id)
            onward = self.lpm(nat_rtb, cell)
            if onward is None or onward[1].kind != "internet-gateway":
                return None
            if onward[1].state != "active":
                return None
            return {
                "hop": route.target,
                "why": f"{why}; {onward[0]} in {nat_rtb.id if nat_rtb else '?'} "
                f"to {onward[1].target}",
            }
        return None

    # ---- load balancers -----------------------------------------------------------------
    def forwards(self) -> Iterator[Forward]:
        """Every listener's forwarding to a target that receives traffic (the graph's
        ``forwards`` edges)."""
        for lb_arn, lb in self.load_balancers.items():
            for _u, v, data in self.graph.out_edges(lb_arn, data=True):
                if data.get("kind") != "forwards":
                    continue
                yield Forward(
                    lb,
                    str(data.get("protocol", "")),
                    int(data["listener_port"]),
                    int(data["target_port"]),
                    str(data["target_group"]),
                    v,
                    bool(data.get("keeps_client")),
                    f"{data.get('health', v)}; {data.get('client', '')}".rstrip("; "),
                )

    def lb_source(self, front: Unit, family: int) -> Unit | None:
        """The unit of ``front``'s load balancer whose address a target of ``family`` sees
        when the client's is not kept: ``front`` itself, else one of that family, in the
        same subnet if it has one (the node of the zone the client reached)."""
        if front.family == family:
            return front
        others = [u for u in self.lb_units.get(front.owner or "", ()) if u.family == family]
        same = [u for u in others if u.subnet_id == front.subnet_id]
        found = same or others
        return found[0] if found else None


def lb_protocols(listener_protocol: str) -> list[str]:
    proto = listener_protocol.upper()
    if proto == "UDP":
        return ["udp"]
    if proto == "TCP_UDP":
        return ["tcp", "udp"]
    return ["tcp"]


def _member_name(unit: Unit, member: Member) -> str:
    if unit.kind == "load-balancer" and unit.owner:
        return unit.owner
    return member.eni


def _address_why(unit: Unit, member: Member) -> str:
    if member.public_ip:
        return f"public IP {member.public_ip} on {member.address.address()}"
    if unit.kind == "load-balancer":
        why = f"internet-facing load balancer in {unit.subnet_id}"
        return f"{why}; {NO_GROUPS_WHY}" if unit.no_groups else why
    return f"address {member.address.address()}"


def _acl_why(net: Network, acl: m.NetworkAcl, cell: Cell, wanted: Traffic, outbound: bool) -> str:
    first = "outbound" if outbound else "inbound"
    second = "inbound" if outbound else "outbound"
    there = net.acl_evidence(acl, outbound, cell, wanted)
    back = net.acl_evidence(acl, not outbound, cell, returnable_mask(wanted))
    parts = [f"{first} rule {n} allows {t.render()}" for n, t in there[:3]]
    parts += [f"{second} rule {n} allows the return ({t.render()})" for n, t in back[:1]]
    return "; ".join(parts) or f"{first} allowed"


def returnable_mask(wanted: Traffic) -> Traffic:
    """The return traffic of ``wanted``: TCP/UDP to ephemeral ports, other protocols whole."""
    ports: dict[str, PortSet] = {}
    for proto in wanted.protocols():
        if proto == "all":
            continue
        ports[proto] = EPHEMERAL if proto in ("tcp", "udp") else PortSet.full()
    if wanted.rest:
        return Traffic({"tcp": EPHEMERAL, "udp": EPHEMERAL}, rest=True)
    return Traffic(ports)


# ---- sets of addresses ------------------------------------------------------------------


def _span(prefix: Prefix) -> Span:
    return (prefix.version, prefix.network, prefix.last)


def spans_union(parts: Iterable[Span]) -> Spans:
    """``parts`` as sorted, disjoint, non-adjacent ranges (adjacent and overlapping merged).

    >>> spans_union([(4, 10, 19), (4, 0, 9), (6, 0, 0)])
    ((4, 0, 19), (6, 0, 0))
    """
    out: list[list[int]] = []
    for version, first, last in sorted(parts):
        if out and out[-1][0] == version and first <= out[-1][2] + 1:
            if last > out[-1][2]:
                out[-1][2] = last
        else:
            out.append([version, first, last])
    return tuple((v, f, la) for v, f, la in out)


def spans_intersection(a: Spans, b: Spans) -> Spans:
    """The addresses in both ``a`` and ``b`` (each as ``spans_union`` returns)."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        (va, fa, la), (vb, fb, lb) = a[i], b[j]
        if va == vb:
            first, last = max(fa, fb), min(la, lb)
            if first <= last:
                out.append((va, first, last))
        if (va, la) < (vb, lb):
            i += 1
        else:
            j += 1
    return tuple(out)


def spans_difference(a: Spans, b: Spans) -> Spans:
    """The addresses of ``a`` not in ``b`` (each as ``spans_union`` returns)."""
    out: list[Span] = []
    j = 0
    for version, first, last in a:
        while j < len(b) and (b[j][0], b[j][2]) < (version, first):
            j += 1
        k = j
        while k < len(b) and b[k][0] == version and b[k][1] <= last:
            if b[k][1] > first:
                out.append((version, first, b[k][1] - 1))
            first = max(first, b[k][2] + 1)
            k += 1
        if first <= last:
            out.append((version, first, last))
    return tuple(out)


def spans_size(spans: Spans) -> dict[int, int]:
    """Addresses per family: ``{4: n, 6: n}``."""
    out = {4: 0, 6: 0}
    for version, first, last in spans:
        out[version] += last - first + 1
    return out


def source_cidrs(admitted: Spans, own: Spans = ()) -> list[Prefix]:
    """Few prefixes that hold every address of ``admitted`` and no other public address
    but ``own`` (a VPC's own blocks, ``Sources``).

    Each prefix is as wide as it can be: it may span non-public space (``PUBLIC`` leaves
    it out) and ``own``, which no internet source has, so sources from every public
    address read ``0.0.0.0/0``, not the 30-odd blocks of public space around the private
    ranges. A public address that does not reach (refused by a rule, or routed elsewhere
    or dropped by a more specific route) is in none of them.

    >>> [str(p) for p in source_cidrs(((4, 3405803776, 3405804031),))]
    ['203.0.113.0/24']
    >>> public_v4 = tuple(span for span in PUBLIC if span[0] == 4)
    >>> [str(p) for p in source_cidrs(spans_difference(public_v4, ((4, 0, 2**31 - 1),)))]
    ['128.0.0.0/1']
    """
    excluded = spans_difference(spans_difference(PUBLIC, admitted), own)
    out: list[Prefix] = []
    for version in (4, 6):
        if any(v == version for v, _, _ in admitted):
            _cover(Prefix(version, 0, 0), admitted, excluded, out)
    return out


def _cover(prefix: Prefix, admitted: Spans, excluded: Spans, out: list[Prefix]) -> None:
    span = _span(prefix)
    if not _meets(admitted, span):
        return
    if not _meets(excluded, span):
        out.append(prefix)
        return
    # both meet it, so it holds two addresses at least: halve it
    half = 1 << (prefix.bits - prefix.length - 1)
    for network in (prefix.network, prefix.network + half):
        _cover(Prefix(prefix.version, network, prefix.length + 1), admitted, excluded, out)


def _meets(spans: Spans, span: Span) -> bool:
    index = bisect.bisect_left(spans, (span[0], span[1], span[1]))
    for item in spans[max(0, index - 1) : index + 1]:
        if item[0] == span[0] and item[1] <= span[2] and item[2] >= span[1]:
            return True
    return False


#: Every address the internet can send from (what ``internet_regions`` covers): IPv4 but
#: the special-purpose blocks (``NON_PUBLIC_V4``), IPv6 global unicast (2000::/3).
PUBLIC: Spans = spans_difference(
    (_span(ANY_V4), _span(GLOBAL_V6)), spans_union(_span(p) for p in NON_PUBLIC_V4)
)
