"""AWS's enumerations that the snapshot reader reads, in every spelling AWS uses.

Each table maps every spelling of one enumeration to the one the analysis compares with.
Its values are those of the botocore service model (``botocore/data/ec2/2016-11-15`` and
``elbv2/2015-12-01``, ``service-2.json``: the shape named in :attr:`Enum.shape`) plus the
spellings the responses use where they differ from the model's:

- an interface type is ``natGateway`` in the EC2 model and ``nat_gateway`` in
  DescribeNetworkInterfaces answers;
- a VPC endpoint's state is ``Available`` in the model (shape ``State``) and
  ``available`` in DescribeVpcEndpoints answers;
- an internet gateway's attachment is ``available`` once attached ("For an internet
  gateway, the state is available when attached to a VPC", the model's documentation of
  ``InternetGatewayAttachment.State``), a value its shape ``AttachmentStatus`` lacks.

:func:`normalise` also reads moto's text form of a state (moto 5.2.5 answers a subnet's
IPv6 block state as the text ``"{'State': 'associated'}"``): its meaning is plain, so it
is read as the value it holds. Anything else that is not one of AWS's values is kept as
it is, and the reader reports it (``graph.model.NotPlaced``): the analysis never guesses.

>>> normalise(INTERFACE_TYPE, "natGateway"), normalise(INTERFACE_TYPE, "nat_gateway")
('nat_gateway', 'nat_gateway')
>>> normalise(SUBNET_BLOCK_STATE, "{'State': 'associated'}")
'associated'
>>> normalise(ROUTE_STATE, "on") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Enum:
    """One enumeration: its service model shape (``ec2:RouteState``) and its spellings."""

    shape: str
    spellings: dict[str, str]

    def values(self) -> list[str]:
        """The values the analysis compares with, for messages."""
        return sorted(set(self.spellings.values()))


def _enum(shape: str, *values: str, **other_spellings: str) -> Enum:
    """An enumeration of ``values`` (the model's), plus ``other_spellings`` (spelling ->
    value) where answers spell a value differently."""
    spellings = {value: value for value in values}
    for spelling, value in other_spellings.items():
        spellings[spelling] = value
    return Enum(shape, spellings)


# The analysis compares with the responses' spelling (what a snapshot holds).
INTERFACE_TYPE = _enum(
    "ec2:NetworkInterfaceType",
    "interface",
    "efa",
    "efa-only",
    "trunk",
    "load_balancer",
    "network_load_balancer",
    "vpc_endpoint",
    "branch",
    "transit_gateway",
    "lambda",
    "quicksight",
    "global_accelerator_managed",
    "api_gateway_managed",
    "gateway_load_balancer",
    "gateway_load_balancer_endpoint",
    "iot_rules_managed",
    "aws_codestar_connections_managed",
    natGateway="nat_gateway",  # the model's spelling
    nat_gateway="nat_gateway",  # the answers'
)
INTERFACE_STATUS = _enum(
    "ec2:NetworkInterfaceStatus", "available", "associated", "attaching", "in-use", "detaching"
)
_BLOCK_STATES = (
    "associating",
    "associated",
    "disassociating",
    "disassociated",
    "failing",
    "failed",
)
VPC_BLOCK_STATE = _enum("ec2:VpcCidrBlockStateCode", *_BLOCK_STATES)
SUBNET_BLOCK_STATE = _enum("ec2:SubnetCidrBlockStateCode", *_BLOCK_STATES)
ROUTE_STATE = _enum("ec2:RouteState", "active", "blackhole", "filtered")
ROUTE_TABLE_ASSOCIATION_STATE = _enum(
    "ec2:RouteTableAssociationStateCode",
    "associating",
    "associated",
    "disassociating",
    "disassociated",
    "failed",
)
RULE_ACTION = _enum("ec2:RuleAction", "allow", "deny")
GATEWAY_ATTACHMENT_STATE = _enum(
    "ec2:AttachmentStatus", "attaching", "attached", "detaching", "detached", available="available"
)
NAT_GATEWAY_STATE = _enum(
    "ec2:NatGatewayState", "pending", "failed", "available", "deleting", "deleted"
)
CONNECTIVITY_TYPE = _enum("ec2:ConnectivityType", "private", "public")
PEERING_STATE = _enum(
    "ec2:VpcPeeringConnectionStateReasonCode",
    "initiating-request",
    "pending-acceptance",
    "active",
    "deleted",
    "rejected",
    "failed",
    "expired",
    "provisioning",
    "deleting",
)
INSTANCE_STATE = _enum(
    "ec2:InstanceStateName",
    "pending",
    "running",
    "shutting-down",
    "terminated",
    "stopping",
    "stopped",
)
VPC_ENDPOINT_TYPE = _enum(
    "ec2:VpcEndpointType",
    "Interface",
    "Gateway",
    "GatewayLoadBalancer",
    "Resource",
    "ServiceNetwork",
    "Tunnel",
)
# The model capitalises every value; DescribeVpcEndpoints answers lower-case the first
# letter (``available``, ``pendingAcceptance``).
VPC_ENDPOINT_STATE = Enum(
    "ec2:State",
    {
        spelling: value[0].lower() + value[1:]
        for value in (
            "PendingAcceptance",
            "Pending",
            "Available",
            "Deleting",
            "Deleted",
            "Rejected",
            "Failed",
            "Expired",
            "Partial",
        )
        for spelling in (value, value[0].lower() + value[1:])
    },
)
TRANSIT_GATEWAY_STATE = _enum(
    "ec2:TransitGatewayState", "pending", "available", "modifying", "deleting", "deleted"
)
TGW_ATTACHMENT_STATE = _enum(
    "ec2:TransitGatewayAttachmentState",
    "initiating",
    "initiatingRequest",
    "pendingAcceptance",
    "rollingBack",
    "pending",
    "available",
    "modifying",
    "deleting",
    "deleted",
    "failed",
    "rejected",
    "rejecting",
    "failing",
)
TGW_RESOURCE_TYPE = _enum(
    "ec2:TransitGatewayAttachmentResourceType",
    "vpc",
    "vpn",
    "vpn-concentrator",
    "direct-connect-gateway",
    "connect",
    "peering",
    "tgw-peering",
    "network-function",
    "client-vpn",
)
TGW_ASSOCIATION_STATE = _enum(
    "ec2:TransitGatewayAssociationState",
    "associating",
    "associated",
    "disassociating",
    "disassociated",
)
TGW_ROUTE_TABLE_STATE = _enum(
    "ec2:TransitGatewayRouteTableState", "pending", "available", "deleting", "deleted"
)
TGW_ROUTE_STATE = _enum(
    "ec2:TransitGatewayRouteState", "pending", "active", "blackhole", "deleting", "deleted"
)
TGW_ROUTE_TYPE = _enum("ec2:TransitGatewayRouteType", "static", "propagated", "system")
TGW_PROPAGATION_STATE = _enum(
    "ec2:TransitGatewayPropagationState", "enabling", "enabled", "disabling", "disabled"
)
LOAD_BALANCER_TYPE = _enum("elbv2:LoadBalancerTypeEnum", "application", "network", "gateway")
LOAD_BALANCER_SCHEME = _enum("elbv2:LoadBalancerSchemeEnum", "internet-facing", "internal")
LOAD_BALANCER_STATE = _enum(
    "elbv2:LoadBalancerStateEnum", "active", "provisioning", "active_impaired", "failed"
)
ELB_PROTOCOL = _enum(
    "elbv2:ProtocolEnum",
    "HTTP",
    "HTTPS",
    "TCP",
    "TLS",
    "UDP",
    "TCP_UDP",
    "GENEVE",
    "QUIC",
    "TCP_QUIC",
)
ACTION_TYPE = _enum(
    "elbv2:ActionTypeEnum",
    "forward",
    "authenticate-oidc",
    "authenticate-cognito",
    "redirect",
    "fixed-response",
    "jwt-validation",
)
TARGET_TYPE = _enum("elbv2:TargetTypeEnum", "instance", "ip", "lambda", "alb")
TARGET_HEALTH_STATE = _enum(
    "elbv2:TargetHealthStateEnum",
    "initial",
    "healthy",
    "unhealthy",
    "unhealthy.draining",
    "unused",
    "draining",
    "unavailable",
)

#: Every table, for the test that holds them to the service models.
ENUMS: tuple[Enum, ...] = (
    INTERFACE_TYPE,
    INTERFACE_STATUS,
    VPC_BLOCK_STATE,
    SUBNET_BLOCK_STATE,
    ROUTE_STATE,
    ROUTE_TABLE_ASSOCIATION_STATE,
    RULE_ACTION,
    GATEWAY_ATTACHMENT_STATE,
    NAT_GATEWAY_STATE,
    CONNECTIVITY_TYPE,
    PEERING_STATE,
    INSTANCE_STATE,
    VPC_ENDPOINT_TYPE,
    VPC_ENDPOINT_STATE,
    TRANSIT_GATEWAY_STATE,
    TGW_ATTACHMENT_STATE,
    TGW_RESOURCE_TYPE,
    TGW_ASSOCIATION_STATE,
    TGW_ROUTE_TABLE_STATE,
    TGW_ROUTE_STATE,
    TGW_ROUTE_TYPE,
    TGW_PROPAGATION_STATE,
    LOAD_BALANCER_TYPE,
    LOAD_BALANCER_SCHEME,
    LOAD_BALANCER_STATE,
    ELB_PROTOCOL,
    ACTION_TYPE,
    TARGET_TYPE,
    TARGET_HEALTH_STATE,
)

#: moto's text form of a state object: ``{'State': 'associated'}``.
_MOTO_TEXT = re.compile(r"^\{'(?:State|Code|Name)': '([^']*)'\}$")


def normalise(enum: Enum, value: str) -> str | None:
    """``value`` as the analysis spells it, or None when it is not one of AWS's."""
    found = enum.spellings.get(value)
    if found is None:
        text = _MOTO_TEXT.match(value)
        if text is not None:
            found = enum.spellings.get(text.group(1))
    return found
