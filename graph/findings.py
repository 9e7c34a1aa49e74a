"""Segmentation findings from a snapshot, and ``ivs exposure``.

``analyse(snapshot, zones, exposure)`` returns the findings document (DESIGN.md,
"Findings (JSON)") as plain data::

    {"snapshot", "generated_at", "collected_at", "assessed", "not_assessed",
     "kinds_not_seen", "enis_not_placed", "summary", "findings": [...], "zone_matrix": [...]}

Each finding has ``id`` (a stable hash of rule, resource, protocol, ports and source),
``rule``, ``severity``, ``controls``, ``account``, ``region``, ``vpc``, ``resource``
(the instance when the ENI belongs to one, else the ENI; the group, VPC or ACL for
rules about those), ``protocol`` and ``ports`` (``"22,3389"``, ``"0-65535"``; both
``null`` for rules about configuration rather than traffic), ``source`` (``internet``,
``zone:dev``, a VPC id), ``path`` (hop-by-hop: the route and table, the network-ACL rule
number, the security-group rule that allowed each hop) and ``remediation``.

Findings of the ``internet-exposed-*`` rules also have ``source_cidrs``: the public
prefixes the path really admits (security-group rules and prefix lists, narrowed by the
network ACL; as few prefixes as say it, at most ``SOURCE_CIDRS_SHOWN``) and
``source_cidrs_total``, how many prefixes that takes in all. When those sources are narrow
(``graph.rules.NARROW_SOURCE_ADDRESSES``) the severity is the rule's
``narrow_source_severity`` and the path's internet hop says ``from 203.0.113.0/24 only``.
The id does not depend on them, so a finding keeps its id when its sources change.

``enis_not_placed`` counts the ENIs whose subnet the snapshot lacks (not assessed).
``zone_matrix`` lists, for each (from zone, to zone) that some path joins, the traffic
the path carries and the part the zone policy forbids. ``kinds_not_seen`` maps each
snapshot file kind to the ``account/region`` places that had no such file.

Where findings fire (real paths only: security group and network ACL and route and a
public address where the internet is involved):

- ``internet-exposed-admin-port`` / ``-database-port``: the internet reaches the ENI on
  a TCP port of the spec's ``exposure.admin_ports`` / ``database_ports``, directly or
  as a target of an internet-facing load balancer (on the target port);
- ``internet-exposed-port``: the internet reaches other TCP or UDP ports (the finding
  lists every exposed port of that protocol);
- ``cross-zone-path``: a zone reaches an ENI of a protected zone with traffic the zone
  policy does not allow, one finding per (source zone, ENI, protocol);
- ``sensitive-in-public-subnet``: a database-service ENI, or one tagged with the spec's
  sensitive data classification, sits in a subnet routed to an internet gateway;
- ``flat-network``: every ENI of a VPC (two or more) reaches every other on all TCP ports;
- ``default-sg-has-rules``: a VPC's default security group has any rule;
- ``vpc-flow-logs-missing``: a VPC has no active flow log;
- ``unrestricted-egress``: a security group with an allow-all egress rule to 0.0.0.0/0
  or ::/0 lets an ENI of a protected zone open anything to the internet (through an IGW,
  NAT gateway or egress-only IGW);
- ``nacl-allow-all-ingress``: a subnet's network ACL admits every protocol and port from
  some part of the internet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from core.jsonio import minify, pretty
from core.spec import Exposure, Zones
from graph.build import build_graph
from graph.cidr import ANY_V4, ANY_V6
from graph.ports import PortSet, Traffic, port_list
from graph.reach import (
    Hop,
    Network,
    Sources,
    Unit,
    lb_protocols,
    source_cidrs,
    spans_intersection,
    spans_size,
    spans_union,
)
from graph.rules import RULES_BY_ID, SEVERITY_RANK, graded_severity
from graph.snapshot import load_snapshot
from graph.zones import ZonePolicy, assign_zones

SENSITIVE_SERVICES = frozenset(
    {"rds", "elasticache", "redshift", "docdb", "opensearch", "dms", "memorydb"}
)
#: Source prefixes listed in a finding (``source_cidrs_total`` counts them all).
SOURCE_CIDRS_SHOWN = 20
#: Source prefixes named in the path's internet hop of a narrow finding.
SOURCE_CIDRS_IN_PATH = 3


class ExposureResult:
    """What a report renderer gets: the findings document and the graph behind it."""

    def __init__(self, document: dict[str, Any], graph: nx.MultiDiGraph) -> None:
        self.document = document
        self.graph = graph


def render_json(document: dict[str, Any]) -> str:
    """The findings document as JSON text: indented, but one finding per line.

    Pretty-printing every finding would be slow (the standard library's indenting
    encoder is pure Python) and long; one line per finding stays readable and diffable.
    """
    lines = ["{"]
    keys = list(document)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = document[key]
        if key in ("findings", "zone_matrix") and isinstance(value, list) and value:
            items = ",\n".join(f"    {minify(item)}" for item in value)
            lines.append(f"  {minify(key)}: [\n{items}\n  ]{comma}")
        else:
            text = pretty(value).rstrip("\n").replace("\n", "\n  ")
            lines.append(f"  {minify(key)}: {text}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def analyse(
    snapshot_path: str | Path, zones: Zones | None = None, exposure: Exposure | None = None
) -> dict[str, Any]:
    """The findings document of a snapshot directory (defaults: DESIGN.md's zones)."""
    with without_gc():
        return analyse_graph(
            build_graph(load_snapshot(snapshot_path)), zones or Zones(), exposure or Exposure()
        )


def analyse_graph(graph: nx.MultiDiGraph, zones: Zones, exposure: Exposure) -> dict[str, Any]:
    """The findings document of an exposure graph."""
    eni_zone = assign_zones(graph, zones)
    net = Network(graph, eni_zone)
    collector = _Findings(graph, net, ZonePolicy(zones), exposure, zones)
    collector.internet()
    collector.load_balancers()
    collector.east_west()
    collector.placement()
    collector.configuration()
    findings = collector.finish()
    summary = {sev: 0 for sev in ("critical", "high", "medium", "low")}
    for finding in findings:
        summary[finding["severity"]] += 1
    return {
        "snapshot": graph.graph.get("snapshot"),
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "collected_at": graph.graph.get("collected_at"),
        "assessed": graph.graph.get("assessed", []),
        "not_assessed": graph.graph.get("not_assessed", []),
        "kinds_not_seen": graph.graph.get("kinds_not_seen", {}),
        # ENIs whose subnet the snapshot lacks cannot be placed, hence not assessed
        "enis_not_placed": {"count": len(net.unplaced), "sample": sorted(net.unplaced)[:20]},
        "summary": summary,
        "findings": findings,
        "zone_matrix": collector.matrix_rows(),
    }


# ---- helpers -----------------------------------------------------------------------------


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the analysis builds millions of small acyclic
    objects, and collections triggered by their allocation would rescan them all, again
    and again (it halves the time on 100k ENIs). Memory is reclaimed by reference
    counting meanwhile; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def release(graph: nx.MultiDiGraph) -> None:
    """Drop the views NetworkX caches on a graph (each refers back to it), so that the
    graph is freed by reference counting once unused, not by a full collection."""
    for name in [key for key, value in vars(graph).items() if getattr(value, "_graph", None)]:
        del vars(graph)[name]


def finding_id(
    rule: str, resource: str, protocol: str | None, ports: str | None, source: str
) -> str:
    digest = hashlib.sha256(f"{rule}|{resource}|{protocol}|{ports}|{source}".encode()).hexdigest()
    return f"ivs-{digest[:16]}"


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


class _Findings:
    def __init__(
        self,
        graph: nx.MultiDiGraph,
        net: Network,
        policy: ZonePolicy,
        exposure: Exposure,
        zones: Zones,
    ) -> None:
        self.graph = graph
        self.net = net
        self.policy = policy
        self.admin = port_list(exposure.admin_ports)
        self.database = port_list(exposure.database_ports)
        self.exposure = exposure
        self.zones = zones
        # (rule, resource, protocol, source) -> finding under construction
        self.items: dict[tuple[str, str, str | None, str], dict[str, Any]] = {}
        self.matrix: dict[tuple[str, str], set[Traffic]] = {}
        self._source_text: dict[Sources, tuple[list[str], dict[int, int]]] = {}

    # ---- recording ----------------------------------------------------------------------
    def add(
        self,
        rule_id: str,
        *,
        resource: str,
        account: str | None,
        region: str | None,
        vpc: str | None,
        source: str,
        protocol: str | None = None,
        ports: PortSet | None = None,
        path: list[Hop] | None = None,
        path_fn: Any = None,
        sources_fn: Callable[[], Sources] | None = None,
    ) -> None:
        """Record a finding; a second one with the same key adds its ports and sources."""
        key = (rule_id, resource, protocol, source)
        found = self.items.get(key)
        if found is not None:
            if ports is not None:
                found["_ports"] = found["_ports"] | ports
            if sources_fn is not None:
                found["_sources"].append(sources_fn)
            return
        self.items[key] = {
            "rule": rule_id,
            "account": account,
            "region": region,
            "vpc": vpc,
            "resource": resource,
            "protocol": protocol,
            "_ports": ports,
            "source": source,
            "_path": path,
            "_path_fn": path_fn,
            "_sources": [sources_fn] if sources_fn is not None else [],
        }

    def finish(self) -> list[dict[str, Any]]:
        out = []
        for item in self.items.values():
            rule = RULES_BY_ID[item["rule"]]
            ports = item["_ports"].render() if item["_ports"] is not None else None
            path = item["_path"]
            if path is None and item["_path_fn"] is not None:
                path = item["_path_fn"]()
            path = path or []
            extra: dict[str, Any] = {}
            severity = rule.severity
            if item["_sources"]:
                cidrs, addresses = self._sources([fn() for fn in item["_sources"]])
                extra = {
                    "source_cidrs": cidrs[:SOURCE_CIDRS_SHOWN],
                    "source_cidrs_total": len(cidrs),
                }
                severity = graded_severity(rule, addresses)
                if severity != rule.severity and cidrs:
                    path = _say_only(path, cidrs)
            out.append(
                {
                    "id": finding_id(
                        rule.id, item["resource"], item["protocol"], ports, item["source"]
                    ),
                    "rule": rule.id,
                    "severity": severity,
                    "controls": list(rule.controls),
                    "account": item["account"],
                    "region": item["region"],
                    "vpc": item["vpc"],
                    "resource": item["resource"],
                    "protocol": item["protocol"],
                    "ports": ports,
                    "source": item["source"],
                    **extra,
                    "path": path,
                    "remediation": rule.remediation,
                }
            )
        out.sort(
            key=lambda f: (
                -SEVERITY_RANK[f["severity"]],
                f["rule"],
                f["account"] or "",
                f["region"] or "",
                f["resource"],
                f["source"],
                f["protocol"] or "",
            )
        )
        # The path closures refer back to this object: drop them so that everything is
        # freed by reference counting, without waiting for the cyclic collector.
        self.items.clear()
        return out

    def _sources(self, found: list[Sources]) -> tuple[list[str], dict[int, int]]:
        """The prefixes of the admitted sources (spanning no routed public address that is
        not admitted), and how many addresses they hold per family."""
        if len(found) == 1:
            key = found[0]  # the usual case: one path, its sources already normal
        else:
            key = Sources(
                spans_union(s for f in found for s in f.admitted),
                spans_union(s for f in found for s in f.routed),
            )
        known = self._source_text.get(key)
        if known is None:
            cidrs = [str(p) for p in source_cidrs(key.admitted, key.routed)]
            known = self._source_text[key] = (cidrs, spans_size(key.admitted))
        return known

    def resource_of(self, eni_id: str) -> str:
        node = self.graph.nodes.get(eni_id)
        if node is None:
            return eni_id
        return str(node.get("instance") or eni_id)

    # ---- internet -----------------------------------------------------------------------
    def _exposure(
        self,
        unit: Unit,
        eni: str,
        exposed: Traffic,
        path_fn: Any,
        sources_fn: Callable[[str, PortSet], Sources],
        resource: str | None = None,
    ) -> None:
        """Internet findings of ``exposed`` on ``eni``; ``path_fn(wanted, eni)`` explains
        a part of it, ``sources_fn(protocol, ports)`` says from which public addresses."""
        resource = resource or self.resource_of(eni)
        common: dict[str, Any] = {
            "resource": resource,
            "account": unit.account,
            "region": unit.region,
            "vpc": unit.vpc_id,
            "source": "internet",
        }
        tcp = exposed.get("tcp")
        admin, database = tcp & self.admin, tcp & self.database
        if admin:
            self.add(
                "internet-exposed-admin-port",
                protocol="tcp",
                ports=admin,
                path_fn=lambda: path_fn(Traffic({"tcp": admin}), eni),
                sources_fn=lambda: sources_fn("tcp", admin),
                **common,
            )
        if database:
            self.add(
                "internet-exposed-database-port",
                protocol="tcp",
                ports=database,
                path_fn=lambda: path_fn(Traffic({"tcp": database}), eni),
                sources_fn=lambda: sources_fn("tcp", database),
                **common,
            )
        other = tcp - self.admin - self.database
        if other:
            self.add(
                "internet-exposed-port",
                protocol="tcp",
                ports=tcp,
                path_fn=lambda: path_fn(Traffic({"tcp": other}), eni),
                sources_fn=lambda: sources_fn("tcp", other),
                **common,
            )
        udp = exposed.get("udp")
        if udp:
            self.add(
                "internet-exposed-port",
                protocol="udp",
                ports=udp,
                path_fn=lambda: path_fn(Traffic({"udp": udp}), eni),
                sources_fn=lambda: sources_fn("udp", udp),
                **common,
            )

    def _listening(self) -> dict[int, Traffic]:
        """Units that are load balancers: only their listener ports accept connections."""
        out: dict[int, Traffic] = {}
        for lb_arn, units in self.net.lb_units.items():
            listening = Traffic.nothing()
            for protocol, port in self.graph.nodes[lb_arn].get("listeners", []):
                for proto in lb_protocols(protocol):
                    listening = listening | Traffic.of(proto, port)
            for unit in units:
                out[unit.index] = listening
        return out

    def internet(self) -> None:
        net = self.net
        listening = self._listening()
        for unit in net.units:
            exposed = net.internet_to(unit)
            if unit.index in listening:
                exposed = exposed & listening[unit.index]
            if exposed.is_empty:
                continue
            path_fn = _bind(net.explain_internet, unit)
            sources_fn = _bind_sources(net, unit)
            if unit.kind == "load-balancer":
                self._exposure(
                    unit, unit.members[0].eni, exposed, path_fn, sources_fn, resource=unit.owner
                )
                continue
            for eni in unit.enis:
                self._exposure(unit, eni, exposed, path_fn, sources_fn)

    def load_balancers(self) -> None:
        net = self.net
        for lb, protocol, listener_port, target_port, group, eni in net.forwards():
            if lb.scheme != "internet-facing":
                continue
            for proto in lb_protocols(protocol):
                listener = Traffic.of(proto, listener_port)
                wanted = Traffic.of(proto, target_port)
                for front in net.lb_units.get(lb.arn, []):
                    reached = net.internet_to(front) & listener
                    if reached.is_empty:
                        continue
                    for target in net.by_eni.get(eni, []):
                        keeps_client = lb.type == "network" and not lb.group_ids
                        if keeps_client:
                            passed = net.internet_to(target, need_route=False) & wanted
                        else:
                            passed = net.between(front, target) & wanted
                        if passed.is_empty:
                            continue
                        hop = {
                            "hop": lb.arn,
                            "why": f"listener {protocol or proto} {listener_port} forwards to "
                            f"{group} on port {target_port}",
                        }
                        self._exposure(
                            target,
                            eni,
                            passed,
                            _lb_path(net, front, target, reached, hop, keeps_client),
                            _lb_sources(net, front, target, reached, keeps_client),
                        )

    # ---- east-west ----------------------------------------------------------------------
    def east_west(self) -> None:
        net, policy = self.net, self.policy
        matrix = self.matrix
        # per VPC: ordered unit pairs joined on every TCP port
        full_tcp: dict[str, set[tuple[int, int]]] = {}
        all_tcp = PortSet.full()
        cross: dict[tuple[int, str], tuple[Traffic, Unit]] = {}
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
                        ckey = (dst.index, src.zone)
                        known = cross.get(ckey)
                        cross[ckey] = (
                            (known[0] | forbidden, known[1]) if known else (forbidden, src)
                        )
                if src.vpc_id == dst.vpc_id and allowed.get("tcp") == all_tcp:
                    full_tcp.setdefault(dst.vpc_id, set()).add((src.index, dst.index))
        for (dst_index, zone), (forbidden, src) in cross.items():
            dst = net.units[dst_index]
            path_fn = _bind_between(net, src, dst)
            for eni in dst.enis:
                for proto, _ports in by_protocol(forbidden):
                    portset = (
                        forbidden.get(proto) if proto not in ("all", "other") else PortSet.full()
                    )
                    self.add(
                        "cross-zone-path",
                        resource=self.resource_of(eni),
                        account=dst.account,
                        region=dst.region,
                        vpc=dst.vpc_id,
                        source=f"zone:{zone}",
                        protocol=proto,
                        ports=portset,
                        path_fn=_narrow(path_fn, forbidden, proto, eni),
                    )
        self._flat(full_tcp)

    def _flat(self, full_tcp: dict[str, set[tuple[int, int]]]) -> None:
        net = self.net
        by_vpc: dict[str, list[Unit]] = {}
        for unit in net.units:
            if unit.kind == "eni":
                by_vpc.setdefault(unit.vpc_id, []).append(unit)
        for vpc_id, units in by_vpc.items():
            pairs = full_tcp.get(vpc_id, set())
            enis = {e for u in units for e in u.enis}
            if len(enis) < 2 or len(units) > 200:
                # more than 200 classes in one VPC is segmentation enough to skip the check
                continue
            needed = {
                (a.index, b.index) for a in units for b in units if a is not b or len(a.enis) > 1
            }
            if not needed or not needed <= pairs:
                continue
            src, dst = net.units[min(needed)[0]], net.units[min(needed)[1]]
            self.add(
                "flat-network",
                resource=vpc_id,
                account=units[0].account,
                region=units[0].region,
                vpc=vpc_id,
                source=vpc_id,
                protocol="tcp",
                ports=PortSet.full(),
                path_fn=_bind_between(net, src, dst, Traffic({"tcp": PortSet.full()})),
            )

    def matrix_rows(self) -> list[dict[str, Any]]:
        rows = []
        for (src, dst), parts in sorted(self.matrix.items()):
            total = Traffic.nothing()
            for part in parts:
                total = total | part
            forbidden = self.policy.forbidden(src, dst, total)
            rows.append(
                {
                    "from": src,
                    "to": dst,
                    "traffic": traffic_rows(total),
                    "forbidden": traffic_rows(forbidden),
                }
            )
        return rows

    # ---- placement and configuration ----------------------------------------------------
    def _sensitive(self, eni_id: str, data: dict[str, Any]) -> bool:
        if data.get("service") in SENSITIVE_SERVICES:
            return True
        key, values = (
            self.exposure.sensitive_tag_key,
            {v.lower() for v in self.exposure.sensitive_tag_values},
        )
        nodes = self.graph.nodes
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

    def _igw_hops(self, subnet_id: str, vpc_id: str) -> list[Hop]:
        """The active routes of a subnet's route table to its VPC's internet gateway."""
        net = self.net
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

    def placement(self) -> None:
        public: dict[str, list[Hop]] = {}
        for eni_id, data in self.graph.nodes(data=True):
            if data["kind"] != "eni":
                continue
            subnet_id = data["subnet"]
            hops = public.get(subnet_id)
            if hops is None:
                hops = public[subnet_id] = self._igw_hops(subnet_id, data["vpc"])
            if not hops or not self._sensitive(eni_id, data):
                continue
            self.add(
                "sensitive-in-public-subnet",
                resource=self.resource_of(eni_id),
                account=data["account"],
                region=data["region"],
                vpc=data["vpc"],
                source="internet",
                path=[
                    *hops,
                    {"hop": subnet_id, "why": f"{data['service']} ENI {eni_id} in this subnet"},
                ],
            )

    def configuration(self) -> None:
        net = self.net
        graph = self.graph
        for vpc_id, vpc in net.vpcs.items():
            if not graph.nodes[vpc_id].get("flow_logs"):
                self.add(
                    "vpc-flow-logs-missing",
                    resource=vpc_id,
                    account=vpc.account,
                    region=vpc.region,
                    vpc=vpc_id,
                    source=vpc_id,
                    path=[{"hop": vpc_id, "why": "no active flow log on the VPC"}],
                )
        for sg in net.sgs.values():
            if sg.name == "default" and (sg.ingress or sg.egress):
                hops = [{"hop": sg.id, "why": f"ingress {r.text}"} for r in sg.ingress]
                hops += [{"hop": sg.id, "why": f"egress {r.text}"} for r in sg.egress]
                self.add(
                    "default-sg-has-rules",
                    resource=sg.id,
                    account=sg.account,
                    region=sg.region,
                    vpc=sg.vpc_id,
                    source=sg.vpc_id,
                    path=hops,
                )
        self._egress()
        self._acls()

    def _egress(self) -> None:
        net = self.net
        wide = {ANY_V4, ANY_V6}
        open_groups = {
            sg.id
            for sg in net.sgs.values()
            if any(r.traffic.is_everything and r.cidr in wide for r in sg.egress)
        }
        for unit in net.units:
            if unit.kind != "eni" or not self.policy.is_protected(unit.zone):
                continue
            culprits = sorted(unit.groups & open_groups)
            if not culprits:
                continue
            allowed, hops = net.internet_egress(unit)
            if not allowed.is_everything:
                continue
            for group in culprits:
                sg = net.sgs[group]
                self.add(
                    "unrestricted-egress",
                    resource=group,
                    account=sg.account,
                    region=sg.region,
                    vpc=sg.vpc_id,
                    source=f"zone:{unit.zone}",
                    protocol="all",
                    ports=PortSet.full(),
                    path=[{"hop": unit.enis[0], "why": f"{unit.zone} ENI uses {group}"}, *hops],
                )

    def _acls(self) -> None:
        net = self.net
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
                self.add(
                    "nacl-allow-all-ingress",
                    resource=acl.id,
                    account=acl.account,
                    region=acl.region,
                    vpc=acl.vpc_id,
                    source="internet",
                    protocol="all",
                    ports=PortSet.full(),
                    path=[
                        {"hop": "internet", "why": f"from {source}"},
                        {"hop": acl.id, "why": why},
                    ],
                )
                break


def _bind(fn: Any, unit: Unit) -> Any:
    return lambda wanted, eni=None: fn(unit, wanted, eni=eni)


def _bind_sources(net: Network, unit: Unit) -> Callable[[str, PortSet], Sources]:
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
) -> Callable[[str, PortSet], Sources]:
    """Who reaches a load balancer's target: whoever reaches its listener; for a network
    load balancer that keeps the client's address, only those the target admits too."""

    def sources(protocol: str, ports: PortSet) -> Sources:
        front_sources = net.internet_sources(front, reached)
        if not keeps_client:
            return front_sources
        wanted = Traffic({protocol: ports})
        kept = net.internet_sources(target, wanted, need_route=False)
        return Sources(
            spans_intersection(front_sources.admitted, kept.admitted), front_sources.routed
        )

    return sources


