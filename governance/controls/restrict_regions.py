"""Restrict regions (an SCP): regional services only in the allowed regions.

``NotAction`` lists the global services AWS's example region-deny SCP exempts; their
endpoints live in us-east-1 (or us-west-2) whatever region is governed.
"""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, Statement
from governance.controls.grammar import sid
from governance.controls.parameters import AllowedRegions

ID = "restrict-regions"
CCM = ("IVS-03", "DSP-19")

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


class Parameters(AllowedRegions):
    pass


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        {
            "Sid": sid(CCM, "DenyOutsideAllowedRegions"),
            "Effect": "Deny",
            "NotAction": list(GLOBAL_SERVICE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": params.regions(spec)}},
        }
    ]


def words(params: Parameters, spec: Spec) -> str:
    return "allowed regions: " + ", ".join(params.regions(spec))


CONTROL = Control(
    ID,
    "scp",
    "Restrict regions",
    CCM,
    "Regional services are used only in the governed regions; global services are exempt "
    "as AWS documents.",
    "Resources in ungoverned regions escape monitoring and the baseline.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
