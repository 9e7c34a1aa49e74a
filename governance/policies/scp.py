"""Service control policy statements, one builder per SCP control of the catalogue.

Each builder takes the parameters in force at a target and the spec, and returns its
statements. Every statement's Sid starts with the control's first CCM id (``IVS04...``),
and every Deny exempts the spec's pipeline and break-glass principals
(``ArnNotLike aws:PrincipalArn``), added in one place by :func:`statements_for`.

Why some statements look the way they do:

- Public AMIs: IAM has no condition key that sees "launch permission for group all" on
  ``ec2:ModifyImageAttribute`` (``ec2:Add/group`` exists for snapshots only), so public
  AMI sharing is stopped by image block public access, which the SCP keeps switched on.
- Regions: ``NotAction`` lists the global services AWS's example region-deny SCP exempts;
  their endpoints live in us-east-1 (or us-west-2) whatever region is governed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.spec import Parameters, Spec
from governance.catalog import CONTROLS_BY_ID

Statement = dict[str, Any]
Builder = Callable[[Parameters, Spec], list[Statement]]

VERSION = "2012-10-17"

# Global services exempt from the region deny, after the lists in AWS's example SCP "Deny
# access to AWS based on the requested AWS Region" (Organizations User Guide) and AWS
# Control Tower's Region deny control: services whose single endpoint lives in us-east-1
# (or us-west-2), and the read calls consoles make across regions.
GLOBAL_SERVICE_ACTIONS: tuple[str, ...] = (
    "a4b:*",
    "access-analyzer:*",
    "account:*",
    "acm:*",
    "activate:*",
    "artifact:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "billing:*",
    "billingconductor:*",
    "budgets:*",
    "ce:*",
    "chatbot:*",
    "chime:*",
    "cloudfront:*",
    "cloudtrail:LookupEvents",
    "compute-optimizer:*",
    "config:*",
    "consolidatedbilling:*",
    "cur:*",
    "devicefarm:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "ecr-public:*",
    "fms:*",
    "freetier:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "invoicing:*",
    "iq:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "notifications-contacts:*",
    "notifications:*",
    "organizations:*",
    "payments:*",
    "pricing:*",
    "resource-explorer-2:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "savingsplans:*",
    "shield:*",
    "sso:*",
    "sts:*",
    "support:*",
    "supportapp:*",
    "supportplans:*",
    "sustainability:*",
    "tag:GetResources",
    "tax:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
)

#: IAM calls that change a role; denied on the governance roles.
ROLE_MUTATIONS: tuple[str, ...] = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)

#: Log groups that hold VPC flow logs, by the naming convention of the network baseline.
FLOW_LOG_GROUPS = "arn:aws:logs:*:*:log-group:*flow-log*"

VOLUMES = "arn:aws:ec2:*:*:volume/*"
INSTANCES = "arn:aws:ec2:*:*:instance/*"
IMAGES = "arn:aws:ec2:*::image/*"


def sid(control_id: str, name: str) -> str:
    """``IVS04DenyUnencryptedVolumes``: the control's first CCM id, then what it does."""
    ccm = CONTROLS_BY_ID[control_id].ccm[0].replace("-", "")
    return re.sub(r"[^A-Za-z0-9]", "", f"{ccm}{name}")


def _deny(control_id: str, name: str, actions: list[str], **rest: Any) -> Statement:
    statement: Statement = {"Sid": sid(control_id, name), "Effect": "Deny", "Action": actions}
    statement["Resource"] = rest.pop("resource", "*")
    statement.update(rest)
    return statement


def ebs_encryption_default(params: Parameters, spec: Spec) -> list[Statement]:
    c = "ebs-encryption-default"
    return [
        _deny(c, "DenyDisableEbsEncryptionByDefault", ["ec2:DisableEbsEncryptionByDefault"]),
        _deny(
            c,
            "DenyChangeEbsDefaultKmsKey",
            ["ec2:ModifyEbsDefaultKmsKeyId", "ec2:ResetEbsDefaultKmsKeyId"],
        ),
    ]


