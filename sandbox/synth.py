"""A synthetic organization snapshot of any size, for benchmarks and demos.

``write_synthetic_snapshot(root, enis=100_000)`` writes raw ``describe_*``-shaped files in
the snapshot layout (DESIGN.md) for an organization that looks like the ones this tool is
for: many accounts and two regions; in each account-region four VPCs (prod, staging,
dev, shared) with public, application and data subnets in two AZs; an internet gateway,
NAT gateways, a transit gateway with segmented route tables (prod and non-prod apart,
shared reachable from both), a dev-shared peering; custom network ACLs on public
subnets; security groups in tiers that reference each other (web -> app -> db), a
corporate prefix list, a legacy "whole 10/8" group and per-service groups; instances
(with the full ``DescribeInstances`` record), RDS and Lambda ENIs, some public IPs and
IPv6 addresses; an internet-facing load balancer per prod and staging VPC; flow logs on
prod only. A few deliberate mistakes (an SSH bastion open to the world, a database group
open to 10/8, an unsegmented dev VPC) give the analysis something to find.

The generator is deterministic for a given size (``random.Random(seed)``).

>>> write_synthetic_snapshot(Path("/tmp/snap"), enis=1000)   # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

ENIS_PER_ACCOUNT_REGION = 1000
REGIONS = ("eu-west-1", "us-east-1")
ENVIRONMENTS = ("prod", "staging", "dev", "shared")
AZS = ("a", "b")


def _tags(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in values.items()]


def perm(
    proto: str,
    low: int | None = None,
    high: int | None = None,
    *,
    cidrs: tuple[str, ...] = (),
    ipv6: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    prefix_lists: tuple[str, ...] = (),
    account: str = "111111111111",
) -> dict[str, Any]:
    """One security group ``IpPermissions`` entry, as DescribeSecurityGroups gives it."""
    out: dict[str, Any] = {
        "IpProtocol": proto,
        "IpRanges": [{"CidrIp": c} for c in cidrs],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in ipv6],
        "PrefixListIds": [{"PrefixListId": p} for p in prefix_lists],
        "UserIdGroupPairs": [{"GroupId": g, "UserId": account} for g in groups],
    }
    if low is not None:
        out["FromPort"] = low
        out["ToPort"] = low if high is None else high
    return out


def acl_entry(
    number: int,
    proto: str,
    ports: tuple[int, int] | None,
    cidr: str,
    action: str = "allow",
    *,
    egress: bool = False,
) -> dict[str, Any]:
    """One NetworkAcls ``Entries`` item; ``proto`` as AWS gives it ("6", "17", "-1")."""
    entry: dict[str, Any] = {
        "RuleNumber": number,
        "Protocol": proto,
        "RuleAction": action,
        "Egress": egress,
    }
    entry["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports is not None:
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    return entry


class _Region:
    """One account-region of the synthetic organization."""

    def __init__(
        self, account: str, region: str, index: int, enis: int, rng: random.Random
    ) -> None:
        self.account, self.region, self.index = account, region, index
        self.rng = rng
        self.enis_wanted = enis
        self.files: dict[str, list[Any]] = {}
        self.counter = 0

    def id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.index:05x}{self.counter:012x}"

    def add(self, key: str, item: Any) -> None:
        self.files.setdefault(key, []).append(item)

    def build(self) -> dict[str, list[Any]]:
        acct = self.account
        pl = self.id("pl")
        self.add(
            "PrefixLists",
            {
                "PrefixListId": pl,
                "PrefixListName": "corporate",
                "AddressFamily": "IPv4",
                "State": "create-complete",
                "OwnerId": acct,
                "Entries": [{"Cidr": "198.51.100.0/24"}, {"Cidr": "203.0.113.0/24"}],
            },
        )
        tgw = self.id("tgw")
        self.add(
            "TransitGateways", {"TransitGatewayId": tgw, "OwnerId": acct, "State": "available"}
        )
        tables = {name: self.id("tgw-rtb") for name in ("prod", "nonprod", "shared")}
        for table in tables.values():
            self.add(
                "TransitGatewayRouteTables",
                {
                    "TransitGatewayRouteTableId": table,
                    "TransitGatewayId": tgw,
                    "State": "available",
                },
            )
        propagations: dict[str, list[dict[str, Any]]] = {t: [] for t in tables.values()}
        vpcs: dict[str, dict[str, Any]] = {}
        second = self.index % 250
        per_env = {"prod": 0.35, "staging": 0.2, "dev": 0.3, "shared": 0.15}
        for n, env in enumerate(ENVIRONMENTS):
            vpc = self._vpc(env, f"10.{(second * 4 + n) % 250}.0.0/16", tgw, tables, propagations)
            vpcs[env] = vpc
            self._workloads(vpc, int(self.enis_wanted * per_env[env]), pl)
        for table, props in propagations.items():
            self.add(
                "TransitGatewayPropagations",
                {
                    "TransitGatewayRouteTableId": table,
                    "TransitGatewayRouteTablePropagations": props,
                },
            )
        self.add(
            "TransitGatewayStaticRoutes",
            {
                "TransitGatewayRouteTableId": tables["nonprod"],
                "Routes": [
                    {
                        "DestinationCidrBlock": "10.255.0.0/16",
                        "Type": "static",
                        "State": "blackhole",
                    }
                ],
            },
        )
        dev, shared = vpcs["dev"], vpcs["shared"]
        pcx = self.id("pcx")
        self.add(
            "VpcPeeringConnections",
            {
                "VpcPeeringConnectionId": pcx,
                "Status": {"Code": "active", "Message": "Active"},
                "RequesterVpcInfo": {
                    "VpcId": dev["id"],
                    "OwnerId": acct,
                    "Region": self.region,
                    "CidrBlock": dev["cidr"],
                    "CidrBlockSet": [{"CidrBlock": dev["cidr"]}],
                },
                "AccepterVpcInfo": {
                    "VpcId": shared["id"],
                    "OwnerId": acct,
                    "Region": self.region,
                    "CidrBlock": shared["cidr"],
                    "CidrBlockSet": [{"CidrBlock": shared["cidr"]}],
                },
            },
        )
        for a, b in ((dev, shared), (shared, dev)):
            for rtb in a["route_tables"]:
                rtb["Routes"].append(
                    {
                        "DestinationCidrBlock": b["cidr"],
                        "VpcPeeringConnectionId": pcx,
                        "State": "active",
                        "Origin": "CreateRoute",
                    }
                )
        return self.files

    def _vpc(
        self,
        env: str,
        cidr: str,
        tgw: str,
        tables: dict[str, str],
        propagations: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any]:
        acct = self.account
        vpc_id = self.id("vpc")
        base = cidr.rsplit(".", 2)[0]
        ipv6 = f"2600:1f18:{self.index % 65536:x}:{ENVIRONMENTS.index(env)}00::/56"
        self.add(
            "Vpcs",
            {
                "VpcId": vpc_id,
                "OwnerId": acct,
                "State": "available",
                "CidrBlock": cidr,
                "DhcpOptionsId": "dopt-1",
                "InstanceTenancy": "default",
                "IsDefault": False,
                "CidrBlockAssociationSet": [
                    {
                        "AssociationId": self.id("vpc-cidr-assoc"),
                        "CidrBlock": cidr,
                        "CidrBlockState": {"State": "associated"},
                    }
                ],
                "Ipv6CidrBlockAssociationSet": [
                    {
                        "AssociationId": self.id("vpc-cidr-assoc"),
                        "Ipv6CidrBlock": ipv6,
                        "Ipv6CidrBlockState": {"State": "associated"},
                    }
                ]
                if env == "prod"
                else [],
                "Tags": _tags({"Name": f"{env}-{self.region}", "Environment": env}),
            },
        )
        igw = self.id("igw")
        self.add(
            "InternetGateways",
            {
                "InternetGatewayId": igw,
                "OwnerId": acct,
                "Attachments": [{"VpcId": vpc_id, "State": "available"}],
                "Tags": [],
            },
        )
        if env == "prod":
            self.add(
                "FlowLogs",
                {
                    "FlowLogId": self.id("fl"),
                    "ResourceId": vpc_id,
                    "FlowLogStatus": "ACTIVE",
                    "TrafficType": "ALL",
                    "LogDestinationType": "s3",
                },
            )
        subnets: dict[str, list[str]] = {"public": [], "app": [], "data": []}
        cidrs: dict[str, str] = {}
        for t, tier in enumerate(("public", "app", "data")):
            for z, az in enumerate(AZS):
                subnet_id = self.id("subnet")
                block = f"{base}.{t * 64 + z * 32}.0/19"
                cidrs[subnet_id] = block
                item = {
                    "SubnetId": subnet_id,
                    "VpcId": vpc_id,
                    "CidrBlock": block,
                    "State": "available",
                    "AvailabilityZone": f"{self.region}{az}",
                    "AvailableIpAddressCount": 8000,
                    "MapPublicIpOnLaunch": tier == "public",
                    "DefaultForAz": False,
                    "OwnerId": acct,
                    "Tags": _tags({"Name": f"{env}-{tier}-{az}", "Tier": tier}),
                }
                if env == "prod" and tier == "public":
                    item["Ipv6CidrBlockAssociationSet"] = [
                        {
                            "Ipv6CidrBlock": ipv6.replace("00::/56", f"{z:02x}::/64"),
                            "Ipv6CidrBlockState": {"State": "associated"},
                        }
                    ]
                self.add("Subnets", item)
                subnets[tier].append(subnet_id)
        nat = self.id("nat")
        self.add(
            "NatGateways",
            {
                "NatGatewayId": nat,
                "VpcId": vpc_id,
                "SubnetId": subnets["public"][0],
                "State": "available",
                "ConnectivityType": "public",
                "NatGatewayAddresses": [
                    {
                        "PublicIp": f"52.{self.index % 250}.{ENVIRONMENTS.index(env)}.1",
                        "PrivateIp": f"{base}.0.5",
                        "NetworkInterfaceId": self.id("eni"),
                    }
                ],
            },
        )
        local = {
            "DestinationCidrBlock": cidr,
            "GatewayId": "local",
            "State": "active",
            "Origin": "CreateRouteTable",
        }
        to_tgw = {
            "DestinationCidrBlock": "10.0.0.0/8",
            "TransitGatewayId": tgw,
            "State": "active",
            "Origin": "CreateRoute",
        }
        public_rtb: dict[str, Any] = {
            "RouteTableId": self.id("rtb"),
            "VpcId": vpc_id,
            "OwnerId": acct,
            "Tags": [],
            "Routes": [
                dict(local),
                dict(to_tgw),
                {
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "GatewayId": igw,
                    "State": "active",
                    "Origin": "CreateRoute",
                },
            ],
            "Associations": [
                {"SubnetId": s, "Main": False, "AssociationState": {"State": "associated"}}
                for s in subnets["public"]
            ],
        }
        if env == "prod":
            public_rtb["Routes"].append(
                {"DestinationIpv6CidrBlock": "::/0", "GatewayId": igw, "State": "active"}
            )
            public_rtb["Routes"].append(
                {"DestinationIpv6CidrBlock": ipv6, "GatewayId": "local", "State": "active"}
            )
        private_rtb = {
            "RouteTableId": self.id("rtb"),
            "VpcId": vpc_id,
            "OwnerId": acct,
            "Tags": [],
            "Routes": [
                dict(local),
                dict(to_tgw),
                {
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "NatGatewayId": nat,
                    "State": "active",
                    "Origin": "CreateRoute",
                },
            ],
            "Associations": [
                {"SubnetId": s, "Main": False, "AssociationState": {"State": "associated"}}
                for s in subnets["app"] + subnets["data"]
            ],
        }
        main_rtb = {
            "RouteTableId": self.id("rtb"),
            "VpcId": vpc_id,
            "OwnerId": acct,
            "Tags": [],
            "Routes": [dict(local)],
            "Associations": [{"Main": True, "AssociationState": {"State": "associated"}}],
        }
        for rtb in (public_rtb, private_rtb, main_rtb):
            self.add("RouteTables", rtb)
        everything = [
            acl_entry(100, "-1", None, "0.0.0.0/0", "allow", egress=False),
            acl_entry(32767, "-1", None, "0.0.0.0/0", "deny", egress=False),
            acl_entry(100, "-1", None, "0.0.0.0/0", "allow", egress=True),
            acl_entry(32767, "-1", None, "0.0.0.0/0", "deny", egress=True),
        ]
        self.add(
            "NetworkAcls",
            {
                "NetworkAclId": self.id("acl"),
                "VpcId": vpc_id,
                "IsDefault": True,
                "OwnerId": acct,
                "Entries": everything,
                "Associations": [{"SubnetId": s} for s in subnets["app"] + subnets["data"]],
            },
        )
        self.add(
            "NetworkAcls",
            {
                "NetworkAclId": self.id("acl"),
                "VpcId": vpc_id,
                "IsDefault": False,
                "OwnerId": acct,
                "Entries": [
                    acl_entry(90, "6", (3389, 3389), "0.0.0.0/0", "deny", egress=False),
                    acl_entry(100, "6", (443, 443), "0.0.0.0/0", "allow", egress=False),
                    acl_entry(110, "6", (80, 80), "0.0.0.0/0", "allow", egress=False),
                    acl_entry(120, "6", (22, 22), "0.0.0.0/0", "allow", egress=False),
                    acl_entry(130, "-1", None, "10.0.0.0/8", "allow", egress=False),
                    acl_entry(140, "6", (1024, 65535), "0.0.0.0/0", "allow", egress=False),
                    acl_entry(32767, "-1", None, "0.0.0.0/0", "deny", egress=False),
                    acl_entry(100, "-1", None, "0.0.0.0/0", "allow", egress=True),
                    acl_entry(32767, "-1", None, "0.0.0.0/0", "deny", egress=True),
                ],
                "Associations": [{"SubnetId": s} for s in subnets["public"]],
            },
        )
        att = self.id("tgw-attach")
        table = tables["shared" if env == "shared" else "prod" if env == "prod" else "nonprod"]
        self.add(
            "TransitGatewayAttachments",
            {
                "TransitGatewayAttachmentId": att,
                "TransitGatewayId": tgw,
                "TransitGatewayOwnerId": acct,
                "ResourceOwnerId": acct,
                "ResourceType": "vpc",
                "ResourceId": vpc_id,
                "State": "available",
                "Association": {"TransitGatewayRouteTableId": table, "State": "associated"},
            },
        )
        self.add(
            "TransitGatewayVpcAttachments",
            {
                "TransitGatewayAttachmentId": att,
                "TransitGatewayId": tgw,
                "VpcId": vpc_id,
                "VpcOwnerId": acct,
                "State": "available",
                "SubnetIds": subnets["app"],
            },
        )
        # prod and non-prod learn their own kind and shared; shared learns everybody
        targets = {
            "prod": ["prod", "shared"],
            "staging": ["nonprod", "shared"],
            "dev": ["nonprod", "shared"],
            "shared": ["prod", "nonprod", "shared"],
        }[env]
        for name in targets:
            propagations[tables[name]].append(
                {
                    "TransitGatewayAttachmentId": att,
                    "ResourceId": vpc_id,
                    "ResourceType": "vpc",
                    "State": "enabled",
                }
            )
        return {
            "id": vpc_id,
            "env": env,
            "cidr": cidr,
            "base": base,
            "subnets": subnets,
            "cidrs": cidrs,
            "route_tables": [public_rtb, private_rtb],
            "ipv6": ipv6,
        }

    def _workloads(self, vpc: dict[str, Any], count: int, pl: str) -> None:
        acct, env, rng = self.account, vpc["env"], self.rng
        vpc_id = vpc["id"]

        def group(
            name: str, ingress: list[dict[str, Any]], egress: list[dict[str, Any]] | None = None
        ) -> str:
            sg_id = self.id("sg")
            self.add(
                "SecurityGroups",
                {
                    "GroupId": sg_id,
                    "GroupName": name,
                    "Description": name,
                    "VpcId": vpc_id,
                    "OwnerId": acct,
                    "IpPermissions": ingress,
                    "IpPermissionsEgress": egress
                    if egress is not None
                    else [perm("-1", cidrs=("0.0.0.0/0",))],
                    "Tags": _tags({"Name": name}),
                },
            )
            return sg_id

        default = self.id("sg")
        self.add(
            "SecurityGroups",
            {
                "GroupId": default,
                "GroupName": "default",
                "Description": "default VPC security group",
                "VpcId": vpc_id,
                "OwnerId": acct,
                "IpPermissions": [perm("-1", groups=(default,), account=acct)],
                "IpPermissionsEgress": [perm("-1", cidrs=("0.0.0.0/0",))],
            },
        )
        lb_sg = group(
            f"{env}-alb",
            [perm("tcp", 443, cidrs=("0.0.0.0/0",)), perm("tcp", 80, cidrs=("0.0.0.0/0",))],
        )
        web = group(
            f"{env}-web",
            [
                perm("tcp", 443, groups=(lb_sg,), account=acct),
                perm("tcp", 22, prefix_lists=(pl,)),
            ],
        )
        bastion = group(
            f"{env}-bastion",
            [perm("tcp", 22, cidrs=("0.0.0.0/0",) if env == "dev" else ("198.51.100.0/24",))],
        )
        app = group(
            f"{env}-app",
            [
                perm("tcp", 8080, groups=(web, lb_sg), account=acct),
                perm("tcp", 22, groups=(bastion,), account=acct),
                perm("tcp", 443, cidrs=("10.0.0.0/8",)),
            ],
        )
        db_sources = ("10.0.0.0/8",) if env == "staging" else ()
        db = group(
            f"{env}-db",
            [
                perm("tcp", 5432, groups=(app,), cidrs=db_sources, account=acct),
                perm("tcp", 6379, groups=(app,), account=acct),
            ],
        )
        legacy = group(f"{env}-legacy", [perm("-1", cidrs=(vpc["cidr"],))])
        services = [
            group(f"{env}-svc-{n}", [perm("tcp", 9000 + n, groups=(app,), account=acct)])
            for n in range(6)
        ]
        lambda_sg = group(f"{env}-lambda", [])
        subnets = vpc["subnets"]
        ip_next: dict[str, int] = {}

        def address(subnet: str) -> str:
            n = ip_next.get(subnet, 10)
            ip_next[subnet] = n + 1
            block = vpc["cidrs"][subnet]
            a, b, c, _ = block.split("/")[0].split(".")
            return f"{a}.{b}.{int(c) + n // 250}.{n % 250 + 4}"

        lb_targets: list[tuple[str, int]] = []
        for n in range(count):
            roll = rng.random()
            az = n % 2
            public_ip = None
            ipv6: list[str] = []
            if roll < 0.15:
                subnet, groups, kind = subnets["public"][az], [web], "instance"
                if rng.random() < 0.3:
                    public_ip = f"54.{self.index % 250}.{n // 250 % 250}.{n % 250}"
                if env == "prod" and rng.random() < 0.5:
                    ipv6 = [vpc["ipv6"].replace("00::/56", f"{az:02x}::{n:x}")]
            elif roll < 0.17:
                subnet, groups, kind = subnets["public"][az], [bastion], "instance"
                public_ip = f"54.{self.index % 250}.{n // 250 % 250}.{n % 250}"
            elif roll < 0.65:
                extra = [services[n % len(services)]] if rng.random() < 0.6 else []
                if env == "dev" and rng.random() < 0.3:
                    extra.append(legacy)
                subnet, groups, kind = subnets["app"][az], [app, *extra], "instance"
            elif roll < 0.8:
                subnet, groups, kind = subnets["data"][az], [db], "rds"
            elif roll < 0.92:
                subnet, groups, kind = subnets["app"][az], [lambda_sg], "lambda"
            else:
                subnet, groups, kind = subnets["data"][az], [db, services[0]], "instance"
            ip = address(subnet)
            eni_id = self.id("eni")
            instance_id = self.id("i") if kind == "instance" else None
            eni = self._eni(eni_id, vpc_id, subnet, groups, ip, public_ip, ipv6, kind, instance_id)
            self.add("NetworkInterfaces", eni)
            if instance_id is not None:
                tags = {"Name": f"{env}-{n}", "Environment": env}
                if groups[0] == db:
                    tags["DataClassification"] = "confidential"
                self.add("Reservations", self._reservation(instance_id, eni, tags))
                if groups[0] == app and len(lb_targets) < 10:
                    lb_targets.append((instance_id, 8080))
        if env in ("prod", "staging") and lb_targets:
            self._load_balancer(env, vpc_id, subnets["public"], lb_sg, lb_targets)

    def _eni(
        self,
        eni_id: str,
        vpc_id: str,
        subnet: str,
        groups: list[str],
        ip: str,
        public_ip: str | None,
        ipv6: list[str],
        kind: str,
        instance_id: str | None,
    ) -> dict[str, Any]:
        private: dict[str, Any] = {
            "Primary": True,
            "PrivateDnsName": f"ip-{ip.replace('.', '-')}.ec2.internal",
            "PrivateIpAddress": ip,
        }
        eni: dict[str, Any] = {
            "AvailabilityZone": f"{self.region}a",
            "Description": "",
            "Groups": [{"GroupId": g, "GroupName": g} for g in groups],
            "InterfaceType": "interface",
            "Ipv6Addresses": [{"Ipv6Address": a} for a in ipv6],
            "MacAddress": "02:00:00:00:00:00",
            "NetworkInterfaceId": eni_id,
            "OwnerId": self.account,
            "PrivateDnsName": private["PrivateDnsName"],
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": [private],
            "RequesterManaged": False,
            "SourceDestCheck": True,
            "Status": "in-use",
            "SubnetId": subnet,
            "TagSet": [],
            "VpcId": vpc_id,
        }
        if public_ip:
            assoc = {
                "IpOwnerId": "amazon",
                "PublicDnsName": f"ec2-{public_ip.replace('.', '-')}.compute.amazonaws.com",
                "PublicIp": public_ip,
            }
            eni["Association"] = assoc
            private["Association"] = assoc
        if kind == "rds":
            eni["Description"] = "RDSNetworkInterface"
            eni["RequesterId"] = "amazon-rds"
            eni["RequesterManaged"] = True
        elif kind == "lambda":
            eni["Description"] = f"AWS Lambda VPC ENI-fn-{eni_id}"
            eni["InterfaceType"] = "lambda"
            eni["RequesterId"] = "AROAEXAMPLE:lambda"
            eni["RequesterManaged"] = True
        if instance_id:
            eni["Attachment"] = {
                "AttachTime": "2026-01-01T00:00:00Z",
                "AttachmentId": self.id("eni-attach"),
                "DeleteOnTermination": True,
                "DeviceIndex": 0,
                "InstanceId": instance_id,
                "InstanceOwnerId": self.account,
                "Status": "attached",
            }
        return eni

    def _reservation(
        self, instance_id: str, eni: dict[str, Any], tags: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "ReservationId": self.id("r"),
            "OwnerId": self.account,
            "Groups": [],
            "Instances": [
                {
                    "AmiLaunchIndex": 0,
                    "ImageId": "ami-0abcdef1234567890",
                    "InstanceId": instance_id,
                    "InstanceType": "m6i.large",
                    "KeyName": "ops",
                    "LaunchTime": "2026-01-01T00:00:00Z",
                    "Monitoring": {"State": "disabled"},
                    "Placement": {
                        "AvailabilityZone": eni["AvailabilityZone"],
                        "GroupName": "",
                        "Tenancy": "default",
                    },
                    "PrivateDnsName": eni["PrivateDnsName"],
                    "PrivateIpAddress": eni["PrivateIpAddress"],
                    "ProductCodes": [],
                    "PublicDnsName": "",
                    "State": {"Code": 16, "Name": "running"},
                    "StateTransitionReason": "",
                    "SubnetId": eni["SubnetId"],
                    "VpcId": eni["VpcId"],
                    "Architecture": "x86_64",
                    "BlockDeviceMappings": [
                        {
                            "DeviceName": "/dev/xvda",
                            "Ebs": {
                                "AttachTime": "2026-01-01T00:00:00Z",
                                "DeleteOnTermination": True,
                                "Status": "attached",
                                "VolumeId": self.id("vol"),
                            },
                        }
                    ],
                    "ClientToken": "",
                    "EbsOptimized": True,
                    "EnaSupport": True,
                    "Hypervisor": "xen",
                    "NetworkInterfaces": [dict(eni)],
                    "RootDeviceName": "/dev/xvda",
                    "RootDeviceType": "ebs",
                    "SecurityGroups": [
                        {"GroupId": g["GroupId"], "GroupName": g["GroupName"]}
                        for g in eni["Groups"]
                    ],
                    "SourceDestCheck": True,
                    "Tags": _tags(tags),
                    "VirtualizationType": "hvm",
                    "MetadataOptions": {
                        "HttpTokens": "required",
                        "HttpPutResponseHopLimit": 2,
                        "HttpEndpoint": "enabled",
                    },
                }
            ],
        }

    def _load_balancer(
        self, env: str, vpc_id: str, subnets: list[str], lb_sg: str, targets: list[tuple[str, int]]
    ) -> None:
        prefix = f"arn:aws:elasticloadbalancing:{self.region}:{self.account}"
        lb = f"{prefix}:loadbalancer/app/{env}-web/{self.index:08x}{self.counter:08x}"
        tg = f"{prefix}:targetgroup/{env}-app/{self.index:08x}{self.counter:08x}"
        self.add(
            "LoadBalancers",
            {
                "LoadBalancerArn": lb,
                "LoadBalancerName": f"{env}-web",
                "Scheme": "internet-facing",
                "VpcId": vpc_id,
                "State": {"Code": "active"},
                "Type": "application",
                "AvailabilityZones": [
                    {"ZoneName": f"{self.region}{AZS[i]}", "SubnetId": s}
                    for i, s in enumerate(subnets)
                ],
                "SecurityGroups": [lb_sg],
                "IpAddressType": "ipv4",
            },
        )
        self.add(
            "TargetGroups",
            {
                "TargetGroupArn": tg,
                "TargetGroupName": f"{env}-app",
                "Protocol": "HTTP",
                "Port": 8080,
                "VpcId": vpc_id,
                "TargetType": "instance",
                "LoadBalancerArns": [lb],
            },
        )
        self.add(
            "LoadBalancerListeners",
            {
                "LoadBalancerArn": lb,
                "Listeners": [
                    {
                        "ListenerArn": f"{lb}/l/1",
                        "LoadBalancerArn": lb,
                        "Port": 443,
                        "Protocol": "HTTPS",
                        "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg}],
                    }
                ],
            },
        )
        self.add(
            "LoadBalancerTargetHealth",
            {
                "TargetGroupArn": tg,
                "TargetHealthDescriptions": [
                    {"Target": {"Id": i, "Port": p}, "TargetHealth": {"State": "healthy"}}
                    for i, p in targets
                ],
            },
        )


def write_synthetic_snapshot(root: Path, enis: int, seed: int = 7) -> dict[str, Any]:
    """Write a synthetic snapshot of about ``enis`` ENIs under ``root``; returns its shape."""
    rng = random.Random(seed)
    places = max(1, round(enis / ENIS_PER_ACCOUNT_REGION))
    regions = REGIONS if places > 1 else REGIONS[:1]
    accounts = max(1, -(-places // len(regions)))
    manifest: dict[str, Any] = {"format": 1, "collected_at": "2026-11-27T08:00:00Z", "accounts": {}}
    per_place = enis // (accounts * len(regions))
    index = 0
    for a in range(accounts):
        account = f"{100000000000 + a:012d}"
        manifest["accounts"][account] = {"regions": {}}
        for region in regions:
            index += 1
            files = _Region(account, region, index, per_place, rng).build()
            folder = root / account / region
            folder.mkdir(parents=True, exist_ok=True)
            for key, items in files.items():
                with open(folder / f"{key}.json", "w", encoding="utf-8") as handle:
                    json.dump({key: items}, handle, separators=(",", ":"))
            manifest["accounts"][account]["regions"][region] = {"status": "ok"}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return {
        "accounts": accounts,
        "regions": len(regions),
        "enis": per_place * accounts * len(regions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic organization snapshot.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--enis", type=int, default=1000)
    args = parser.parse_args()
    print(write_synthetic_snapshot(args.out, args.enis))


if __name__ == "__main__":
    main()
