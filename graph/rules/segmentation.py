"""Segmentation: zones and tiers, and the zone-to-zone matrix.

- ``cross-zone-path``: a zone reaches an ENI of a protected zone with traffic the zone
  policy (the spec's ``zones``) does not allow, one finding per (source zone, ENI,
  protocol);
- ``sensitive-in-public-subnet``: a database-service ENI, or one tagged with the spec's
  sensitive data classification, sits in a subnet routed to an internet gateway;
- ``flat-network``: every ENI of a VPC (two or more) reaches every other on all TCP ports.

Both traffic rules and the matrix read one walk over every (source, destination) pair of
address classes (:func:`zone_paths`), the costliest step of the analysis, made once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from graph.ports import PortSet, Traffic
from graph.reach import Hop, Network, Unit
from graph.rules.base import ExposureRule, Facts, Found, resource_of
from graph.zones import ZonePolicy

CROSS_ZONE = ExposureRule(
    "cross-zone-path",
    "A zone reaches a protected zone outside the zone policy",
    "high",
    ("IVS-05", "IVS-06"),
    "Production must be separated from non-production: a path from a less trusted zone "
    "lets a compromise there spread into production.",
    "Remove the route, peering or transit-gateway association that joins the zones, or "
    "narrow the security-group and network-ACL rules to the flows the zone policy "
    "allows (or add the flow to the spec's zones.flows if it is intended).",
    reads=("zones.protected", "zones.flows"),
)
SENSITIVE_IN_PUBLIC_SUBNET = ExposureRule(
    "sensitive-in-public-subnet",
    "Sensitive workload placed in a public subnet",
    "high",
    ("IVS-06", "IVS-08"),
    "A database or data-classified workload in a subnet routed to an internet gateway "
    "is one security-group change away from the internet.",
    "Move the workload to a private subnet (no route to an internet gateway); reach "
    "the internet, if it must, through a NAT gateway.",
    reads=("exposure.sensitive_tag_key", "exposure.sensitive_tag_values"),
)
FLAT_NETWORK = ExposureRule(
    "flat-network",
    "No segmentation inside the VPC",
    "medium",
    ("IVS-06",),
    "When every workload in a VPC can reach every other on every port, one compromised "
    "host reaches them all (lateral movement).",
    "Give each tier its own security group and admit only the tiers and ports it needs, "
    "referencing groups instead of the VPC's CIDR.",
)

RULES: tuple[ExposureRule, ...] = (CROSS_ZONE, SENSITIVE_IN_PUBLIC_SUBNET, FLAT_NETWORK)

#: Managed services whose ENIs hold data, whatever their tags say.
SENSITIVE_SERVICES = frozenset(
    {"rds", "elasticache", "redshift", "docdb", "opensearch", "dms", "memorydb"}
)
#: More address classes than this in one VPC is segmentation enough: no flat-network check.
FLAT_CHECK_MAX_CLASSES = 200


@dataclass(frozen=True)
class ZonePaths:
    """What one walk over every (source, destination) pair of ENI classes finds.

    ``matrix``: (from zone, to zone) -> the traffic of each path between them;
    ``forbidden``: (destination class, source zone) -> the traffic from that zone the
    zone policy forbids, and one source class that sends it (for the path);
    ``full_tcp``: VPC -> (source, destination) class pairs joined on every TCP port.
    """

    matrix: dict[tuple[str, str], set[Traffic]]
    forbidden: dict[tuple[int, str], tuple[Traffic, Unit]]
    full_tcp: dict[str, set[tuple[int, int]]]


def zone_paths(facts: Facts) -> ZonePaths:
    """Walk every class that reaches each ENI class (``Network.sources``) once."""
    net, policy = facts.net, facts.policy
    matrix: dict[tuple[str, str], set[Traffic]] = {}
    forbidden_from: dict[tuple[int, str], tuple[Traffic, Unit]] = {}
    full_tcp: dict[str, set[tuple[int, int]]] = {}
    all_tcp = PortSet.full()
    for dst in net.units:
        if dst.kind != "eni":
            continue
        protected = policy.is_protected(dst.zone)
        for src, allowed in net.sources(dst):
            key = (src.zone, dst.zone)
            parts = matrix.get(key)
            if parts is None:
                parts = matrix[key] = set()
            parts.add(allowed)
            if protected and src.zone != dst.zone:
                forbidden = policy.forbidden(src.zone, dst.zone, allowed)
                if forbidden:
                    fkey = (dst.index, src.zone)
                    known = forbidden_from.get(fkey)
                    forbidden_from[fkey] = (
                        (known[0] | forbidden, known[1]) if known else (forbidden, src)
                    )
            if src.vpc_id == dst.vpc_id and allowed.get("tcp") == all_tcp:
                full_tcp.setdefault(dst.vpc_id, set()).add((src.index, dst.index))
    return ZonePaths(matrix, forbidden_from, full_tcp)


def decide(facts: Facts, paths: ZonePaths) -> Iterator[Found]:
    """Segmentation findings: cross-zone paths, flat networks, sensitive placement."""
    yield from _cross_zone(facts, paths)
    yield from _flat(facts.net, paths)
    yield from _sensitive_in_public_subnets(facts)


def zone_matrix(paths: ZonePaths, policy: ZonePolicy) -> list[dict[str, Any]]:
    """The findings document's ``zone_matrix``: for each (from zone, to zone) that some
    path joins, the traffic the paths carry and the part the zone policy forbids."""
    rows = []
    for (src, dst), parts in sorted(paths.matrix.items()):
        total = Traffic.nothing()
        for part in parts:
            total = total | part
        forbidden = policy.forbidden(src, dst, total)
        rows.append(
            {
                "from": src,
                "to": dst,
                "traffic": traffic_rows(total),
                "forbidden": traffic_rows(forbidden),
            }
        )
    return rows


def by_protocol(traffic: Traffic) -> list[tuple[str, str]]:
    """(protocol, ports) pairs of ``traffic``: ``[("all", "0-65535")]`` for everything."""
    if traffic.is_everything:
        return [("all", "0-65535")]
    out = [(proto, traffic.ports[proto].render()) for proto in sorted(traffic.ports)]
    if traffic.rest:
        out.append(("other", "0-65535"))
    return out


def traffic_rows(traffic: Traffic) -> list[dict[str, str]]:
    return [{"protocol": p, "ports": ports} for p, ports in by_protocol(traffic)]


def _cross_zone(facts: Facts, paths: ZonePaths) -> Iterator[Found]:
    net = facts.net
    for (dst_index, zone), (forbidden, src) in paths.forbidden.items():
        dst = net.units[dst_index]
        explain = _explain_between(net, src, dst)
        for eni in dst.enis:
            for proto, _ports in by_protocol(forbidden):
                whole = proto in ("all", "other")
                yield Found(
                    CROSS_ZONE.id,
                    resource_of(facts.graph, eni),
                    dst.account,
                    dst.region,
                    dst.vpc_id,
                    f"zone:{zone}",
                    proto,
                    PortSet.full() if whole else forbidden.get(proto),
                    path_fn=_narrowed(explain, forbidden, proto, eni),
                )


def _flat(net: Network, paths: ZonePaths) -> Iterator[Found]:
    by_vpc: dict[str, list[Unit]] = {}
    for unit in net.units:
        if unit.kind == "eni":
            by_vpc.setdefault(unit.vpc_id, []).append(unit)
    for vpc_id, units in by_vpc.items():
        pairs = paths.full_tcp.get(vpc_id, set())
        enis = {e for u in units for e in u.enis}
        if len(enis) < 2 or len(units) > FLAT_CHECK_MAX_CLASSES:
            continue
        needed = {(a.index, b.index) for a in units for b in units if a is not b or len(a.enis) > 1}
        if not needed or not needed <= pairs:
            continue
        src, dst = net.units[min(needed)[0]], net.units[min(needed)[1]]
        explain = _explain_between(net, src, dst)
        yield Found(
            FLAT_NETWORK.id,
            vpc_id,
            units[0].account,
            units[0].region,
            vpc_id,
            vpc_id,
            "tcp",
            PortSet.full(),
            path_fn=partial(explain, Traffic({"tcp": PortSet.full()}), None),
        )


def _sensitive_in_public_subnets(facts: Facts) -> Iterator[Found]:
    public: dict[str, list[Hop]] = {}
    for eni_id, data in facts.graph.nodes(data=True):
        if data["kind"] != "eni":
            continue
        subnet_id = data["subnet"]
        hops = public.get(subnet_id)
        if hops is None:
            hops = public[subnet_id] = _igw_hops(facts.net, subnet_id, data["vpc"])
        if not hops or not _sensitive(facts, data):
            continue
        yield Found(
            SENSITIVE_IN_PUBLIC_SUBNET.id,
            resource_of(facts.graph, eni_id),
            data["account"],
            data["region"],
            data["vpc"],
            "internet",
            path=[
                *hops,
                {"hop": subnet_id, "why": f"{data['service']} ENI {eni_id} in this subnet"},
            ],
        )


def _sensitive(facts: Facts, data: dict[str, Any]) -> bool:
    """A managed data service, or tagged with the spec's sensitive classification (the
    instance's tags first, then the ENI's, then its subnet's)."""
    if data.get("service") in SENSITIVE_SERVICES:
        return True
    key = facts.exposure.sensitive_tag_key
    values = {v.lower() for v in facts.exposure.sensitive_tag_values}
    nodes = facts.graph.nodes
    for tags in (
        data.get("instance_tags"),
        data.get("tags"),
        getattr(nodes[data["subnet"]].get("record"), "tags", None)
        if data["subnet"] in nodes
        else None,
    ):
        if tags and key in tags:
            return tags[key].lower() in values
    return False


