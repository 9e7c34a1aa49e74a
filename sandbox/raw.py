"""Build raw ``describe_*``-shaped snapshot files in code, for the exposure tests.

Each method adds what the AWS API would return (same keys, same nesting) and ``write``
lays the files out as DESIGN.md fixes: ``ROOT/<account>/<region>/<Key>.json``. A new VPC
comes with what AWS creates with it: the main route table (local route), the default
network ACL (allow all, then the ``*`` deny) and the default security group.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from sandbox.synth import acl_entry, perm

__all__ = ["ALL", "RawRegion", "acl_entry", "perm", "tags"]

ALL = "-1"


def tags(values: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (values or {}).items()]


class RawRegion:
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

    # ---- VPC building blocks ----------------------------------------------------------
    def vpc(self, cidr: str, *, tag: dict[str, str] | None = None, ipv6: str | None = None) -> str:
        vpc_id = self._id("vpc")
        item: dict[str, Any] = {
            "VpcId": vpc_id,
            "OwnerId": self.account,
            "CidrBlock": cidr,
            "CidrBlockAssociationSet": [
                {"CidrBlock": cidr, "CidrBlockState": {"State": "associated"}}
            ],
            "IsDefault": False,
            "State": "available",
            "Tags": tags(tag),
        }
        if ipv6:
            item["Ipv6CidrBlockAssociationSet"] = [
                {"Ipv6CidrBlock": ipv6, "Ipv6CidrBlockState": {"State": "associated"}}
            ]
        self.files["Vpcs"].append(item)
        rtb = self._route_table(vpc_id, main=True)
        self.main_rtb[vpc_id] = rtb
        acl: dict[str, Any] = {
            "NetworkAclId": self._id("acl"),
            "VpcId": vpc_id,
            "IsDefault": True,
            "Associations": [],
            "Entries": [
                acl_entry(100, ALL, None, "0.0.0.0/0"),
                acl_entry(32767, ALL, None, "0.0.0.0/0", "deny"),
                acl_entry(100, ALL, None, "0.0.0.0/0", egress=True),
                acl_entry(32767, ALL, None, "0.0.0.0/0", "deny", egress=True),
            ],
        }
        if ipv6:
            acl["Entries"] += [
                acl_entry(101, ALL, None, "::/0"),
                acl_entry(101, ALL, None, "::/0", egress=True),
            ]
        self.files["NetworkAcls"].append(acl)
        self.default_acl[vpc_id] = acl
        sg_id = self._id("sg")
        self.files["SecurityGroups"].append(
            {
                "GroupId": sg_id,
                "GroupName": "default",
                "VpcId": vpc_id,
                "OwnerId": self.account,
                "IpPermissions": [perm(ALL, groups=(sg_id,))],
                "IpPermissionsEgress": [perm(ALL, cidrs=("0.0.0.0/0",))],
            }
        )
        self.default_sg[vpc_id] = sg_id
        return vpc_id

    def subnet(
        self, vpc: str, cidr: str, *, tag: dict[str, str] | None = None, ipv6: str | None = None
    ) -> str:
        subnet_id = self._id("subnet")
        item: dict[str, Any] = {
            "SubnetId": subnet_id,
            "VpcId": vpc,
            "CidrBlock": cidr,
            "AvailabilityZone": f"{self.region}a",
            "MapPublicIpOnLaunch": False,
            "Tags": tags(tag),
        }
        if ipv6:
            item["Ipv6CidrBlockAssociationSet"] = [
                {"Ipv6CidrBlock": ipv6, "Ipv6CidrBlockState": {"State": "associated"}}
            ]
        self.files["Subnets"].append(item)
        self.vpc_of[subnet_id] = vpc
        return subnet_id

    def igw(self, vpc: str) -> str:
        igw_id = self._id("igw")
        self.files["InternetGateways"].append(
            {
                "InternetGatewayId": igw_id,
                "OwnerId": self.account,
                "Attachments": [{"VpcId": vpc, "State": "available"}],
                "Tags": [],
            }
        )
        return igw_id

    def egress_only_igw(self, vpc: str) -> str:
        gw_id = self._id("eigw")
        self.files["EgressOnlyInternetGateways"].append(
            {
                "EgressOnlyInternetGatewayId": gw_id,
                "Attachments": [{"VpcId": vpc, "State": "attached"}],
            }
        )
        return gw_id

    def _route_table(self, vpc: str, *, main: bool = False) -> dict[str, Any]:
        vpc_item = next(v for v in self.files["Vpcs"] if v["VpcId"] == vpc)
        routes = [
            {"DestinationCidrBlock": vpc_item["CidrBlock"], "GatewayId": "local", "State": "active"}
        ]
        for block in vpc_item.get("Ipv6CidrBlockAssociationSet", []):
            routes.append(
                {
                    "DestinationIpv6CidrBlock": block["Ipv6CidrBlock"],
                    "GatewayId": "local",
                    "State": "active",
                }
            )
        rtb: dict[str, Any] = {
            "RouteTableId": self._id("rtb"),
            "VpcId": vpc,
            "OwnerId": self.account,
            "Routes": routes,
            "Associations": [{"Main": True, "AssociationState": {"State": "associated"}}]
            if main
            else [],
            "Tags": [],
        }
        self.files["RouteTables"].append(rtb)
        self.rtbs[rtb["RouteTableId"]] = rtb
        return rtb

    def route_table(self, vpc: str, subnets: tuple[str, ...] = ()) -> str:
        rtb = self._route_table(vpc)
        for subnet in subnets:
            rtb["Associations"].append(
                {"Main": False, "SubnetId": subnet, "AssociationState": {"State": "associated"}}
            )
        return str(rtb["RouteTableId"])

    def main_route_table(self, vpc: str) -> str:
        return str(self.main_rtb[vpc]["RouteTableId"])

    def route(self, rtb: str, destination: str, target: str, state: str = "active") -> None:
        route: dict[str, Any] = {"State": state}
        route["DestinationIpv6CidrBlock" if ":" in destination else "DestinationCidrBlock"] = (
            destination
        )
        key = {
            "igw": "GatewayId",
            "nat": "NatGatewayId",
            "pcx": "VpcPeeringConnectionId",
            "tgw": "TransitGatewayId",
            "eigw": "EgressOnlyInternetGatewayId",
            "eni": "NetworkInterfaceId",
        }[target.split("-")[0]]
        route[key] = target
        self.rtbs[rtb]["Routes"].append(route)

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
            {
                "NetworkAclId": acl_id,
                "VpcId": vpc,
                "IsDefault": False,
                "Associations": [{"SubnetId": s, "NetworkAclId": acl_id} for s in subnets],
                "Entries": [*inbound, *outbound],
            }
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
            {
                "GroupId": sg_id,
                "GroupName": name or sg_id,
                "VpcId": vpc,
                "OwnerId": self.account,
                "IpPermissions": ingress,
                "IpPermissionsEgress": egress
                if egress is not None
                else [perm(ALL, cidrs=("0.0.0.0/0",))],
            }
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
    ) -> str:
        eni_id = self._id("eni")
        private: dict[str, Any] = {"PrivateIpAddress": ip, "Primary": True}
        item: dict[str, Any] = {
            "NetworkInterfaceId": eni_id,
            "SubnetId": subnet,
            "VpcId": self.vpc_of[subnet],
            "AvailabilityZone": f"{self.region}a",
            "OwnerId": self.account,
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": [private],
            "Ipv6Addresses": [{"Ipv6Address": a} for a in ipv6],
            "Groups": [{"GroupId": g, "GroupName": g} for g in groups],
            "InterfaceType": "interface",
            "Description": description,
            "Status": "in-use",
            "TagSet": tags(tag),
        }
        if requester:
            item["RequesterId"] = requester
            item["RequesterManaged"] = True
        if public_ip:
            assoc = {"PublicIp": public_ip, "IpOwnerId": "amazon"}
            private["Association"] = assoc
            item["Association"] = assoc
        if instance:
            item["Attachment"] = {"InstanceId": instance, "DeviceIndex": 0, "Status": "attached"}
        self.files["NetworkInterfaces"].append(item)
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
        self.files["Reservations"].append(
            {
                "ReservationId": self._id("r"),
                "OwnerId": self.account,
                "Instances": [
                    {
                        "InstanceId": instance_id,
                        "State": {"Code": 16, "Name": "running"},
                        "SubnetId": subnet,
                        "VpcId": self.vpc_of[subnet],
                        "PrivateIpAddress": ip,
                        # moto reports no groups on instances launched with interfaces
                        "SecurityGroups": [],
                        "NetworkInterfaces": [dict(eni)],
                        "Tags": tags(tag),
                    }
                ],
            }
        )
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
            {
                "NatGatewayId": nat_id,
                "VpcId": self.vpc_of[subnet],
                "SubnetId": subnet,
                "State": "available",
                "ConnectivityType": "public",
                "NatGatewayAddresses": [{"PublicIp": public_ip, "PrivateIp": "10.255.0.9"}],
            }
        )
        return nat_id

    def peering(self, requester: str, accepter: str, *, other: RawRegion | None = None) -> str:
        pcx_id = self._id("pcx")
        far = other or self

        def info(region: RawRegion, vpc: str) -> dict[str, Any]:
            item = next(v for v in region.files["Vpcs"] if v["VpcId"] == vpc)
            return {
                "VpcId": vpc,
                "OwnerId": region.account,
                "Region": region.region,
                "CidrBlock": item["CidrBlock"],
                "CidrBlockSet": [{"CidrBlock": item["CidrBlock"]}],
            }

        record = {
            "VpcPeeringConnectionId": pcx_id,
            "Status": {"Code": "active", "Message": "Active"},
            "RequesterVpcInfo": info(self, requester),
            "AccepterVpcInfo": info(far, accepter),
        }
        self.files["VpcPeeringConnections"].append(record)
        if other is not None:
            other.files["VpcPeeringConnections"].append(record)
        return pcx_id

    def flow_log(self, vpc: str) -> str:
        log_id = self._id("fl")
        self.files["FlowLogs"].append(
            {
                "FlowLogId": log_id,
                "ResourceId": vpc,
                "FlowLogStatus": "ACTIVE",
                "TrafficType": "ALL",
            }
        )
        return log_id

    def prefix_list(self, name: str, cidrs: tuple[str, ...]) -> str:
        pl_id = self._id("pl")
        self.files["PrefixLists"].append(
            {
                "PrefixListId": pl_id,
                "PrefixListName": name,
                "AddressFamily": "IPv4",
                "Entries": [{"Cidr": c} for c in cidrs],
            }
        )
        return pl_id

    # ---- transit gateway --------------------------------------------------------------
    def tgw(self) -> str:
        tgw_id = self._id("tgw")
        self.files["TransitGateways"].append(
            {"TransitGatewayId": tgw_id, "OwnerId": self.account, "State": "available"}
        )
        return tgw_id

    def tgw_route_table(self, tgw: str) -> str:
        rt_id = self._id("tgw-rtb")
        self.files["TransitGatewayRouteTables"].append(
            {"TransitGatewayRouteTableId": rt_id, "TransitGatewayId": tgw, "State": "available"}
        )
        return rt_id

    def tgw_attach(self, tgw: str, vpc: str, subnets: tuple[str, ...], table: str | None) -> str:
        att_id = self._id("tgw-attach")
        item: dict[str, Any] = {
            "TransitGatewayAttachmentId": att_id,
            "TransitGatewayId": tgw,
            "TransitGatewayOwnerId": self.account,
            "ResourceOwnerId": self.account,
            "ResourceType": "vpc",
            "ResourceId": vpc,
            "State": "available",
        }
        if table:
            item["Association"] = {"TransitGatewayRouteTableId": table, "State": "associated"}
        self.files["TransitGatewayAttachments"].append(item)
        self.files["TransitGatewayVpcAttachments"].append(
            {
                "TransitGatewayAttachmentId": att_id,
                "TransitGatewayId": tgw,
                "VpcId": vpc,
                "VpcOwnerId": self.account,
                "State": "available",
                "SubnetIds": list(subnets),
            }
        )
        return att_id

    def tgw_static(self, table: str, cidr: str, attachment: str | None) -> None:
        entry = next(
            (
                e
                for e in self.files["TransitGatewayStaticRoutes"]
                if e["TransitGatewayRouteTableId"] == table
            ),
            None,
        )
        if entry is None:
            entry = {"TransitGatewayRouteTableId": table, "Routes": []}
            self.files["TransitGatewayStaticRoutes"].append(entry)
        route: dict[str, Any] = {
            "DestinationCidrBlock": cidr,
            "Type": "static",
            "State": "active" if attachment else "blackhole",
        }
        if attachment:
            route["TransitGatewayAttachments"] = [
                {"TransitGatewayAttachmentId": attachment, "ResourceType": "vpc"}
            ]
        entry["Routes"].append(route)

    def tgw_propagate(self, table: str, attachment: str, vpc: str) -> None:
        entry = next(
            (
                e
                for e in self.files["TransitGatewayPropagations"]
                if e["TransitGatewayRouteTableId"] == table
            ),
            None,
        )
        if entry is None:
            entry = {
                "TransitGatewayRouteTableId": table,
                "TransitGatewayRouteTablePropagations": [],
            }
            self.files["TransitGatewayPropagations"].append(entry)
        entry["TransitGatewayRouteTablePropagations"].append(
            {
                "TransitGatewayAttachmentId": attachment,
                "ResourceId": vpc,
                "ResourceType": "vpc",
                "State": "enabled",
            }
        )

    # ---- load balancers ---------------------------------------------------------------
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
        arn = (
            f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:loadbalancer/"
            f"{short}/{name}/{self.n:016x}"
        )
        self.n += 1
        self.files["LoadBalancers"].append(
            {
                "LoadBalancerArn": arn,
                "LoadBalancerName": name,
                "Scheme": scheme,
                "VpcId": vpc,
                "State": {"Code": "active"},
                "Type": kind,
                "AvailabilityZones": [
                    {"ZoneName": f"{self.region}a", "SubnetId": s} for s in subnets
                ],
                "SecurityGroups": list(groups),
            }
        )
        return arn

    def target_group(self, name: str, vpc: str, port: int, lb: str) -> str:
        prefix = f"arn:aws:elasticloadbalancing:{self.region}:{self.account}"
        arn = f"{prefix}:targetgroup/{name}/{self.n:016x}"
        self.n += 1
        self.files["TargetGroups"].append(
            {
                "TargetGroupArn": arn,
                "TargetGroupName": name,
                "Protocol": "HTTP",
                "Port": port,
                "VpcId": vpc,
                "TargetType": "instance",
                "LoadBalancerArns": [lb],
            }
        )
        return arn

    def listener(self, lb: str, port: int, target_group: str, protocol: str = "HTTP") -> None:
        entry = next(
            (e for e in self.files["LoadBalancerListeners"] if e["LoadBalancerArn"] == lb), None
        )
        if entry is None:
            entry = {"LoadBalancerArn": lb, "Listeners": []}
            self.files["LoadBalancerListeners"].append(entry)
        entry["Listeners"].append(
            {
                "ListenerArn": f"{lb}/listener/{port}",
                "LoadBalancerArn": lb,
                "Port": port,
                "Protocol": protocol,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": target_group}],
            }
        )

    def register(self, target_group: str, instance: str, port: int) -> None:
        entry = next(
            (
                e
                for e in self.files["LoadBalancerTargetHealth"]
                if e["TargetGroupArn"] == target_group
            ),
            None,
        )
        if entry is None:
            entry = {"TargetGroupArn": target_group, "TargetHealthDescriptions": []}
            self.files["LoadBalancerTargetHealth"].append(entry)
        entry["TargetHealthDescriptions"].append(
            {"Target": {"Id": instance, "Port": port}, "TargetHealth": {"State": "healthy"}}
        )

    # ---- output -----------------------------------------------------------------------
    def write(self, root: Path, *, account_level: bool = True) -> Path:
        folder = root / self.account / self.region if account_level else root / self.region
        folder.mkdir(parents=True, exist_ok=True)
        for key, items in self.files.items():
            (folder / f"{key}.json").write_text(json.dumps({key: items}, indent=1))
        return folder
