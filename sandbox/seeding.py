"""The boto3 calls that build networks in an AWS stand-in, each in one place.

:mod:`sandbox.network` (one account-region's estate) and :mod:`sandbox.world` (the demo
world on top of the estates) create everything through these helpers: tag
specifications, VPCs and what AWS creates with them, subnets, route tables and routes,
security groups and their rules, network ACLs and their entries, interfaces, instances
and peerings. Each helper takes an EC2 client (of the account and region to seed) and
sends ordinary requests, so that what the stand-in answers is shaped exactly like AWS's
answers. Request shapes live here; the records the ``describe_*`` calls return, for
snapshots written without a stand-in, are :mod:`sandbox.records` (whose :func:`tags`
and route target keys these requests share).

>>> tag_spec("subnet", "prod-public-a", "prod")[0]["Tags"]
[{'Key': 'Name', 'Value': 'prod-public-a'}, {'Key': 'Environment', 'Value': 'prod'}]
>>> permission(5432, group="sg-1", description="from the app")["UserIdGroupPairs"]
[{'GroupId': 'sg-1', 'Description': 'from the app'}]
>>> subnet_cidr("10.20.0.0/16", 10)
'10.20.10.0/24'
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sandbox.records import WORLD, route_target_key, tags

__all__ = [
    "AMI",
    "WORLD",
    "add_acl_entry",
    "add_route",
    "authorize",
    "create_flow_logs",
    "create_interface",
    "create_internet_gateway",
    "create_network_acl",
    "create_peering",
    "create_route_table",
    "create_security_group",
    "create_subnet",
    "create_vpc",
    "default_network_acl",
    "default_security_group",
    "main_route_table",
    "name_tags",
    "permission",
    "remove_default_vpc",
    "revoke_rules",
    "run_instance",
    "subnet_cidr",
    "tag_spec",
    "zone_names",
]

AMI = "ami-12c6146b"  # an image moto knows in every region


def name_tags(name: str, environment: str | None = None, **extra: str) -> list[dict[str, str]]:
    """``Name`` (and ``Environment``, and ``extra``) as a ``Tags`` list."""
    return tags({"Name": name, **({"Environment": environment} if environment else {}), **extra})


#: The classification tags every instance carries besides its name and environment
#: (values the example spec's ``required_tags`` allow).
INSTANCE_TAGS = {"DataClassification": "internal", "ComplianceScope": "none", "Owner": "platform"}


def tag_spec(resource_type: str, name: str, environment: str | None = None, **extra: str) -> Any:
    """The ``TagSpecifications`` of a create call: :func:`name_tags` on ``resource_type``."""
    return [{"ResourceType": resource_type, "Tags": name_tags(name, environment, **extra)}]


def subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The ``index``-th /24 of a VPC CIDR."""
    return str(list(ipaddress.ip_network(vpc_cidr).subnets(new_prefix=24))[index])


def zone_names(ec2: Any) -> list[str]:
    """The region's availability zones, by name."""
    return [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]


# ---- VPCs and what AWS creates with them -----------------------------------------------------


def create_vpc(ec2: Any, cidr: str, name: str, environment: str, **extra: str) -> str:
    return str(
        ec2.create_vpc(
            CidrBlock=cidr, TagSpecifications=tag_spec("vpc", name, environment, **extra)
        )["Vpc"]["VpcId"]
    )


def remove_default_vpc(ec2: Any) -> list[str]:
    """Delete the region's default VPC(s) and what hangs off them (a common hardening step)."""
    removed = []
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
        vpc_id = vpc["VpcId"]
        vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
        for subnet in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        igw_filter = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        for igw in ec2.describe_internet_gateways(Filters=igw_filter)["InternetGateways"]:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vpc_id)
        removed.append(vpc_id)
    return removed


def _in_vpc(vpc: str, name: str, value: str) -> list[dict[str, Any]]:
    return [{"Name": "vpc-id", "Values": [vpc]}, {"Name": name, "Values": [value]}]


def default_security_group(ec2: Any, vpc: str) -> dict[str, Any]:
    """The VPC's default security group, as DescribeSecurityGroups gives it."""
    groups = ec2.describe_security_groups(Filters=_in_vpc(vpc, "group-name", "default"))
    return dict(groups["SecurityGroups"][0])


