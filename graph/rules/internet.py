"""Internet exposure: what the internet reaches, directly or through a load balancer.

- ``internet-exposed-admin-port`` / ``-database-port``: the internet reaches an ENI on a
  TCP port of the spec's ``exposure.admin_ports`` / ``database_ports`` (by default
  ``core.vocabulary.ADMIN_PORTS`` / ``DATABASE_PORTS``), directly or as a target of an
  internet-facing load balancer (on the target port);
- ``internet-exposed-port``: the internet reaches other TCP or UDP ports (the finding
  lists every exposed port of that protocol).

A path needs security group, network ACL, a route to an internet gateway and a public
address (``graph.reach.Network.internet_to``). Through a load balancer, only to a target
that receives traffic, admitted as the client where it sees the client's address, else
as the load balancer (``graph.balancing``, after the ELB guides); its path says which and
why. Every finding also says which public sources really get through, and is graded down
when they are narrow (``graph.rules.graded_severity``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graph.ports import PortSet, Traffic, port_list
from graph.reach import (
    NOTHING,
    Hop,
    Network,
    Sources,
    Unit,
    lb_protocols,
    spans_intersection,
)
from graph.rules.base import ExposureRule, Facts, Found, resource_of

ADMIN_PORT = ExposureRule(
    "internet-exposed-admin-port",
    "Administration port reachable from the internet",
    "critical",
    ("IVS-03", "IVS-06", "IVS-09"),
    "A remote administration service (SSH, RDP, WinRM) that the internet can reach is "
    "the first thing scanned and brute-forced; one weak credential or unpatched daemon "
    "gives an attacker an interactive foothold.",
    "Remove the security-group rule that admits the internet on the port (or narrow it "
    "to a known range), and reach hosts through Systems Manager Session Manager or a "
    "bastion in a private subnet instead.",
    narrow_source_severity="high",
    reads=("exposure.admin_ports",),
)
DATABASE_PORT = ExposureRule(
    "internet-exposed-database-port",
    "Database port reachable from the internet",
    "critical",
    ("IVS-03", "IVS-06", "DSP-17"),
    "Database and cache services exposed to the internet are found within hours and "
    "are a leading cause of data breaches and ransom wipes.",
    "Move the database to private subnets without an internet-gateway route, and admit "
    "only the application tier's security group on the database port.",
    narrow_source_severity="high",
    reads=("exposure.database_ports",),
)
OTHER_PORT = ExposureRule(
    "internet-exposed-port",
    "Service reachable from the internet",
    "medium",
    ("IVS-03", "IVS-09"),
    "Every port the internet can reach is attack surface; it should be there on "
    "purpose, fronted by a load balancer or WAF where it serves people.",
    "Confirm the exposure is intended; otherwise remove the rule that admits the "
    "internet, or put the service behind a load balancer in public subnets and keep "
    "the instance private.",
    narrow_source_severity="low",
    # the TCP ports it reports are those the two rules above do not
    reads=("exposure.admin_ports", "exposure.database_ports"),
)

RULES: tuple[ExposureRule, ...] = (ADMIN_PORT, DATABASE_PORT, OTHER_PORT)
#: The ids of the rules about what the internet reaches over the network.
INTERNET_RULE_IDS = frozenset(rule.id for rule in RULES)

#: ``path_fn(wanted, eni)``: the hop-by-hop path of part of an exposure.
PathFn = Callable[[Traffic, str | None], list[Hop]]
#: ``sources_fn(protocol, ports)``: the internet sources of part of an exposure.
SourcesFn = Callable[[str, PortSet], Sources]


def decide(facts: Facts) -> Iterator[Found]:
    """Internet findings: first what the internet reaches directly, then through load
    balancers (a finding both find keeps the direct path)."""
    ports = _Ports(port_list(facts.exposure.admin_ports), port_list(facts.exposure.database_ports))
    yield from _direct(facts, ports)
    yield from _through_load_balancers(facts, ports)


@dataclass(frozen=True)
class _Ports:
    """The spec's ports of the two narrower rules (``exposure.admin_ports`` and
    ``exposure.database_ports``)."""

    admin: PortSet
    database: PortSet


def _exposure(
    unit: Unit,
    eni: str,
    exposed: Traffic,
    path_fn: PathFn,
    sources_fn: SourcesFn,
    resource: str,
    ports: _Ports,
) -> Iterator[Found]:
    """The findings of ``exposed`` on ``eni``, one per rule and protocol."""

    def found(rule: ExposureRule, protocol: str, listed: PortSet, part: PortSet) -> Found:
        # the finding lists ``listed``; its path and sources are about ``part`` (the same
        # ports, except for other TCP ports, whose finding lists every exposed TCP port)
        return Found(
            rule.id,
            resource,
            unit.account,
            unit.region,
            unit.vpc_id,
            "internet",
            protocol,
            listed,
            path_fn=lambda: path_fn(Traffic({protocol: part}), eni),
            sources_fn=lambda: sources_fn(protocol, part),
        )

    tcp = exposed.get("tcp")
    admin, database = tcp & ports.admin, tcp & ports.database
    if admin:
        yield found(ADMIN_PORT, "tcp", admin, admin)
    if database:
        yield found(DATABASE_PORT, "tcp", database, database)
    other = tcp - ports.admin - ports.database
    if other:
        yield found(OTHER_PORT, "tcp", tcp, other)
    udp = exposed.get("udp")
    if udp:
        yield found(OTHER_PORT, "udp", udp, udp)


def _listening(facts: Facts) -> dict[int, Traffic]:
    """Units that are load balancers: only their listener ports accept connections."""
    out: dict[int, Traffic] = {}
    for lb_arn, units in facts.net.lb_units.items():
        listening = Traffic.nothing()
        for protocol, port in facts.graph.nodes[lb_arn].get("listeners", []):
            for proto in lb_protocols(protocol):
                listening = listening | Traffic.of(proto, port)
        for unit in units:
            out[unit.index] = listening
    return out


def _direct(facts: Facts, ports: _Ports) -> Iterator[Found]:
    """Every unit the internet reaches; a load balancer whose ENIs the snapshot lacks is
    one resource, the load balancer."""
    net, graph = facts.net, facts.graph
    listening = _listening(facts)
    for unit in net.units:
        exposed = net.internet_to(unit)
        if unit.index in listening:
            exposed = exposed & listening[unit.index]
        if exposed.is_empty:
            continue
        path_fn = _explain_internet(net, unit)
        sources_fn = _internet_sources(net, unit)
        if unit.kind == "load-balancer":
            eni = unit.members[0].eni
            resource = unit.owner or resource_of(graph, eni)
            yield from _exposure(unit, eni, exposed, path_fn, sources_fn, resource, ports)
            continue
        for eni in unit.enis:
            resource = resource_of(graph, eni)
            yield from _exposure(unit, eni, exposed, path_fn, sources_fn, resource, ports)


def _through_load_balancers(facts: Facts, ports: _Ports) -> Iterator[Found]:
    """Every target of an internet-facing load balancer that the internet reaches
    through it, on the target port: a target that receives traffic (``graph.balancing``),
    whose groups admit the client where it sees the client's address, else the load
    balancer."""
    net = facts.net
    for forward in net.forwards():
        lb = forward.lb
        if lb.scheme != "internet-facing":
            continue
        for proto in lb_protocols(forward.protocol):
            listener = Traffic.of(proto, forward.listener_port)
            wanted = Traffic.of(proto, forward.target_port)
            hop = {
                "hop": lb.arn,
                "why": f"listener {forward.protocol or proto} {forward.listener_port} forwards "
                f"to {forward.group} on port {forward.target_port}",
            }
            for front in net.lb_units.get(lb.arn, []):
                reached = net.internet_to(front) & listener
                if reached.is_empty:
                    continue
                for target in net.by_eni.get(forward.eni, []):
                    # the client's address is kept only within one address family (NLB
                    # Guide, "Client IP preservation": an IPv6 client of an IPv4 target)
                    keeps = forward.keeps_client and front.family == target.family
                    why = forward.why
                    inner: Unit | None = front
                    if keeps:
                        passed = net.internet_to(target, need_route=False, via=front.groups)
                    else:
                        if forward.keeps_client:
                            why += (
                                f", but not from an IPv{front.family} client: the target sees "
                                f"the load balancer's IPv{target.family} address"
                            )
                        inner = net.lb_source(front, target.family)
                        passed = net.between(inner, target) if inner is not None else NOTHING
                    passed = passed & wanted
                    if passed.is_empty or inner is None:
                        continue
                    sources = _lb_sources(net, front, target, reached, keeps)
                    if keeps and not sources(proto, passed.get(proto)).admitted:
                        continue  # the listener admits some clients, the target others
                    hops = [hop, {"hop": forward.group, "why": why}]
                    yield from _exposure(
                        target,
                        forward.eni,
                        passed,
                        _lb_path(net, front, inner, target, reached, hops, keeps),
                        sources,
                        resource_of(facts.graph, forward.eni),
                        ports,
                    )


def _explain_internet(net: Network, unit: Unit) -> PathFn:
    def explain(wanted: Traffic, eni: str | None) -> list[Hop]:
        return net.explain_internet(unit, wanted, eni=eni)

    return explain


def _internet_sources(net: Network, unit: Unit) -> SourcesFn:
    """``internet_sources`` of ``unit`` by protocol and ports, remembered: every ENI of a
    unit asks the same."""
    memo: dict[tuple[str, PortSet], Sources] = {}

    def sources(protocol: str, ports: PortSet) -> Sources:
        found = memo.get((protocol, ports))
        if found is None:
            wanted = Traffic({protocol: ports})
            found = memo[(protocol, ports)] = net.internet_sources(unit, wanted)
        return found

    return sources


def _lb_sources(
    net: Network, front: Unit, target: Unit, reached: Traffic, keeps_client: bool
) -> SourcesFn:
    """Who reaches a load balancer's target: whoever reaches its listener; where the
    target sees the client's address, only those its groups admit too."""

    def sources(protocol: str, ports: PortSet) -> Sources:
        front_sources = net.internet_sources(front, reached)
        if not keeps_client:
            return front_sources
        wanted = Traffic({protocol: ports})
        kept = net.internet_sources(target, wanted, need_route=False, via=front.groups)
        return Sources(spans_intersection(front_sources.admitted, kept.admitted), front_sources.own)

    return sources


def _lb_path(
    net: Network,
    front: Unit,
    inner: Unit,
    target: Unit,
    reached: Traffic,
    hops: list[Hop],
    keeps_client: bool,
) -> PathFn:
    """The internet to the listener, the forwarding and the target's health and source
    address, then the client's (``keeps_client``) or the load balancer's way in."""

    def explain(wanted: Traffic, eni: str | None = None) -> list[Hop]:
        path = net.explain_internet(front, reached)
        path += hops
        if keeps_client:
            path += net.explain_internet(
                target, wanted, need_route=False, eni=eni, via=front.groups
            )[1:]
        else:
            path += net.explain_between(inner, target, wanted, eni)[1:]
        return path

    return explain