def _igw_hops(net: Network, subnet_id: str, vpc_id: str) -> list[Hop]:
    """The active routes of a subnet's route table to its VPC's internet gateway."""
    rtb = net.subnet_rtb.get(subnet_id)
    if rtb is None:
        return []
    hops = []
    for cidr, route in net.routes.get(rtb.id, []):
        if route.kind != "internet-gateway" or route.state != "active":
            continue
        gateway = net.gateways.get(route.target)
        if gateway is None or vpc_id not in gateway.vpc_ids:
            continue
        hops.append({"hop": route.target, "why": f"route {cidr} in {rtb.id}"})
    return hops


#: ``explain(wanted, eni)``: the hop-by-hop path between two classes.
Explain = Callable[[Traffic, str | None], list[Hop]]


def _explain_between(net: Network, src: Unit, dst: Unit) -> Explain:
    return lambda wanted, eni: net.explain_between(src, dst, wanted, eni)


def _narrowed(
    explain: Explain, forbidden: Traffic, proto: str, eni: str
) -> Callable[[], list[Hop]]:
    """The path of the forbidden traffic of one protocol to ``eni``."""
    if proto in ("all", "other"):
        return lambda: explain(forbidden, eni)
    return lambda: explain(Traffic({proto: forbidden.get(proto)}), eni)
