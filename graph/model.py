"""Typed records of a snapshot: the parts of the raw ``describe_*`` responses that the
analysis reads, one dataclass per kind of resource.

``graph.snapshot`` fills them from the raw files; ``graph.build`` turns them into the graph.
Addresses and CIDR blocks are parsed once into ``graph.cidr.Prefix`` values and rule
ports into ``graph.ports.Traffic`` values. Every record knows its account and region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.cidr import Prefix
from graph.ports import Traffic

Tags = dict[str, str]


@dataclass(slots=True, frozen=True)
class NotPlaced:
    """Something of the snapshot that the analysis cannot place, and why (DESIGN.md,
    "Nothing is dropped silently"). ``kind`` is ``eni`` (none of its addresses can be
    placed), ``address`` (one address of an ENI, or an Elastic IP), ``target`` (of a load
    balancer), ``record`` (an item the analysis does not model) or ``value`` (a field
    whose value is not one of AWS's; ``resource`` is then its JSON path in its file)."""

    kind: str
    account: str
    region: str
    resource: str
    reason: str


@dataclass(slots=True)
class Vpc:
    id: str
    account: str
    region: str
    cidrs: list[Prefix]  # IPv4 blocks then IPv6 blocks (associated ones only)
    is_default: bool = False
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class Subnet:
    id: str
    account: str
    region: str
    vpc_id: str
    cidrs: list[Prefix]  # the IPv4 block, then any associated IPv6 blocks
    az: str = ""
    map_public_ip: bool = False
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class Route:
    """One route of a VPC route table.

    ``target`` is ``local`` or the id of the next hop (``igw-``, ``eigw-``, ``nat-``,
    ``pcx-``, ``tgw-``, ``vpce-``, ``eni-``, ``i-``, ``vgw-``...); ``kind`` names its type.
    A route to a prefix list has ``prefix_list_id`` and no ``destination``.
    """

    destination: Prefix | None
    prefix_list_id: str | None
    target: str
    kind: str
    state: str = "active"  # active | blackhole


@dataclass(slots=True)
class RouteTable:
    id: str
    account: str
    region: str
    vpc_id: str
    routes: list[Route]
    subnet_ids: list[str] = field(default_factory=list)
    main: bool = False
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class AclEntry:
    number: int
    egress: bool
    allow: bool
    traffic: Traffic
    cidr: Prefix


@dataclass(slots=True)
class NetworkAcl:
    id: str
    account: str
    region: str
    vpc_id: str
    is_default: bool
    inbound: list[AclEntry]  # sorted by rule number
    outbound: list[AclEntry]
    subnet_ids: list[str] = field(default_factory=list)
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class SgRule:
    """One source (or destination) of one permission of a security group.

    ``peer`` is ``cidr`` (``cidr`` set), ``prefix-list`` or ``group`` (``ref`` set).
    ``text`` is the rule as a finding shows it: ``tcp 22 from 0.0.0.0/0``.
    """

    traffic: Traffic
    peer: str
    cidr: Prefix | None
    ref: str | None
    text: str


@dataclass(slots=True)
class SecurityGroup:
    id: str
    account: str
    region: str
    vpc_id: str
    name: str
    ingress: list[SgRule]
    egress: list[SgRule]
    owner: str = ""
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class PrivateIp:
    address: Prefix
    public_ip: str | None = None


@dataclass(slots=True)
class Eni:
    """An elastic network interface: the unit that security groups apply to."""

    id: str
    account: str
    region: str
    vpc_id: str
    subnet_id: str
    group_ids: tuple[str, ...]
    private_ips: list[PrivateIp]
    ipv6: list[Prefix] = field(default_factory=list)
    interface_type: str = "interface"
    requester_id: str = ""
    description: str = ""
    instance_id: str | None = None
    status: str = "in-use"
    device_index: int = 0
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class Instance:
    id: str
    account: str
    region: str
    state: str
    subnet_id: str | None
    vpc_id: str | None
    tags: Tags = field(default_factory=dict)
    #: ENIs as DescribeInstances shows them (used when NetworkInterfaces.json lacks one).
    enis: list[Eni] = field(default_factory=list)
    #: The ARN of its instance profile (``IamInstanceProfile.Arn``), if it has one.
    profile: str | None = None
    image_id: str | None = None
    #: ``MetadataOptions``: ``HttpTokens`` (``optional`` allows IMDSv1) and ``HttpEndpoint``
    http_tokens: str | None = None
    http_endpoint: str | None = None


# ---- fleet posture: what already exists ---------------------------------------------------


@dataclass(slots=True)
class Volume:
    id: str
    account: str
    region: str
    encrypted: bool
    state: str
    create_time: str | None
    instance_ids: list[str] = field(default_factory=list)
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class EbsSnapshot:
    id: str
    account: str
    region: str
    owner: str
    encrypted: bool
    volume_id: str | None
    start_time: str | None
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class MachineImage:
    id: str
    account: str  # where it was read
    region: str
    owner: str
    public: bool
    state: str
    creation_date: str | None
    owner_alias: str | None = None
    name: str = ""
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class Permission:
    """One entry of a create-volume or launch permission: an account, a group (``all``: the
    public), an organization or an OU (by ARN)."""

    user_id: str | None = None
    group: str | None = None
    organization_arn: str | None = None
    ou_arn: str | None = None


@dataclass(slots=True)
class Detector:
    """A GuardDuty detector and its status (``ENABLED`` / ``DISABLED``)."""

    id: str
    status: str


@dataclass(slots=True)
class Gateway:
    """An internet gateway (``igw-``) or egress-only internet gateway (``eigw-``)."""

    id: str
    account: str
    region: str
    kind: str  # internet-gateway | egress-only-internet-gateway
    vpc_ids: list[str]  # attached (state available/attached)
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class NatGateway:
    id: str
    account: str
    region: str
    vpc_id: str
    subnet_id: str
    state: str
    connectivity: str = "public"
    public_ips: list[str] = field(default_factory=list)
    eni_ids: list[str] = field(default_factory=list)
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class PeeringSide:
    vpc_id: str
    owner: str
    region: str
    cidrs: list[Prefix]


@dataclass(slots=True)
class Peering:
    id: str
    account: str
    region: str
    status: str
    requester: PeeringSide
    accepter: PeeringSide
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class Address:
    public_ip: str
    allocation_id: str | None
    eni_id: str | None
    private_ip: str | None
    instance_id: str | None


@dataclass(slots=True)
class VpcEndpoint:
    id: str
    account: str
    region: str
    vpc_id: str
    type: str
    service: str
    state: str
    subnet_ids: list[str] = field(default_factory=list)
    route_table_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    eni_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FlowLog:
    id: str
    resource_id: str
    status: str


@dataclass(slots=True)
class PrefixList:
    id: str
    name: str
    cidrs: list[Prefix]


@dataclass(slots=True)
class TransitGateway:
    id: str
    account: str
    region: str
    owner: str
    state: str
    tags: Tags = field(default_factory=dict)


@dataclass(slots=True)
class TgwAttachment:
    id: str
    tgw_id: str
    resource_type: str  # vpc | peering | vpn | direct-connect-gateway | connect
    resource_id: str
    resource_owner: str
    state: str
    route_table_id: str | None  # the associated TGW route table
    association_state: str | None


@dataclass(slots=True)
class TgwVpcAttachment:
    id: str
    tgw_id: str
    vpc_id: str
    vpc_owner: str
    subnet_ids: list[str]
    state: str


@dataclass(slots=True)
class TgwRouteTable:
    id: str
    tgw_id: str
    state: str


@dataclass(slots=True)
class TgwRoute:
    destination: Prefix
    attachment_ids: list[str]
    state: str  # active | blackhole
    type: str  # static | propagated


@dataclass(slots=True)
class TgwPropagation:
    attachment_id: str
    resource_id: str
    resource_type: str
    state: str


@dataclass(slots=True)
class LoadBalancer:
    arn: str
    account: str
    region: str
    name: str
    type: str  # application | network | gateway
    scheme: str  # internet-facing | internal
    vpc_id: str
    subnet_ids: list[str]
    group_ids: list[str]
    state: str = "active"


@dataclass(slots=True)
class Listener:
    arn: str
    lb_arn: str
    port: int
    protocol: str
    target_group_arns: list[str]


@dataclass(slots=True)
class TargetGroup:
    arn: str
    name: str
    protocol: str
    port: int | None
    vpc_id: str | None
    target_type: str  # instance | ip | lambda | alb
    lb_arns: list[str]


@dataclass(slots=True)
class Target:
    """A registered target of a target group, with its health (``state`` is empty when
    the snapshot does not say) and the reason code DescribeTargetHealth gives."""

    tg_arn: str
    id: str
    port: int | None
    state: str
    reason: str = ""