def deny_unencrypted_volumes(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        _deny(
            "deny-unencrypted-volumes",
            "DenyUnencryptedVolumes",
            ["ec2:CreateVolume", "ec2:RunInstances"],
            resource=VOLUMES,
            Condition={"Bool": {"ec2:Encrypted": "false"}},
        )
    ]


def deny_public_images_snapshots(params: Parameters, spec: Spec) -> list[Statement]:
    c = "deny-public-images-snapshots"
    return [
        _deny(
            c,
            "DenyPublicSnapshots",
            ["ec2:ModifySnapshotAttribute"],
            Condition={"StringEquals": {"ec2:Add/group": "all"}},
        ),
        _deny(
            c,
            "DenyDisableBlockPublicAccess",
            ["ec2:DisableImageBlockPublicAccess", "ec2:DisableSnapshotBlockPublicAccess"],
        ),
    ]


def deny_image_export(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        _deny(
            "deny-image-export",
            "DenyImageExport",
            ["ec2:ExportImage", "ec2:CreateStoreImageTask", "ec2:CreateInstanceExportTask"],
        )
    ]


def approved_ami_owners(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        _deny(
            "approved-ami-owners",
            "DenyUnapprovedAmiOwners",
            ["ec2:RunInstances"],
            resource=IMAGES,
            Condition={"StringNotEquals": {"ec2:Owner": list(params.approved_ami_owners)}},
        )
    ]


def require_imdsv2(params: Parameters, spec: Spec) -> list[Statement]:
    c = "require-imdsv2"
    imds = params.imds
    statements = []
    if imds.http_tokens == "required":
        statements.append(
            _deny(
                c,
                "RequireImdsv2",
                ["ec2:RunInstances"],
                resource=INSTANCES,
                Condition={"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
            )
        )
    statements.append(
        _deny(
            c,
            "LimitImdsHopLimit",
            ["ec2:RunInstances"],
            resource=INSTANCES,
            Condition={
                "NumericGreaterThan": {
                    "ec2:MetadataHttpPutResponseHopLimit": str(imds.http_put_response_hop_limit)
                }
            },
        )
    )
    statements.append(_deny(c, "DenyModifyImdsOptions", ["ec2:ModifyInstanceMetadataOptions"]))
    return statements


def require_tags_on_launch(params: Parameters, spec: Spec) -> list[Statement]:
    statements = []
    for key, values in params.required_tags.items():
        request_tag = f"aws:RequestTag/{key}"
        condition: dict[str, Any]
        # StringNotEquals is true when the tag is absent too, so it covers both cases.
        if values:
            condition = {"StringNotEquals": {request_tag: list(values)}}
        else:
            condition = {"Null": {request_tag: "true"}}
        statements.append(
            _deny(
                "require-tags-on-launch",
                f"RequireTag{key}",
                ["ec2:RunInstances", "ec2:CreateVolume"],
                resource=[INSTANCES, VOLUMES],
                Condition=condition,
            )
        )
    return statements


def restrict_regions(params: Parameters, spec: Spec) -> list[Statement]:
    regions = list(params.allowed_regions or spec.regions)
    return [
        {
            "Sid": sid("restrict-regions", "DenyOutsideAllowedRegions"),
            "Effect": "Deny",
            "NotAction": list(GLOBAL_SERVICE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}},
        }
    ]


def deny_leave_organization(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        _deny(
            "deny-leave-organization", "DenyLeaveOrganization", ["organizations:LeaveOrganization"]
        )
    ]


def protect_flow_logs(params: Parameters, spec: Spec) -> list[Statement]:
    c = "protect-flow-logs"
    return [
        _deny(c, "DenyDeleteFlowLogs", ["ec2:DeleteFlowLogs"]),
        _deny(
            c,
            "DenyDeleteFlowLogGroups",
            ["logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:DeleteRetentionPolicy"],
            resource=FLOW_LOG_GROUPS,
        ),
    ]


