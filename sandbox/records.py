"""The records the EC2 and ELB ``describe_*`` calls return, one function per kind.

The two builders of raw snapshot files share these: :mod:`sandbox.raw` (hand-made
snapshots for the tests, one call per resource) and :mod:`sandbox.synth` (generated
organizations of any size for the benchmarks). Each function returns one item of a
response list (``Vpcs``, ``RouteTables``, ``NetworkInterfaces``...) with AWS's keys and
nesting. Ids are always the caller's: a builder never invents one, so a key that holds an
id of its own (an association id, an attachment id, a volume) appears when the caller
gives that id. :func:`write_files` lays a region's lists out as the snapshot layout of
DESIGN.md fixes: ``<folder>/<Key>.json`` holding ``{"<Key>": [...]}``.

The boto3 side of the sandbox (seeding a stand-in through ``create_*`` calls) is
:mod:`sandbox.seeding`; it shares :func:`tags` and the constants below.

>>> perm("tcp", 22, cidrs=(WORLD,))["IpRanges"]
[{'CidrIp': '0.0.0.0/0'}]
>>> route("10.1.0.0/16", "pcx-1")
{'DestinationCidrBlock': '10.1.0.0/16', 'VpcPeeringConnectionId': 'pcx-1', 'State': 'active'}
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ALL",
    "WORLD",
    "acl_association",
    "acl_entry",
    "attachment",
    "cidr_association",
    "default_acl_entries",
    "default_security_group",
    "egress_only_internet_gateway",
    "elb_arn",
    "flow_log",
    "instance",
    "internet_gateway",
    "listener",
    "listeners_of",
    "load_balancer",
    "nat_gateway",
    "network_acl",
    "network_interface",
    "peering",
    "peering_side",
    "perm",
    "prefix_list",
    "propagation",
    "propagations_of",
    "reservation",
    "route",
    "route_table",
    "route_table_association",
    "route_target_key",
    "security_group",
    "static_route",
    "static_routes_of",
    "subnet",
    "tags",
    "target_group",
    "target_group_attributes_of",
    "target_health",
    "target_health_of",
    "tgw_attachment",
    "tgw_route_table",
    "tgw_vpc_attachment",
    "transit_gateway",
    "vpc",
    "write_files",
]

#: ``IpProtocol`` / ``Protocol`` for every protocol.
ALL = "-1"
WORLD = "0.0.0.0/0"

#: The route key that names each kind of target, by the prefix of the target's id.
_ROUTE_TARGET_KEYS = {
    "local": "GatewayId",
    "igw": "GatewayId",
    "nat": "NatGatewayId",
    "pcx": "VpcPeeringConnectionId",
    "tgw": "TransitGatewayId",
    "eigw": "EgressOnlyInternetGatewayId",
    "eni": "NetworkInterfaceId",
}


def tags(values: Mapping[str, str] | None) -> list[dict[str, str]]:
    """A ``Tags`` (or ``TagSet``) list."""
    return [{"Key": k, "Value": v} for k, v in (values or {}).items()]


# ---- security groups and network ACLs ------------------------------------------------------


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


def security_group(
    group_id: str,
    name: str,
    vpc: str,
    owner: str,
    ingress: list[dict[str, Any]],
    egress: list[dict[str, Any]] | None = None,
    *,
    description: str | None = None,
    tag: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ``SecurityGroups`` item; ``egress`` defaults to AWS's allow-all egress."""
    item: dict[str, Any] = {"GroupId": group_id, "GroupName": name}
    if description is not None:
        item["Description"] = description
    item.update(
        {
            "VpcId": vpc,
            "OwnerId": owner,
            "IpPermissions": ingress,
            "IpPermissionsEgress": egress if egress is not None else [perm(ALL, cidrs=(WORLD,))],
        }
    )
    if tag is not None:
        item["Tags"] = tags(tag)
    return item