def default_network_acl(ec2: Any, vpc: str) -> str:
    acls = ec2.describe_network_acls(Filters=_in_vpc(vpc, "default", "true"))
    return str(acls["NetworkAcls"][0]["NetworkAclId"])


def main_route_table(ec2: Any, vpc: str) -> str:
    tables = ec2.describe_route_tables(Filters=_in_vpc(vpc, "association.main", "true"))
    return str(tables["RouteTables"][0]["RouteTableId"])


def create_flow_logs(ec2: Any, logs: Any, vpc: str, environment: str, account: str) -> str:
    """Flow logs of all the VPC's traffic to a new CloudWatch Logs group of ``environment``."""
    group = f"/ivs/flow-logs/{environment}"
    logs.create_log_group(logGroupName=group)
    created = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName=group,
        DeliverLogsPermissionArn=f"arn:aws:iam::{account}:role/ivs-flow-logs",
    )
    return str(created["FlowLogIds"][0])


# ---- subnets, gateways and routes ------------------------------------------------------------


def create_subnet(
    ec2: Any,
    vpc: str,
    cidr: str,
    zone: str,
    name: str,
    environment: str,
    *,
    public: bool = False,
    **extra: str,
) -> str:
    """A subnet; ``public`` ones give their instances a public IP on launch."""
    subnet_id = str(
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=zone,
            TagSpecifications=tag_spec("subnet", name, environment, **extra),
        )["Subnet"]["SubnetId"]
    )
    if public:
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    return subnet_id


def create_internet_gateway(ec2: Any, vpc: str, environment: str) -> str:
    """An internet gateway named ``<environment>-igw``, attached to ``vpc``."""
    igw = ec2.create_internet_gateway(
        TagSpecifications=tag_spec("internet-gateway", f"{environment}-igw", environment)
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    return str(igw)


def create_route_table(ec2: Any, vpc: str, name: str, environment: str, subnets: list[str]) -> str:
    """A route table (the local route only), associated with ``subnets``."""
    rtb = ec2.create_route_table(
        VpcId=vpc, TagSpecifications=tag_spec("route-table", name, environment)
    )["RouteTable"]["RouteTableId"]
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    return str(rtb)


def add_route(ec2: Any, rtb: str, destination: str, target: str) -> None:
    """A route to ``target``, whose kind (gateway, NAT, peering...) its id says."""
    ec2.create_route(
        RouteTableId=rtb, DestinationCidrBlock=destination, **{route_target_key(target): target}
    )


def create_peering(
    ec2: Any,
    vpc: str,
    peer_vpc: str,
    name: str,
    *,
    accepter: Any = None,
    peer_owner: str | None = None,
    peer_region: str | None = None,
) -> str:
    """Peer ``vpc`` with ``peer_vpc`` (of ``peer_owner``, whose EC2 client ``accepter``
    accepts), and return the connection's id once it is active."""
    other = {"PeerOwnerId": peer_owner} if peer_owner else {}
    if peer_region:
        other["PeerRegion"] = peer_region
    pcx = ec2.create_vpc_peering_connection(
        VpcId=vpc,
        PeerVpcId=peer_vpc,
        TagSpecifications=tag_spec("vpc-peering-connection", name),
        **other,
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])
    if status["VpcPeeringConnections"][0]["Status"]["Code"] != "active":
        (accepter or ec2).accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    return str(pcx)


# ---- security groups -------------------------------------------------------------------------


def create_security_group(ec2: Any, vpc: str, name: str, description: str, environment: str) -> str:
    """A group named (and tagged) ``name``, with AWS's default rules (all out, nothing in)."""
    return str(
        ec2.create_security_group(
            GroupName=name,
            Description=description,
            VpcId=vpc,
            TagSpecifications=tag_spec("security-group", name, environment),
        )["GroupId"]
    )