def protect_governance_roles(params: Parameters, spec: Spec) -> list[Statement]:
    names = [spec.member_role_name, *params.governance_role_names]
    roles = [f"arn:aws:iam::*:role/{name}" for name in dict.fromkeys(names)]
    return [
        _deny(
            "protect-governance-roles",
            "ProtectGovernanceRoles",
            list(ROLE_MUTATIONS),
            resource=roles,
        )
    ]


def restrict_pass_role(params: Parameters, spec: Spec) -> list[Statement]:
    c = "restrict-pass-role"
    paths = list(params.approved_role_paths)
    return [
        {
            "Sid": sid(c, "RestrictPassRoleToApprovedPaths"),
            "Effect": "Deny",
            "Action": ["iam:PassRole"],
            "NotResource": [f"arn:aws:iam::*:role{path}*" for path in paths],
        },
        {
            "Sid": sid(c, "RestrictInstanceProfilesToApprovedPaths"),
            "Effect": "Deny",
            "Action": ["iam:CreateInstanceProfile"],
            "NotResource": [f"arn:aws:iam::*:instance-profile{path}*" for path in paths],
        },
    ]


def deny_default_vpc(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        _deny(
            "deny-default-vpc",
            "DenyDefaultVpc",
            ["ec2:CreateDefaultVpc", "ec2:CreateDefaultSubnet"],
        )
    ]


def restrict_igw_attach(params: Parameters, spec: Spec) -> list[Statement]:
    statement = _deny(
        "restrict-igw-attach",
        "DenyInternetGatewayOutsideNetworkAccounts",
        [
            "ec2:CreateInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:CreateEgressOnlyInternetGateway",
        ],
    )
    if params.network_account_ids:
        statement["Condition"] = {
            "StringNotEquals": {"aws:PrincipalAccount": list(params.network_account_ids)}
        }
    return [statement]


BUILDERS: dict[str, Builder] = {
    "ebs-encryption-default": ebs_encryption_default,
    "deny-unencrypted-volumes": deny_unencrypted_volumes,
    "deny-public-images-snapshots": deny_public_images_snapshots,
    "deny-image-export": deny_image_export,
    "approved-ami-owners": approved_ami_owners,
    "require-imdsv2": require_imdsv2,
    "require-tags-on-launch": require_tags_on_launch,
    "restrict-regions": restrict_regions,
    "deny-leave-organization": deny_leave_organization,
    "protect-flow-logs": protect_flow_logs,
    "protect-governance-roles": protect_governance_roles,
    "restrict-pass-role": restrict_pass_role,
    "deny-default-vpc": deny_default_vpc,
    "restrict-igw-attach": restrict_igw_attach,
}


def exempt_principals(statement: Statement, principals: list[str]) -> Statement:
    """The statement with ``ArnNotLike aws:PrincipalArn`` for the exempt principals added."""
    if statement.get("Effect") != "Deny" or not principals:
        return statement
    out = dict(statement)
    condition = {op: dict(keys) for op, keys in statement.get("Condition", {}).items()}
    arn_not_like = condition.setdefault("ArnNotLike", {})
    existing = arn_not_like.get("aws:PrincipalArn", [])
    existing = [existing] if isinstance(existing, str) else list(existing)
    arn_not_like["aws:PrincipalArn"] = list(dict.fromkeys([*existing, *principals]))
    out["Condition"] = condition
    return out


def statements_for(spec: Spec, target: str, controls: list[str]) -> list[tuple[str, Statement]]:
    """(control id, statement) for every SCP control switched on at ``target``, in order."""
    params = spec.parameters_for(target)
    out: list[tuple[str, Statement]] = []
    for control in controls:
        if CONTROLS_BY_ID[control].kind != "scp":
            continue
        for statement in BUILDERS[control](params, spec):
            out.append((control, exempt_principals(statement, spec.principals.exempt)))
    return out