def default_security_group(group_id: str, vpc: str, owner: str) -> dict[str, Any]:
    """The group AWS creates with a VPC: all traffic from its own members, all out."""
    return security_group(
        group_id,
        "default",
        vpc,
        owner,
        [perm(ALL, groups=(group_id,), account=owner)],
        description="default VPC security group",
    )


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


def default_acl_entries(*, ipv6: bool = False) -> list[dict[str, Any]]:
    """The entries of a VPC's default network ACL: allow everything, then the ``*`` deny."""
    entries = [
        acl_entry(100, ALL, None, WORLD),
        acl_entry(32767, ALL, None, WORLD, "deny"),
        acl_entry(100, ALL, None, WORLD, egress=True),
        acl_entry(32767, ALL, None, WORLD, "deny", egress=True),
    ]
    if ipv6:
        entries += [
            acl_entry(101, ALL, None, "::/0"),
            acl_entry(101, ALL, None, "::/0", egress=True),
        ]
    return entries


def acl_association(subnet: str, acl_id: str | None = None) -> dict[str, Any]:
    """One NetworkAcls ``Associations`` item."""
    item: dict[str, Any] = {"SubnetId": subnet}
    if acl_id is not None:
        item["NetworkAclId"] = acl_id
    return item


def network_acl(
    acl_id: str,
    vpc: str,
    owner: str,
    entries: list[dict[str, Any]],
    associations: list[dict[str, Any]],
    *,
    default: bool = False,
) -> dict[str, Any]:
    """A ``NetworkAcls`` item."""
    return {
        "NetworkAclId": acl_id,
        "VpcId": vpc,
        "IsDefault": default,
        "OwnerId": owner,
        "Entries": entries,
        "Associations": associations,
    }


# ---- VPCs, subnets and gateways --------------------------------------------------------------


def cidr_association(
    block: str, association_id: str | None = None, *, ipv6: bool = False
) -> dict[str, Any]:
    """One ``CidrBlockAssociationSet`` (or, ``ipv6``, ``Ipv6CidrBlockAssociationSet``) item."""
    item: dict[str, Any] = {} if association_id is None else {"AssociationId": association_id}
    key = "Ipv6CidrBlock" if ipv6 else "CidrBlock"
    item[key] = block
    item[f"{key}State"] = {"State": "associated"}
    return item


