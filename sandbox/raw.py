"""Hand-made raw snapshots for the tests: one call per resource, AWS's records on disk.

Each method of :class:`RawRegion` adds the record the AWS API would return (same keys,
same nesting: the records of :mod:`sandbox.records`, which the scale generator
:mod:`sandbox.synth` writes too) and ``write`` lays the files out as DESIGN.md fixes:
``ROOT/<account>/<region>/<Key>.json``. A new VPC comes with what AWS creates with it:
the main route table (local route), the default network ACL (allow all, then the ``*``
deny) and the default security group. Tests write their own rules with the record
helpers this module passes on (:data:`ALL`, :func:`acl_entry`, :func:`perm`, :func:`tags`).

>>> import tempfile
>>> region = RawRegion()
>>> web = region.subnet(region.vpc("10.0.0.0/16"), "10.0.1.0/24")
>>> ssh = region.sg(region.vpc_of[web], [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
>>> bastion = region.instance(web, (ssh,), "10.0.1.10", public_ip="52.0.0.1")
>>> with tempfile.TemporaryDirectory() as tmp:
...     sorted(p.name for p in region.write(Path(tmp)).iterdir())[:3]
['NetworkAcls.json', 'NetworkInterfaces.json', 'Reservations.json']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox import records as r
from sandbox.records import ALL, acl_entry, perm, tags

__all__ = ["ALL", "RawRegion", "acl_entry", "perm", "tags"]


class RawRegion:
    """The response lists of one account-region, built resource by resource."""

    def __init__(self, account: str = "111111111111", region: str = "eu-west-1") -> None:
        self.account = account
        self.region = region
        self.files: dict[str, list[Any]] = defaultdict(list)
        self.n = 0
        self.vpc_of: dict[str, str] = {}
        self.main_rtb: dict[str, dict[str, Any]] = {}
        self.default_acl: dict[str, dict[str, Any]] = {}
        self.default_sg: dict[str, str] = {}
        self.rtbs: dict[str, dict[str, Any]] = {}

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.account[-4:]}{self.n:08x}"

    def _entry(
        self, kind: str, key: str, value: str, new: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """The item of ``kind`` whose ``key`` is ``value`` (``new()`` the first time)."""
        for entry in self.files[kind]:
            if entry[key] == value:
                return entry
        entry = new()
        self.files[kind].append(entry)
        return entry

    @property
    def _zone(self) -> str:
        return f"{self.region}a"

    # ---- VPC building blocks ----------------------------------------------------------
    def vpc(self, cidr: str, *, tag: dict[str, str] | None = None, ipv6: str | None = None) -> str:
        vpc_id = self._id("vpc")
        self.files["Vpcs"].append(r.vpc(vpc_id, self.account, cidr, tag=tag, ipv6=ipv6))
        self.main_rtb[vpc_id] = self._route_table(vpc_id, main=True)
        acl = r.network_acl(
            self._id("acl"),
            vpc_id,
            self.account,
            r.default_acl_entries(ipv6=bool(ipv6)),
            [],
            default=True,
        )
        self.files["NetworkAcls"].append(acl)
        self.default_acl[vpc_id] = acl
        sg_id = self._id("sg")
        self.files["SecurityGroups"].append(r.default_security_group(sg_id, vpc_id, self.account))
        self.default_sg[vpc_id] = sg_id
        return vpc_id

    def subnet(
        self, vpc: str, cidr: str, *, tag: dict[str, str] | None = None, ipv6: str | None = None
    ) -> str:
        subnet_id = self._id("subnet")
        self.files["Subnets"].append(
            r.subnet(subnet_id, vpc, cidr, self._zone, self.account, tag=tag, ipv6=ipv6)
        )
        self.vpc_of[subnet_id] = vpc
        return subnet_id

    def igw(self, vpc: str) -> str:
        igw_id = self._id("igw")
        self.files["InternetGateways"].append(r.internet_gateway(igw_id, self.account, vpc))
        return igw_id

    def egress_only_igw(self, vpc: str) -> str:
        gw_id = self._id("eigw")
        self.files["EgressOnlyInternetGateways"].append(r.egress_only_internet_gateway(gw_id, vpc))
        return gw_id

    def _route_table(self, vpc: str, *, main: bool = False) -> dict[str, Any]:
        vpc_item = next(v for v in self.files["Vpcs"] if v["VpcId"] == vpc)
        blocks = [vpc_item["CidrBlock"]] + [
            b["Ipv6CidrBlock"] for b in vpc_item["Ipv6CidrBlockAssociationSet"]
        ]
        rtb = r.route_table(
            self._id("rtb"),
            vpc,
            self.account,
            [r.route(block, "local") for block in blocks],
            [r.route_table_association()] if main else [],
        )
        self.files["RouteTables"].append(rtb)
        self.rtbs[rtb["RouteTableId"]] = rtb
        return rtb

    def route_table(self, vpc: str, subnets: tuple[str, ...] = ()) -> str:
        rtb = self._route_table(vpc)
        rtb["Associations"].extend(r.route_table_association(s) for s in subnets)
        return str(rtb["RouteTableId"])

    def main_route_table(self, vpc: str) -> str:
        return str(self.main_rtb[vpc]["RouteTableId"])

    def route(self, rtb: str, destination: str, target: str, state: str = "active") -> None:
        self.rtbs[rtb]["Routes"].append(r.route(destination, target, state=state))

    def nacl(
        self,
        vpc: str,
        subnets: tuple[str, ...],
        inbound: list[dict[str, Any]],
        outbound: list[dict[str, Any]],
    ) -> str:
        acl_id = self._id("acl")
        for entry in outbound:
            entry["Egress"] = True
        self.files["NetworkAcls"].append(
            r.network_acl(
                acl_id,
                vpc,
                self.account,
                [*inbound, *outbound],
                [r.acl_association(s, acl_id) for s in subnets],
            )
        )
        return acl_id

    def sg(
        self,
        vpc: str,
        ingress: list[dict[str, Any]],
        egress: list[dict[str, Any]] | None = None,
        name: str | None = None,
    ) -> str:
        sg_id = self._id("sg")
        self.files["SecurityGroups"].append(
            r.security_group(sg_id, name or sg_id, vpc, self.account, ingress, egress)
        )
        return sg_id

    def eni(
        self,
        subnet: str,
        groups: tuple[str, ...],
        ip: str,
        *,
        public_ip: str | None = None,
        instance: str | None = None,
        tag: dict[str, str] | None = None,
        description: str = "",
        ipv6: tuple[str, ...] = (),
        requester: str | None = None,
        interface_type: str = "interface",
    ) -> str:
        eni_id = self._id("eni")
        self.files["NetworkInterfaces"].append(
            r.network_interface(
                eni_id,
                subnet=subnet,
                vpc=self.vpc_of[subnet],
                zone=self._zone,
                owner=self.account,
                ip=ip,
                groups=groups,
                ipv6=ipv6,
                public_ip=public_ip,
                description=description,
                interface_type=interface_type,
                requester=requester,
                attached=r.attachment(instance, self.account) if instance else None,
                tag=tag,
            )
        )
        return eni_id

    def instance(
        self,
        subnet: str,
        groups: tuple[str, ...],
        ip: str,
        *,
        public_ip: str | None = None,
        tag: dict[str, str] | None = None,
        ipv6: tuple[str, ...] = (),
    ) -> str:
        instance_id = self._id("i")
        eni_id = self.eni(subnet, groups, ip, public_ip=public_ip, instance=instance_id, ipv6=ipv6)
        eni = next(e for e in self.files["NetworkInterfaces"] if e["NetworkInterfaceId"] == eni_id)
        # moto reports no groups on instances launched with interfaces
        record = r.instance(instance_id, eni, tag=tag, security_groups=[])
        self.files["Reservations"].append(r.reservation(self._id("r"), self.account, [record]))
        return instance_id

    def eni_of(self, instance: str) -> str:
        for eni in self.files["NetworkInterfaces"]:
            if eni.get("Attachment", {}).get("InstanceId") == instance:
                return str(eni["NetworkInterfaceId"])
        raise KeyError(instance)

    # ---- gateways and peering ---------------------------------------------------------
    def nat(self, subnet: str, public_ip: str = "52.0.0.9") -> str:
        nat_id = self._id("nat")
        self.files["NatGateways"].append(
            r.nat_gateway(nat_id, self.vpc_of[subnet], subnet, public_ip, "10.255.0.9")
        )
        return nat_id

    def peering(self, requester: str, accepter: str, *, other: RawRegion | None = None) -> str:
        pcx_id = self._id("pcx")
        far = other or self

        def side(region: RawRegion, vpc: str) -> dict[str, Any]:
            item = next(v for v in region.files["Vpcs"] if v["VpcId"] == vpc)
            return r.peering_side(vpc, region.account, region.region, item["CidrBlock"])

        record = r.peering(pcx_id, side(self, requester), side(far, accepter))
        self.files["VpcPeeringConnections"].append(record)
        if other is not None:
            other.files["VpcPeeringConnections"].append(record)
        return pcx_id

    def flow_log(self, vpc: str) -> str:
        log_id = self._id("fl")
        self.files["FlowLogs"].append(r.flow_log(log_id, vpc))
        return log_id

    def prefix_list(self, name: str, cidrs: tuple[str, ...]) -> str:
        pl_id = self._id("pl")
        self.files["PrefixLists"].append(r.prefix_list(pl_id, name, self.account, cidrs))
        return pl_id

    # ---- transit gateway --------------------------------------------------------------
    def tgw(self) -> str:
        tgw_id = self._id("tgw")
        self.files["TransitGateways"].append(r.transit_gateway(tgw_id, self.account))
        return tgw_id

    def tgw_route_table(self, tgw: str) -> str:
        rt_id = self._id("tgw-rtb")
        self.files["TransitGatewayRouteTables"].append(r.tgw_route_table(rt_id, tgw))
        return rt_id

    def tgw_attach(self, tgw: str, vpc: str, subnets: tuple[str, ...], table: str | None) -> str:
        att_id = self._id("tgw-attach")
        self.files["TransitGatewayAttachments"].append(
            r.tgw_attachment(att_id, tgw, self.account, vpc, table)
        )
        self.files["TransitGatewayVpcAttachments"].append(
            r.tgw_vpc_attachment(att_id, tgw, vpc, self.account, subnets)
        )
        return att_id

    def tgw_static(self, table: str, cidr: str, attachment: str | None) -> None:
        entry = self._entry(
            "TransitGatewayStaticRoutes",
            "TransitGatewayRouteTableId",
            table,
            lambda: r.static_routes_of(table, []),
        )
        entry["Routes"].append(r.static_route(cidr, attachment))

    def tgw_propagate(self, table: str, attachment: str, vpc: str) -> None:
        entry = self._entry(
            "TransitGatewayPropagations",
            "TransitGatewayRouteTableId",
            table,
            lambda: r.propagations_of(table, []),
        )
        entry["TransitGatewayRouteTablePropagations"].append(r.propagation(attachment, vpc))

    # ---- load balancers ---------------------------------------------------------------
    def _arn(self, resource: str) -> str:
        arn = r.elb_arn(self.region, self.account, f"{resource}/{self.n:016x}")
        self.n += 1
        return arn

    def load_balancer(
        self,
        name: str,
        vpc: str,
        subnets: tuple[str, ...],
        groups: tuple[str, ...],
        *,
        scheme: str = "internet-facing",
        kind: str = "application",
    ) -> str:
        short = "app" if kind == "application" else "net"
        arn = self._arn(f"loadbalancer/{short}/{name}")
        zones = [(self._zone, s) for s in subnets]
        self.files["LoadBalancers"].append(
            r.load_balancer(arn, name, vpc, zones, groups, scheme=scheme, kind=kind)
        )
        return arn

    def load_balancer_eni(
        self, lb: str, subnet: str, ip: str, *, public_ip: str | None = None
    ) -> str:
        """One of ``lb``'s own interfaces, as Elastic Load Balancing makes them: described
        ``ELB <type>/<name>/<id>``, requested by ``amazon-elb``, with the load balancer's
        groups (none for a network load balancer made without them)."""
        record = next(x for x in self.files["LoadBalancers"] if x["LoadBalancerArn"] == lb)
        kind = {"application": "load_balancer", "network": "network_load_balancer"}
        return self.eni(
            subnet,
            tuple(record["SecurityGroups"]),
            ip,
            public_ip=public_ip,
            description=f"ELB {lb.partition(':loadbalancer/')[2]}",
            requester="amazon-elb",
            interface_type=kind.get(record["Type"], "interface"),
        )

    def target_group(
        self,
        name: str,
        vpc: str,
        port: int,
        lb: str,
        *,
        protocol: str = "HTTP",
        target_type: str = "instance",
    ) -> str:
        arn = self._arn(f"targetgroup/{name}")
        self.files["TargetGroups"].append(
            r.target_group(arn, name, vpc, port, lb, protocol=protocol, target_type=target_type)
        )
        return arn

    def listener(self, lb: str, port: int, target_group: str, protocol: str = "HTTP") -> None:
        entry = self._entry(
            "LoadBalancerListeners", "LoadBalancerArn", lb, lambda: r.listeners_of(lb, [])
        )
        entry["Listeners"].append(
            r.listener(f"{lb}/listener/{port}", lb, port, protocol, target_group)
        )

    def register(
        self,
        target_group: str,
        target: str,
        port: int,
        state: str = "healthy",
        reason: str | None = None,
    ) -> None:
        """Register ``target`` (an instance id, or an IP address for IP targets)."""
        entry = self._entry(
            "LoadBalancerTargetHealth",
            "TargetGroupArn",
            target_group,
            lambda: r.target_health_of(target_group, []),
        )
        entry["TargetHealthDescriptions"].append(r.target_health(target, port, state, reason))

    def target_group_attributes(self, target_group: str, attributes: dict[str, str]) -> None:
        """Attributes of a target group: ``{"preserve_client_ip.enabled": "true"}``."""
        self.files["TargetGroupAttributes"].append(
            r.target_group_attributes_of(target_group, attributes)
        )

    # ---- output -----------------------------------------------------------------------
    def write(self, root: Path, *, account_level: bool = True) -> Path:
        folder = root / self.account / self.region if account_level else root / self.region
        return r.write_files(folder, self.files, indent=1)
