"""The table of snapshot kinds: every file a snapshot may hold, the API calls it comes
from, where it lives, and whether the collector needs it to judge anything.

One row per file ``<key>.json``, which holds the raw response, pages merged, under its
top-level ``key`` (DESIGN.md, "Snapshot on disk"). The collector (``graph.collect``)
fetches each row, the reader (``graph.snapshot``) parses each row, and a test holds
README.md to naming each one; none of them keeps a list of its own.

Rows are in the order DESIGN.md lists the files, which is the order the collector fetches
them in (a kind made from the items of others comes after them) and the reader reports
missing ones in.

>>> SNAPSHOT_KINDS_BY_KEY["Reservations"].calls
('ec2:DescribeInstances',)
>>> [kind.key for kind in SNAPSHOT_KINDS if kind.required][:3]
['Reservations', 'NetworkInterfaces', 'SecurityGroups']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Where a file lives under the snapshot root: ``<account-id>/<region>/`` for regional
#: data, ``<account-id>/global/`` for an account's global data (IAM), ``organization/`` for
#: the organization's own, read once from the management account (DESIGN.md).
Scope = Literal["account/region", "account/global", "organization"]
#: The folder (and the manifest's place name) of an account's global data.
GLOBAL = "global"
#: The folder of the organization's data (and its manifest entry).
ORGANIZATION = "organization"


@dataclass(frozen=True)
class SnapshotKind:
    """One snapshot file.

    ``calls`` are the API calls its content comes from, as IAM spells them
    (``ec2:DescribeInstances``; elbv2's service prefix is ``elasticloadbalancing``): the
    first returns the items, any others add to them (a prefix list's entries) or are made
    once per item of another kind (a route table's static routes). ``required``: without
    it no path of the place can be judged, so the collector records the whole place as an
    error when it fails; the others are optional, and a failed one is listed as
    ``missing``. The reader treats every file as optional.
    """

    key: str
    calls: tuple[str, ...]
    scope: Scope = "account/region"
    required: bool = False

    @property
    def file(self) -> str:
        return f"{self.key}.json"


def _ec2(key: str, *calls: str, required: bool = False) -> SnapshotKind:
    return SnapshotKind(key, tuple(f"ec2:{call}" for call in calls), required=required)


def _elb(key: str, call: str) -> SnapshotKind:
    return SnapshotKind(key, (f"elasticloadbalancing:{call}",))


#: Required: the core VPC data every EC2 endpoint has had for a decade. Optional: the rest.
SNAPSHOT_KINDS: tuple[SnapshotKind, ...] = (
    _ec2("Reservations", "DescribeInstances", required=True),
    _ec2("NetworkInterfaces", "DescribeNetworkInterfaces", required=True),
    _ec2("SecurityGroups", "DescribeSecurityGroups", required=True),
    _ec2("NetworkAcls", "DescribeNetworkAcls", required=True),
    _ec2("RouteTables", "DescribeRouteTables", required=True),
    _ec2("Subnets", "DescribeSubnets", required=True),
    _ec2("Vpcs", "DescribeVpcs", required=True),
    _ec2("InternetGateways", "DescribeInternetGateways", required=True),
    _ec2("EgressOnlyInternetGateways", "DescribeEgressOnlyInternetGateways", required=True),
    _ec2("NatGateways", "DescribeNatGateways", required=True),
    _ec2("VpcPeeringConnections", "DescribeVpcPeeringConnections", required=True),
    _ec2("Addresses", "DescribeAddresses", required=True),
    _ec2("VpcEndpoints", "DescribeVpcEndpoints"),
    _ec2("FlowLogs", "DescribeFlowLogs"),
    _ec2("PrefixLists", "DescribeManagedPrefixLists", "GetManagedPrefixListEntries"),
    _ec2("TransitGateways", "DescribeTransitGateways"),
    _ec2("TransitGatewayAttachments", "DescribeTransitGatewayAttachments"),
    _ec2("TransitGatewayVpcAttachments", "DescribeTransitGatewayVpcAttachments"),
    _ec2("TransitGatewayRouteTables", "DescribeTransitGatewayRouteTables"),
    _ec2("TransitGatewayStaticRoutes", "SearchTransitGatewayRoutes"),
    _ec2("TransitGatewayPropagations", "GetTransitGatewayRouteTablePropagations"),
    _elb("LoadBalancers", "DescribeLoadBalancers"),
    _elb("LoadBalancerListeners", "DescribeListeners"),
    _elb("TargetGroups", "DescribeTargetGroups"),
    _elb("LoadBalancerTargetHealth", "DescribeTargetHealth"),
    _elb("TargetGroupAttributes", "DescribeTargetGroupAttributes"),
    # fleet posture: what already exists, and the detection services of each account-region
    _ec2("Volumes", "DescribeVolumes"),
    _ec2("Snapshots", "DescribeSnapshots"),
    _ec2("SnapshotAttributes", "DescribeSnapshotAttribute"),
    _ec2("Images", "DescribeImages"),
    _ec2("ImageAttributes", "DescribeImageAttribute"),
    SnapshotKind("InstanceInformationList", ("ssm:DescribeInstanceInformation",)),
    SnapshotKind("BackupProtectedResources", ("backup:ListProtectedResources",)),
    SnapshotKind("GuardDutyDetectors", ("guardduty:ListDetectors", "guardduty:GetDetector")),
    SnapshotKind("InspectorAccountStatus", ("inspector2:BatchGetAccountStatus",)),
    SnapshotKind("SecurityHub", ("securityhub:DescribeHub",)),
    SnapshotKind("ConfigurationRecordersStatus", ("config:DescribeConfigurationRecorderStatus",)),
    # IAM, per account: every user, group, role and managed policy, with their documents
    SnapshotKind(
        "AccountAuthorizationDetails",
        ("iam:GetAccountAuthorizationDetails",),
        "account/global",
        required=True,
    ),
    # the organization, once
    SnapshotKind(
        "Organization", ("organizations:DescribeOrganization",), "organization", required=True
    ),
    SnapshotKind("Roots", ("organizations:ListRoots",), "organization", required=True),
    SnapshotKind(
        "OrganizationalUnits", ("organizations:ListOrganizationalUnitsForParent",), "organization"
    ),
    SnapshotKind("Accounts", ("organizations:ListAccountsForParent",), "organization"),
    SnapshotKind(
        "Policies",
        (
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ),
        "organization",
    ),
)

SNAPSHOT_KINDS_BY_KEY: dict[str, SnapshotKind] = {kind.key: kind for kind in SNAPSHOT_KINDS}


def kinds_of(scope: Scope) -> tuple[SnapshotKind, ...]:
    """The kinds that live in one scope, in the table's order.

    >>> [kind.key for kind in kinds_of("account/global")]
    ['AccountAuthorizationDetails']
    """
    return tuple(kind for kind in SNAPSHOT_KINDS if kind.scope == scope)