def vpc(
    vpc_id: str,
    owner: str,
    cidr: str,
    *,
    tag: Mapping[str, str] | None = None,
    ipv6: str | None = None,
    association_ids: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """A ``Vpcs`` item; ``association_ids`` are those of the IPv4 and the IPv6 block."""
    return {
        "VpcId": vpc_id,
        "OwnerId": owner,
        "State": "available",
        "CidrBlock": cidr,
        "DhcpOptionsId": "dopt-1",
        "InstanceTenancy": "default",
        "IsDefault": False,
        "CidrBlockAssociationSet": [cidr_association(cidr, association_ids[0])],
        "Ipv6CidrBlockAssociationSet": [cidr_association(ipv6, association_ids[1], ipv6=True)]
        if ipv6
        else [],
        "Tags": tags(tag),
    }


def subnet(
    subnet_id: str,
    vpc: str,
    cidr: str,
    zone: str,
    owner: str,
    *,
    public: bool = False,
    tag: Mapping[str, str] | None = None,
    ipv6: str | None = None,
    available_ips: int | None = None,
) -> dict[str, Any]:
    """A ``Subnets`` item; ``available_ips`` defaults to the block less AWS's five."""
    if available_ips is None:
        available_ips = ipaddress.ip_network(cidr).num_addresses - 5
    item: dict[str, Any] = {
        "SubnetId": subnet_id,
        "VpcId": vpc,
        "CidrBlock": cidr,
        "State": "available",
        "AvailabilityZone": zone,
        "AvailableIpAddressCount": available_ips,
        "MapPublicIpOnLaunch": public,
        "DefaultForAz": False,
        "OwnerId": owner,
        "Tags": tags(tag),
    }
    if ipv6:
        item["Ipv6CidrBlockAssociationSet"] = [cidr_association(ipv6, ipv6=True)]
    return item


def internet_gateway(igw_id: str, owner: str, vpc: str) -> dict[str, Any]:
    """An ``InternetGateways`` item attached to ``vpc``."""
    return {
        "InternetGatewayId": igw_id,
        "OwnerId": owner,
        "Attachments": [{"VpcId": vpc, "State": "available"}],
        "Tags": [],
    }


def egress_only_internet_gateway(gateway_id: str, vpc: str) -> dict[str, Any]:
    """An ``EgressOnlyInternetGateways`` item attached to ``vpc``."""
    return {
        "EgressOnlyInternetGatewayId": gateway_id,
        "Attachments": [{"VpcId": vpc, "State": "attached"}],
    }


def nat_gateway(
    nat_id: str,
    vpc: str,
    subnet: str,
    public_ip: str,
    private_ip: str,
    eni: str | None = None,
) -> dict[str, Any]:
    """A public ``NatGateways`` item with one address (and, given, its interface)."""
    address: dict[str, Any] = {"PublicIp": public_ip, "PrivateIp": private_ip}
    if eni is not None:
        address["NetworkInterfaceId"] = eni
    return {
        "NatGatewayId": nat_id,
        "VpcId": vpc,
        "SubnetId": subnet,
        "State": "available",
        "ConnectivityType": "public",
        "NatGatewayAddresses": [address],
    }


def peering_side(vpc: str, owner: str, region: str, cidr: str) -> dict[str, Any]:
    """A peering's ``RequesterVpcInfo`` or ``AccepterVpcInfo``."""
    return {
        "VpcId": vpc,
        "OwnerId": owner,
        "Region": region,
        "CidrBlock": cidr,
        "CidrBlockSet": [{"CidrBlock": cidr}],
    }


def peering(pcx_id: str, requester: dict[str, Any], accepter: dict[str, Any]) -> dict[str, Any]:
    """An active ``VpcPeeringConnections`` item between two :func:`peering_side` records."""
    return {
        "VpcPeeringConnectionId": pcx_id,
        "Status": {"Code": "active", "Message": "Active"},
        "RequesterVpcInfo": requester,
        "AccepterVpcInfo": accepter,
    }


def flow_log(log_id: str, resource: str, destination: str = "cloud-watch-logs") -> dict[str, Any]:
    """An active ``FlowLogs`` item recording all traffic of ``resource``."""
    return {
        "FlowLogId": log_id,
        "ResourceId": resource,
        "FlowLogStatus": "ACTIVE",
        "TrafficType": "ALL",
        "LogDestinationType": destination,
    }


def prefix_list(pl_id: str, name: str, owner: str, cidrs: Iterable[str]) -> dict[str, Any]:
    """A ``PrefixLists`` item with the ``Entries`` the collector adds to each list."""
    return {
        "PrefixListId": pl_id,
        "PrefixListName": name,
        "AddressFamily": "IPv4",
        "State": "create-complete",
        "OwnerId": owner,
        "Entries": [{"Cidr": c} for c in cidrs],
    }


# ---- route tables ----------------------------------------------------------------------------


def route_target_key(target: str) -> str:
    """The key naming a route's target (``GatewayId``, ``NatGatewayId``...), by its id."""
    return _ROUTE_TARGET_KEYS[target.split("-")[0]]


def route(
    destination: str, target: str, *, state: str = "active", origin: str | None = None
) -> dict[str, Any]:
    """One ``Routes`` item; the target's key follows from its id (``local``, ``igw-``,
    ``nat-``, ``pcx-``, ``tgw-``, ``eigw-``, ``eni-``)."""
    item: dict[str, Any] = {
        "DestinationIpv6CidrBlock" if ":" in destination else "DestinationCidrBlock": destination,
        route_target_key(target): target,
        "State": state,
    }
    if origin is not None:
        item["Origin"] = origin
    return item


def route_table_association(subnet: str | None = None) -> dict[str, Any]:
    """One ``Associations`` item: of ``subnet``, or (none given) the VPC's main one."""
    if subnet is None:
        return {"Main": True, "AssociationState": {"State": "associated"}}
    return {"SubnetId": subnet, "Main": False, "AssociationState": {"State": "associated"}}


def route_table(
    rtb_id: str,
    vpc: str,
    owner: str,
    routes: list[dict[str, Any]],
    associations: list[dict[str, Any]],
) -> dict[str, Any]:
    """A ``RouteTables`` item."""
    return {
        "RouteTableId": rtb_id,
        "VpcId": vpc,
        "OwnerId": owner,
        "Tags": [],
        "Routes": routes,
        "Associations": associations,
    }


# ---- interfaces and instances ----------------------------------------------------------------


def attachment(instance_id: str, owner: str, attachment_id: str | None = None) -> dict[str, Any]:
    """An interface's ``Attachment`` to an instance, as its primary interface."""
    item: dict[str, Any] = {"AttachTime": "2026-01-01T00:00:00Z"}
    if attachment_id is not None:
        item["AttachmentId"] = attachment_id
    item.update(
        {
            "DeleteOnTermination": True,
            "DeviceIndex": 0,
            "InstanceId": instance_id,
            "InstanceOwnerId": owner,
            "Status": "attached",
        }
    )
    return item


def network_interface(
    eni_id: str,
    *,
    subnet: str,
    vpc: str,
    zone: str,
    owner: str,
    ip: str,
    groups: Iterable[str],
    ipv6: Iterable[str] = (),
    public_ip: str | None = None,
    description: str = "",
    interface_type: str = "interface",
    requester: str | None = None,
    attached: dict[str, Any] | None = None,
    tag: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ``NetworkInterfaces`` item: ``requester`` makes it requester-managed (a managed
    service's interface), ``attached`` is its :func:`attachment`."""
    dns = f"ip-{ip.replace('.', '-')}.ec2.internal"
    private: dict[str, Any] = {"Primary": True, "PrivateDnsName": dns, "PrivateIpAddress": ip}
    item: dict[str, Any] = {
        "AvailabilityZone": zone,
        "Description": description,
        "Groups": [{"GroupId": g, "GroupName": g} for g in groups],
        "InterfaceType": interface_type,
        "Ipv6Addresses": [{"Ipv6Address": a} for a in ipv6],
        "MacAddress": "02:00:00:00:00:00",
        "NetworkInterfaceId": eni_id,
        "OwnerId": owner,
        "PrivateDnsName": dns,
        "PrivateIpAddress": ip,
        "PrivateIpAddresses": [private],
        "RequesterManaged": requester is not None,
        "SourceDestCheck": True,
        "Status": "in-use",
        "SubnetId": subnet,
        "TagSet": tags(tag),
        "VpcId": vpc,
    }
    if public_ip:
        association = {
            "IpOwnerId": "amazon",
            "PublicDnsName": f"ec2-{public_ip.replace('.', '-')}.compute.amazonaws.com",
            "PublicIp": public_ip,
        }
        item["Association"] = association
        private["Association"] = association
    if requester is not None:
        item["RequesterId"] = requester
    if attached is not None:
        item["Attachment"] = attached
    return item


def instance(
    instance_id: str,
    eni: dict[str, Any],
    *,
    tag: Mapping[str, str] | None = None,
    security_groups: list[dict[str, str]] | None = None,
    volume: str | None = None,
    key_name: str | None = None,
    image: str = "ami-0abcdef1234567890",
    instance_type: str = "m6i.large",
) -> dict[str, Any]:
    """A running instance of ``DescribeInstances`` whose primary interface is ``eni``.

    ``security_groups`` defaults to the interface's groups (pass ``[]`` for what moto
    reports of an instance launched with interfaces); ``volume`` is its root volume.
    """
    item: dict[str, Any] = {
        "AmiLaunchIndex": 0,
        "ImageId": image,
        "InstanceId": instance_id,
        "InstanceType": instance_type,
    }
    if key_name is not None:
        item["KeyName"] = key_name
    item.update(
        {
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
            "BlockDeviceMappings": []
            if volume is None
            else [
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {
                        "AttachTime": "2026-01-01T00:00:00Z",
                        "DeleteOnTermination": True,
                        "Status": "attached",
                        "VolumeId": volume,
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
                {"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in eni["Groups"]
            ]
            if security_groups is None
            else security_groups,
            "SourceDestCheck": True,
            "Tags": tags(tag),
            "VirtualizationType": "hvm",
            "MetadataOptions": {
                "HttpTokens": "required",
                "HttpPutResponseHopLimit": 2,
                "HttpEndpoint": "enabled",
            },
        }
    )
    return item


def reservation(reservation_id: str, owner: str, instances: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``Reservations`` item."""
    return {"ReservationId": reservation_id, "OwnerId": owner, "Groups": [], "Instances": instances}


# ---- transit gateways ------------------------------------------------------------------------


def transit_gateway(tgw_id: str, owner: str) -> dict[str, Any]:
    """A ``TransitGateways`` item."""
    return {"TransitGatewayId": tgw_id, "OwnerId": owner, "State": "available"}


def tgw_route_table(table_id: str, tgw: str) -> dict[str, Any]:
    """A ``TransitGatewayRouteTables`` item."""
    return {"TransitGatewayRouteTableId": table_id, "TransitGatewayId": tgw, "State": "available"}


def tgw_attachment(
    attachment_id: str, tgw: str, owner: str, vpc: str, table: str | None
) -> dict[str, Any]:
    """A ``TransitGatewayAttachments`` item of a VPC, associated with ``table`` if given."""
    item: dict[str, Any] = {
        "TransitGatewayAttachmentId": attachment_id,
        "TransitGatewayId": tgw,
        "TransitGatewayOwnerId": owner,
        "ResourceOwnerId": owner,
        "ResourceType": "vpc",
        "ResourceId": vpc,
        "State": "available",
    }
    if table:
        item["Association"] = {"TransitGatewayRouteTableId": table, "State": "associated"}
    return item


def tgw_vpc_attachment(
    attachment_id: str, tgw: str, vpc: str, owner: str, subnets: Iterable[str]
) -> dict[str, Any]:
    """A ``TransitGatewayVpcAttachments`` item."""
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "TransitGatewayId": tgw,
        "VpcId": vpc,
        "VpcOwnerId": owner,
        "State": "available",
        "SubnetIds": list(subnets),
    }


def static_route(cidr: str, attachment_id: str | None) -> dict[str, Any]:
    """One static route of a TGW route table: to a VPC attachment, or (none) a blackhole."""
    item: dict[str, Any] = {
        "DestinationCidrBlock": cidr,
        "Type": "static",
        "State": "active" if attachment_id else "blackhole",
    }
    if attachment_id:
        item["TransitGatewayAttachments"] = [
            {"TransitGatewayAttachmentId": attachment_id, "ResourceType": "vpc"}
        ]
    return item


def static_routes_of(table: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``TransitGatewayStaticRoutes`` item: the static routes of one TGW route table."""
    return {"TransitGatewayRouteTableId": table, "Routes": routes}


def propagation(attachment_id: str, vpc: str) -> dict[str, Any]:
    """One enabled propagation of a VPC attachment into a TGW route table."""
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "ResourceId": vpc,
        "ResourceType": "vpc",
        "State": "enabled",
    }


def propagations_of(table: str, propagations: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``TransitGatewayPropagations`` item: the propagations into one TGW route table."""
    return {
        "TransitGatewayRouteTableId": table,
        "TransitGatewayRouteTablePropagations": propagations,
    }


# ---- load balancers --------------------------------------------------------------------------


def elb_arn(region: str, account: str, resource: str) -> str:
    """``arn:aws:elasticloadbalancing:...:<resource>`` (``loadbalancer/app/NAME/ID``...)."""
    return f"arn:aws:elasticloadbalancing:{region}:{account}:{resource}"


def load_balancer(
    arn: str,
    name: str,
    vpc: str,
    zones: Iterable[tuple[str, str]],
    groups: Iterable[str],
    *,
    scheme: str = "internet-facing",
    kind: str = "application",
) -> dict[str, Any]:
    """A ``LoadBalancers`` item (elbv2); ``zones`` are (zone name, subnet) pairs."""
    return {
        "LoadBalancerArn": arn,
        "LoadBalancerName": name,
        "Scheme": scheme,
        "VpcId": vpc,
        "State": {"Code": "active"},
        "Type": kind,
        "AvailabilityZones": [{"ZoneName": z, "SubnetId": s} for z, s in zones],
        "SecurityGroups": list(groups),
        "IpAddressType": "ipv4",
    }


def target_group(
    arn: str,
    name: str,
    vpc: str,
    port: int,
    lb: str,
    *,
    protocol: str = "HTTP",
    target_type: str = "instance",
) -> dict[str, Any]:
    """A ``TargetGroups`` item: ``target_type`` targets on ``port`` over ``protocol``,
    behind ``lb``."""
    return {
        "TargetGroupArn": arn,
        "TargetGroupName": name,
        "Protocol": protocol,
        "Port": port,
        "VpcId": vpc,
        "TargetType": target_type,
        "LoadBalancerArns": [lb],
    }


def listener(arn: str, lb: str, port: int, protocol: str, target_group: str) -> dict[str, Any]:
    """One listener forwarding to ``target_group``."""
    return {
        "ListenerArn": arn,
        "LoadBalancerArn": lb,
        "Port": port,
        "Protocol": protocol,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": target_group}],
    }


def listeners_of(lb: str, listeners: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``LoadBalancerListeners`` item: the listeners of one load balancer."""
    return {"LoadBalancerArn": lb, "Listeners": listeners}


def target_health(
    target: str, port: int, state: str = "healthy", reason: str | None = None
) -> dict[str, Any]:
    """One target (an instance id or an IP address, and its port) of a target group, in
    ``state`` (a reason code with it where AWS gives one: ``Target.NotRegistered``)."""
    health: dict[str, Any] = {"State": state}
    if reason is not None:
        health["Reason"] = reason
    return {"Target": {"Id": target, "Port": port}, "TargetHealth": health}


def target_health_of(target_group: str, targets: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``LoadBalancerTargetHealth`` item: the :func:`target_health` of one group."""
    return {"TargetGroupArn": target_group, "TargetHealthDescriptions": targets}


def target_group_attributes_of(target_group: str, attributes: Mapping[str, str]) -> dict[str, Any]:
    """A ``TargetGroupAttributes`` item: DescribeTargetGroupAttributes of one group."""
    return {
        "TargetGroupArn": target_group,
        "Attributes": [{"Key": k, "Value": v} for k, v in attributes.items()],
    }


# ---- files -----------------------------------------------------------------------------------


def write_files(folder: Path, files: Mapping[str, list[Any]], *, indent: int | None = None) -> Path:
    """Write each response list as ``folder/<Key>.json`` (compact unless ``indent``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, items in files.items():
        # json.dumps, not json.dump: dump to a file takes the pure-Python encoder (ten times
        # slower, most of the time of a synthetic snapshot); the text is the same
        if indent is None:
            text = json.dumps({key: items}, separators=(",", ":"))
        else:
            text = json.dumps({key: items}, indent=indent)
        (folder / f"{key}.json").write_text(text, encoding="utf-8")
    return folder
