"""Build the exposure graph (NetworkX) from a snapshot's typed records.

One ``networkx.MultiDiGraph`` for the whole organization; node keys are AWS resource ids
(ARNs for load balancers and target groups), plus ``"internet"``.

Node attributes (every node):

- ``kind``: ``internet``, ``internet-gateway``, ``egress-only-internet-gateway``,
  ``nat-gateway``, ``vpc``, ``subnet``, ``route-table``, ``network-acl``,
  ``security-group``, ``eni``, ``peering``, ``transit-gateway``, ``tgw-attachment``,
  ``tgw-route-table``, ``vpc-endpoint``, ``load-balancer``, ``target-group``,
  ``prefix-list``, or ``unknown`` for a resource that a route, rule or attachment names
  but the snapshot does not hold;
- ``account``, ``region``, ``vpc`` (``None`` where it does not apply);
- ``label``: a short human name (the ``Name`` tag, group name, load balancer name...);
- ``record``: the typed record from ``graph.model`` (not a scalar: drop it before
  writing GraphML).

ENI nodes also carry ``subnet``, ``instance`` (the instance id or ``None``),
``service`` (``ec2``, ``elb``, ``rds``, ``lambda``, ``nat``, ``vpc-endpoint``... the
thing behind the ENI), ``tags`` (the ENI's own), ``instance_tags`` (its instance's, or
``None``), ``private_ips`` and ``public_ips`` (comma-separated), and ``zone`` once
``graph.zones.assign_zones`` has run. Subnet nodes carry ``public`` (an active route to
an internet gateway), ``cidrs``, ``route_table`` and ``network_acl`` (the effective ones);
VPC nodes ``cidrs`` and ``flow_logs`` (ids of active flow logs on the VPC).

Edge attribute ``kind``:

- ``attached``: internet gateway / egress-only gateway -> VPC; VPC -> TGW attachment;
  TGW attachment -> transit gateway;
- ``contains``: VPC -> subnet;
- ``uses``: subnet -> route table / network ACL, with ``explicit`` (False when the
  subnet falls back to the VPC's main route table or default ACL);
- ``route``: route table -> next hop (``local`` routes point at the VPC), with
  ``destination`` (CIDR or prefix list id) and ``state``; TGW route table -> TGW
  attachment, with ``destination``, ``state`` and ``type`` (static | propagated);
- ``in-subnet``: ENI / NAT gateway / load balancer / interface endpoint -> subnet;
- ``member-of``: ENI / load balancer / endpoint -> security group;
- ``references``: security group -> security group its rules name, with ``direction``;
- ``peers``: peering connection -> each of its two VPCs, with ``status``;
- ``associated``: TGW attachment -> TGW route table; TGW route table -> transit gateway
  (TGW route table nodes also carry ``static_routes`` and ``propagations``, the records);
- ``internet``: internet -> internet gateway;
- (load balancer nodes carry ``scheme`` and ``listeners``: ``[(protocol, port)]``; target
  group nodes ``attributes``, from TargetGroupAttributes.json, and ``targets``: each
  registered target with its state and whether it receives traffic, and why)
- ``forwards``: load balancer -> target ENI that receives traffic
  (``graph.balancing``), with ``protocol`` (the listener's), ``listener_port``,
  ``target_port``, ``target_group``, ``health`` (the target and why it receives
  traffic), ``keeps_client`` (whether the target sees the client's address) and
  ``client`` (why).

Subnets without an explicit association use the VPC's main route table and default
network ACL, as AWS does.

>>> from graph.cidr import parse_prefix
>>> region = RegionSnapshot("111111111111", "eu-west-1")
>>> vpc = m.Vpc("vpc-1", "111111111111", "eu-west-1", [parse_prefix("10.0.0.0/16")])
>>> region.vpcs.append(vpc)
>>> region.subnets.append(
...     m.Subnet("subnet-1", "111111111111", "eu-west-1", "vpc-1", [parse_prefix("10.0.1.0/24")])
... )
>>> g = build_graph(Snapshot("snap", None, [region], []))
>>> g.nodes["subnet-1"]["kind"], [kind for _, _, kind in g.out_edges("vpc-1", data="kind")]
('subnet', ['contains'])
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from graph import fleet
from graph import model as m
from graph.balancing import keeps_client_address, target_decisions
from graph.snapshot import RegionSnapshot, Snapshot

INTERNET = "internet"


def eni_service(eni: m.Eni) -> str:
    """What stands behind an ENI: ``ec2`` for an instance, else the managed service."""
    if eni.instance_id:
        return "ec2"
    kind = eni.interface_type
    if kind not in ("interface", ""):
        return {
            "nat_gateway": "nat",
            "transit_gateway": "transit-gateway",
            "vpc_endpoint": "vpc-endpoint",
            "gateway_load_balancer_endpoint": "vpc-endpoint",
            "network_load_balancer": "elb",
            "load_balancer": "elb",
            "gateway_load_balancer": "elb",
        }.get(kind, kind)
    text = eni.description
    for prefix, service in (
        ("ELB ", "elb"),
        ("RDSNetworkInterface", "rds"),
        ("AWS Lambda VPC ENI", "lambda"),
        ("Amazon EKS", "eks"),
        ("arn:aws:ecs", "ecs"),
        ("ElastiCache", "elasticache"),
        ("Interface for NAT Gateway", "nat"),
        ("Network Interface for Transit Gateway", "transit-gateway"),
        ("VPC Endpoint Interface", "vpc-endpoint"),
        ("DMSNetworkInterface", "dms"),
        ("Amazon Redshift", "redshift"),
        ("ES ", "opensearch"),
        ("DocumentDB", "docdb"),
    ):
        if text.startswith(prefix):
            return service
    if eni.requester_id == "amazon-rds":
        return "rds"
    if eni.requester_id == "amazon-elb":
        return "elb"
    return "unattached" if eni.status == "available" else "other"


def merged_enis(region: RegionSnapshot, not_placed: list[m.NotPlaced] | None = None) -> list[m.Eni]:
    """ENIs from NetworkInterfaces.json (the truth for groups), plus instance ENIs it lacks.

    Elastic IP associations fill in a public address the ENI record does not show; one
    whose ENI or private address is not in the snapshot is added to ``not_placed``.
    """
    enis = list(region.enis)
    known = {e.id for e in enis}
    by_id = {e.id: e for e in enis}
    for instance in region.instances:
        for eni in instance.enis:
            if eni.id in known:
                found = by_id[eni.id]
                if found.instance_id is None:
                    found.instance_id = instance.id
                continue
            known.add(eni.id)
            enis.append(eni)
            by_id[eni.id] = eni
    for address in region.addresses:
        if address.eni_id is None:
            continue  # not associated: nothing to place
        owner = by_id.get(address.eni_id)
        reason = f"associated with {address.eni_id}, which the snapshot does not hold"
        if owner is not None:
            reason = f"associated with {owner.id} at {address.private_ip}, which it does not hold"
            for private in owner.private_ips:
                if address.private_ip is None or private.address.address() == address.private_ip:
                    if private.public_ip is None:
                        private.public_ip = address.public_ip
                    reason = ""
                    break
        if reason and not_placed is not None:
            not_placed.append(
                m.NotPlaced("address", region.account, region.region, address.public_ip, reason)
            )
    return enis


def build_graph(snapshot: Snapshot, *, instances: bool = True) -> nx.MultiDiGraph:
    """The exposure graph of every assessed account-region of ``snapshot``.

    ``graph.graph`` holds ``snapshot`` (the path), ``collected_at``, ``assessed``,
    ``not_assessed``, ``kinds_not_seen``, ``not_placed`` (``graph.model.NotPlaced``:
    what the reader and the graph could not place, with the reason) and ``instances``
    (``graph.model.Instance``, for the IAM rules; empty with ``instances=False``, which
    saves their memory when there is no IAM to analyse) and ``fleet``
    (``graph.rules.fleet.Place``: what already exists, per account-region).
    """
    g = nx.MultiDiGraph()
    g.graph.update(
        snapshot=snapshot.path,
        collected_at=snapshot.collected_at,
        assessed=snapshot.assessed,
        not_assessed=snapshot.not_assessed,
        kinds_not_seen=snapshot.kinds_not_seen(),
        not_placed=[item for region in snapshot.regions for item in region.not_placed],
        instances=[i for region in snapshot.regions for i in region.instances] if instances else [],
        # the fleet posture of each account-region that answered any of its kinds
        fleet=[fleet.place_of(r) for r in snapshot.regions if r.seen & fleet.FLEET_KINDS],
    )
    g.add_node(INTERNET, kind="internet", account=None, region=None, vpc=None, label="internet")
    for region in snapshot.regions:
        _add_region(g, region)
    for key, data in g.nodes(data=True):
        if "kind" not in data:  # named by a route or rule, absent from the snapshot
            data.update(kind="unknown", account=None, region=None, vpc=None, label=key, record=None)
    return g


def _node(g: nx.MultiDiGraph, key: str, kind: str, record: Any, **attrs: Any) -> None:
    g.add_node(key, kind=kind, record=record, **attrs)


def _known(g: nx.MultiDiGraph, key: str) -> bool:
    """Already added as a resource (not merely named by an edge)."""
    return key in g and "kind" in g.nodes[key]


def _label(tags: dict[str, str], default: str) -> str:
    return tags.get("Name") or default


def _add_region(g: nx.MultiDiGraph, r: RegionSnapshot) -> None:
    acct, reg = r.account, r.region
    base = {"account": acct, "region": reg}
    for pl in r.prefix_lists:
        _node(g, pl.id, "prefix-list", pl, vpc=None, label=pl.name or pl.id, **base)
    flow_logs: dict[str, list[str]] = {}
    for log in r.flow_logs:
        if log.status.upper() == "ACTIVE":
            flow_logs.setdefault(log.resource_id, []).append(log.id)
    for vpc in r.vpcs:
        _node(
            g,
            vpc.id,
            "vpc",
            vpc,
            vpc=vpc.id,
            label=_label(vpc.tags, vpc.id),
            cidrs=",".join(str(c) for c in vpc.cidrs),
            flow_logs=flow_logs.get(vpc.id, []),
            **base,
        )
    main_rtb: dict[str, m.RouteTable] = {}
    explicit_rtb: dict[str, m.RouteTable] = {}
    for rtb in r.route_tables:
        _node(g, rtb.id, "route-table", rtb, vpc=rtb.vpc_id, label=_label(rtb.tags, rtb.id), **base)
        if rtb.main:
            main_rtb[rtb.vpc_id] = rtb
        for subnet_id in rtb.subnet_ids:
            explicit_rtb[subnet_id] = rtb
    default_acl: dict[str, m.NetworkAcl] = {}
    explicit_acl: dict[str, m.NetworkAcl] = {}
    for acl in r.network_acls:
        _node(g, acl.id, "network-acl", acl, vpc=acl.vpc_id, label=_label(acl.tags, acl.id), **base)
        if acl.is_default:
            default_acl[acl.vpc_id] = acl
        for subnet_id in acl.subnet_ids:
            explicit_acl[subnet_id] = acl
    for gw in r.gateways:
        _node(g, gw.id, gw.kind, gw, vpc=gw.vpc_ids[0] if gw.vpc_ids else None, label=gw.id, **base)
        for vpc_id in gw.vpc_ids:
            g.add_edge(gw.id, vpc_id, kind="attached")
        if gw.kind == "internet-gateway":
            g.add_edge(INTERNET, gw.id, kind="internet")
    igw_routes: set[str] = set()
    for rtb in r.route_tables:
        for route in rtb.routes:
            dest = str(route.destination) if route.destination else route.prefix_list_id
            target = rtb.vpc_id if route.target == "local" else route.target
            if not target:
                continue
            g.add_edge(rtb.id, target, kind="route", destination=dest, state=route.state)
            if route.kind == "internet-gateway" and route.state == "active":
                igw_routes.add(rtb.id)
    for subnet in r.subnets:
        subnet_rtb = explicit_rtb.get(subnet.id) or main_rtb.get(subnet.vpc_id)
        subnet_acl = explicit_acl.get(subnet.id) or default_acl.get(subnet.vpc_id)
        _node(
            g,
            subnet.id,
            "subnet",
            subnet,
            vpc=subnet.vpc_id,
            label=_label(subnet.tags, subnet.id),
            cidrs=",".join(str(c) for c in subnet.cidrs),
            public=bool(subnet_rtb and subnet_rtb.id in igw_routes),
            route_table=subnet_rtb.id if subnet_rtb else None,
            network_acl=subnet_acl.id if subnet_acl else None,
            **base,
        )
        g.add_edge(subnet.vpc_id, subnet.id, kind="contains")
        if subnet_rtb is not None:
            g.add_edge(subnet.id, subnet_rtb.id, kind="uses", explicit=subnet.id in explicit_rtb)
        if subnet_acl is not None:
            g.add_edge(subnet.id, subnet_acl.id, kind="uses", explicit=subnet.id in explicit_acl)
    for sg in r.security_groups:
        _node(g, sg.id, "security-group", sg, vpc=sg.vpc_id, label=sg.name or sg.id, **base)
    for sg in r.security_groups:
        for direction, rules in (("ingress", sg.ingress), ("egress", sg.egress)):
            for ref in {rule.ref for rule in rules if rule.peer == "group" and rule.ref}:
                g.add_edge(sg.id, ref, kind="references", direction=direction)
    instances = {i.id: i for i in r.instances}
    enis = merged_enis(r, g.graph["not_placed"])
    # ENIs are most of the graph: add them in bulk
    eni_nodes = []
    eni_edges: list[tuple[str, str, str]] = []
    for eni in enis:
        instance = instances.get(eni.instance_id or "")
        instance_tags = instance.tags if instance is not None else None
        tags = instance_tags if instance_tags is not None else eni.tags
        eni_nodes.append(
            (
                eni.id,
                {
                    "kind": "eni",
                    "record": eni,
                    "vpc": eni.vpc_id,
                    "subnet": eni.subnet_id,
                    "instance": eni.instance_id,
                    "service": eni_service(eni),
                    "tags": eni.tags,
                    "instance_tags": instance_tags,
                    "label": _label(tags, eni.instance_id or eni.id),
                    "private_ips": ",".join(p.address.address() for p in eni.private_ips),
                    "public_ips": ",".join(p.public_ip for p in eni.private_ips if p.public_ip),
                    **base,
                },
            )
        )
        eni_edges.append((eni.id, eni.subnet_id, "in-subnet"))
        eni_edges.extend((eni.id, group, "member-of") for group in eni.group_ids)
    g.add_nodes_from(eni_nodes)
    add_edge = g.add_edge  # faster than add_edges_from for a MultiDiGraph
    for source, target, kind in eni_edges:
        add_edge(source, target, kind=kind)
    for nat in r.nat_gateways:
        _node(g, nat.id, "nat-gateway", nat, vpc=nat.vpc_id, label=_label(nat.tags, nat.id), **base)
        g.add_edge(nat.id, nat.subnet_id, kind="in-subnet")
    for pcx in r.peerings:
        if _known(g, pcx.id):
            continue  # listed by both accounts: keep the first
        _node(g, pcx.id, "peering", pcx, vpc=None, label=_label(pcx.tags, pcx.id), **base)
        for side in (pcx.requester, pcx.accepter):
            g.add_edge(pcx.id, side.vpc_id, kind="peers", status=pcx.status)
    for vpce in r.vpc_endpoints:
        _node(g, vpce.id, "vpc-endpoint", vpce, vpc=vpce.vpc_id, label=vpce.service, **base)
        for subnet_id in vpce.subnet_ids:
            g.add_edge(vpce.id, subnet_id, kind="in-subnet")
        for group in vpce.group_ids:
            g.add_edge(vpce.id, group, kind="member-of")
    _add_transit(g, r, base)
    _add_load_balancers(g, r, base, enis)


def _add_transit(g: nx.MultiDiGraph, r: RegionSnapshot, base: dict[str, str]) -> None:
    for tgw in r.transit_gateways:
        if not _known(g, tgw.id):
            _node(
                g, tgw.id, "transit-gateway", tgw, vpc=None, label=_label(tgw.tags, tgw.id), **base
            )
    vpc_of: dict[str, str] = {a.id: a.vpc_id for a in r.tgw_vpc_attachments}
    for att in r.tgw_attachments:
        if _known(g, att.id):
            continue
        vpc = vpc_of.get(att.id) or (att.resource_id if att.resource_type == "vpc" else None)
        _node(g, att.id, "tgw-attachment", att, vpc=vpc, label=att.id, **base)
        g.add_edge(att.id, att.tgw_id, kind="attached")
        if vpc:
            g.add_edge(vpc, att.id, kind="attached")
        if att.route_table_id and att.association_state in (None, "associated"):
            g.add_edge(att.id, att.route_table_id, kind="associated")
    for att_v in r.tgw_vpc_attachments:
        if not _known(g, att_v.id):
            _node(g, att_v.id, "tgw-attachment", att_v, vpc=att_v.vpc_id, label=att_v.id, **base)
            g.add_edge(att_v.id, att_v.tgw_id, kind="attached")
            g.add_edge(att_v.vpc_id, att_v.id, kind="attached")
    for table in r.tgw_route_tables:
        if not _known(g, table.id):
            _node(g, table.id, "tgw-route-table", table, vpc=None, label=table.id, **base)
            g.add_edge(table.id, table.tgw_id, kind="associated")
    for table_id, routes in r.tgw_static_routes.items():
        if table_id in g:
            g.nodes[table_id].setdefault("static_routes", []).extend(routes)
        for route in routes:
            for att_id in route.attachment_ids or [""]:
                if att_id:
                    g.add_edge(
                        table_id,
                        att_id,
                        kind="route",
                        destination=str(route.destination),
                        state=route.state,
                        type=route.type,
                    )
    for table_id, props in r.tgw_propagations.items():
        if table_id in g:
            g.nodes[table_id].setdefault("propagations", []).extend(props)
        for prop in props:
            if prop.state == "enabled":
                g.add_edge(table_id, prop.attachment_id, kind="route", type="propagated")


def _add_load_balancers(
    g: nx.MultiDiGraph, r: RegionSnapshot, base: dict[str, str], enis: list[m.Eni]
) -> None:
    listeners: dict[str, list[tuple[str, int]]] = {}
    for listener in r.listeners:
        listeners.setdefault(listener.lb_arn, []).append((listener.protocol, listener.port))
    for lb in r.load_balancers:
        _node(
            g,
            lb.arn,
            "load-balancer",
            lb,
            vpc=lb.vpc_id,
            label=lb.name,
            scheme=lb.scheme,
            listeners=sorted(listeners.get(lb.arn, [])),
            **base,
        )
        for subnet_id in lb.subnet_ids:
            g.add_edge(lb.arn, subnet_id, kind="in-subnet")
        for sg_id in lb.group_ids:
            g.add_edge(lb.arn, sg_id, kind="member-of")
    for tg in r.target_groups:
        _node(
            g,
            tg.arn,
            "target-group",
            tg,
            vpc=tg.vpc_id,
            label=tg.name,
            attributes=r.target_group_attributes.get(tg.arn, {}),
            **base,
        )
    primary: dict[str, str] = {}
    by_ip: dict[tuple[str, str], str] = {}
    for eni in enis:
        if eni.instance_id and (eni.device_index == 0 or eni.instance_id not in primary):
            primary[eni.instance_id] = eni.id
        for private in eni.private_ips:
            by_ip[(eni.vpc_id, private.address.address())] = eni.id
    by_arn = {tg.arn: tg for tg in r.target_groups}
    lbs = {lb.arn: lb for lb in r.load_balancers}
    ports = _forwarded_ports(r, lbs)
    registered: dict[str, list[m.Target]] = {}
    for target in r.targets:
        registered.setdefault(target.tg_arn, []).append(target)
    not_placed: list[m.NotPlaced] = g.graph["not_placed"]

    def lost(target: m.Target, reason: str) -> None:
        not_placed.append(m.NotPlaced("target", r.account, r.region, target.id, reason))

    for tg_arn, targets in registered.items():
        group = by_arn.get(tg_arn)
        if group is None:
            for target in targets:
                lost(target, f"its target group {tg_arn} is not in the snapshot")
            continue
        if group.target_type not in ("instance", "ip"):
            for target in targets:
                lost(target, f"a {group.target_type} target of {group.name}: not followed")
            continue
        decisions = target_decisions([target.state for target in targets])
        if tg_arn in g:
            g.nodes[tg_arn]["targets"] = [
                {"target": t.id, "state": t.state, "carries": d.carries, "why": d.why}
                for t, d in zip(targets, decisions, strict=True)
            ]
        forwarded = ports.get(tg_arn, {})
        attributes = r.target_group_attributes.get(tg_arn, {})
        clients = {
            lb_arn: keeps_client_address(
                lbs[lb_arn].type, group.target_type, group.protocol, attributes
            )
            for lb_arn in forwarded
        }
        for target, decision in zip(targets, decisions, strict=True):
            if not target.state:
                lost(target, f"a target of {group.name} whose health the snapshot does not give")
            if not decision.carries:
                continue  # decided: no traffic, whether or not the snapshot holds it
            if group.target_type == "instance":
                eni_id = primary.get(target.id)
            else:
                eni_id = by_ip.get((group.vpc_id or "", target.id))
            if eni_id is None:
                lost(target, f"a target of {group.name} that the snapshot does not hold")
                continue
            port = target.port if target.port is not None else group.port
            if port is None:
                lost(target, f"a target of {group.name} with no port, nor has its group")
                continue
            health = f"{target.id} {decision.why}" + (
                f" ({target.reason})" if target.reason else ""
            )
            for lb_arn, listener_ports in forwarded.items():
                keeps, client = clients[lb_arn]
                for listener_port, protocol in sorted(listener_ports):
                    g.add_edge(
                        lb_arn,
                        eni_id,
                        kind="forwards",
                        protocol=protocol,
                        listener_port=listener_port,
                        target_port=port,
                        target_group=group.arn,
                        health=health,
                        keeps_client=keeps,
                        client=client,
                    )


def _forwarded_ports(
    r: RegionSnapshot, lbs: dict[str, m.LoadBalancer]
) -> dict[str, dict[str, set[tuple[int, str]]]]:
    """Target group -> load balancer -> the (port, protocol) of its listeners that forward
    to it."""
    ports: dict[str, dict[str, set[tuple[int, str]]]] = {}
    for listener in r.listeners:
        if listener.lb_arn not in lbs:
            continue
        for tg_arn in listener.target_group_arns:
            ports.setdefault(tg_arn, {}).setdefault(listener.lb_arn, set()).add(
                (listener.port, listener.protocol)
            )
    for tg in r.target_groups:
        for lb_arn in tg.lb_arns:
            if lb_arn in lbs and lb_arn not in ports.get(tg.arn, {}):
                # Forwarded by a listener rule the snapshot does not hold: any listener.
                found = {(x.port, x.protocol) for x in r.listeners if x.lb_arn == lb_arn}
                if found:
                    ports.setdefault(tg.arn, {})[lb_arn] = found
    return ports