def permission(
    port: int | None,
    *,
    protocol: str = "tcp",
    cidr: str | None = None,
    group: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    """One ``IpPermissions`` entry of an authorize request: ``port`` (or, None, every port)
    from ``cidr`` and/or the members of ``group``."""
    item: dict[str, Any] = {"IpProtocol": protocol}
    if port is not None:
        item["FromPort"] = item["ToPort"] = port
    if cidr is not None:
        item["IpRanges"] = [{"CidrIp": cidr, "Description": description}]
    if group is not None:
        item["UserIdGroupPairs"] = [{"GroupId": group, "Description": description}]
    return item


def authorize(
    ec2: Any,
    group_id: str,
    port: int | None,
    *,
    protocol: str = "tcp",
    cidr: str | None = None,
    group: str | None = None,
    description: str = "",
) -> None:
    """Admit :func:`permission` ``(port, ...)`` into ``group_id``."""
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            permission(port, protocol=protocol, cidr=cidr, group=group, description=description)
        ],
    )


def revoke_rules(ec2: Any, group: dict[str, Any], *, egress: bool = True) -> None:
    """Remove every inbound (and, ``egress``, outbound) rule of a described group."""
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
        )
    if egress and group.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(
            GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
        )


# ---- network ACLs ----------------------------------------------------------------------------


def create_network_acl(ec2: Any, vpc: str, name: str, environment: str, subnets: list[str]) -> str:
    """A network ACL (denying everything until entries are added), moved onto ``subnets``."""
    acl = str(
        ec2.create_network_acl(
            VpcId=vpc, TagSpecifications=tag_spec("network-acl", name, environment)
        )["NetworkAcl"]["NetworkAclId"]
    )
    # A subnet always has one ACL: its association is replaced, not added.
    current = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": subnets}]
    )["NetworkAcls"]
    for found in current:
        for association in found.get("Associations", []):
            if association["SubnetId"] in subnets:
                ec2.replace_network_acl_association(
                    AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl
                )
    return acl


def add_acl_entry(
    ec2: Any,
    acl: str,
    number: int,
    action: str,
    cidr: str,
    ports: tuple[int, int] | None,
    *,
    egress: bool = False,
) -> None:
    """Entry ``number``: TCP on ``ports``, or (None) every protocol, from or to ``cidr``."""
    entry: dict[str, Any] = {
        "NetworkAclId": acl,
        "RuleNumber": number,
        "RuleAction": action,
        "Egress": egress,
        "CidrBlock": cidr,
    }
    if ports is None:
        entry["Protocol"] = "-1"
    else:
        entry["Protocol"] = "6"
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    ec2.create_network_acl_entry(**entry)


# ---- interfaces and instances ----------------------------------------------------------------


def create_interface(
    ec2: Any,
    subnet: str,
    groups: list[str],
    description: str,
    name: str,
    environment: str,
    **extra: str,
) -> str:
    """A detached interface; ``description`` is how AWS marks a managed service's."""
    return str(
        ec2.create_network_interface(
            SubnetId=subnet,
            Groups=groups,
            Description=description,
            TagSpecifications=tag_spec("network-interface", name, environment, **extra),
        )["NetworkInterface"]["NetworkInterfaceId"]
    )


def run_instance(
    ec2: Any,
    subnet: str,
    groups: list[str],
    name: str,
    environment: str,
    *,
    public_ip: bool,
    image: str = AMI,
    **extra: str,
) -> dict[str, Any]:
    """Launch one small instance of ``image``; return its ``RunInstances`` record.

    As the baseline has it: IMDSv2 only (the SCP denies anything else in Workloads), and
    the classification tags the spec requires (``INSTANCE_TAGS``, unless given)."""
    extra = {**INSTANCE_TAGS, **extra}
    # Launched with SubnetId/SecurityGroupIds (not NetworkInterfaces) when private, so
    # that moto also fills the instance's SecurityGroups; public instances need the
    # interface form to choose their public IP.
    launch: dict[str, Any] = (
        {
            "NetworkInterfaces": [
                {
                    "DeviceIndex": 0,
                    "SubnetId": subnet,
                    "Groups": groups,
                    "AssociatePublicIpAddress": True,
                }
            ]
        }
        if public_ip
        else {"SubnetId": subnet, "SecurityGroupIds": groups}
    )
    instance = ec2.run_instances(
        ImageId=image,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=tag_spec("instance", name, environment, **extra),
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        **launch,
    )["Instances"][0]
    return dict(instance)