def _say_only(path: list[Hop], cidrs: list[str]) -> list[Hop]:
    """``path`` with its internet hop naming the narrow sources: ``from X only``."""
    named = ", ".join(cidrs[:SOURCE_CIDRS_IN_PATH])
    if len(cidrs) > SOURCE_CIDRS_IN_PATH:
        named += f" and {len(cidrs) - SOURCE_CIDRS_IN_PATH} more"
    out = list(path)
    for n, hop in enumerate(out):
        if hop["hop"] == "internet":
            out[n] = {"hop": "internet", "why": f"from {named} only"}
            break
    return out


def _bind_between(net: Network, src: Unit, dst: Unit, wanted: Traffic | None = None) -> Any:
    def explain(traffic: Traffic | None = None, eni: str | None = None) -> list[Hop]:
        return net.explain_between(src, dst, traffic or wanted or Traffic.everything(), eni)

    return explain


def _narrow(path_fn: Any, forbidden: Traffic, proto: str, eni: str) -> Any:
    if proto in ("all", "other"):
        return lambda: path_fn(forbidden, eni)
    return lambda: path_fn(Traffic({proto: forbidden.get(proto)}), eni)


def _lb_path(
    net: Network, front: Unit, target: Unit, reached: Traffic, hop: Hop, keeps_client: bool
) -> Any:
    def explain(wanted: Traffic, eni: str | None = None) -> list[Hop]:
        hops = net.explain_internet(front, reached)
        hops.append(hop)
        if keeps_client:
            hops += net.explain_internet(target, wanted, need_route=False, eni=eni)[1:]
        else:
            hops += net.explain_between(front, target, wanted, eni)[1:]
        return hops

    return explain


def summarize(findings: Iterable[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for finding in findings:
        out[finding["rule"]] = out.get(finding["rule"], 0) + 1
    return out
