"""Findings in the AWS Security Finding Format (ASFF 2018-10-08), as plain data.

Pure conversion: no AWS call (``core.securityhub`` publishes). One ASFF finding per
finding of ours:

- ``Id`` = ``ivs-governance/<finding id>``: stable across runs, so importing again
  updates the finding instead of adding a second one;
- ``ProductArn`` = the account's custom integration,
  ``arn:aws:securityhub:<region>:<account>:product/<account>/default``;
- ``GeneratorId`` = the rule id; ``Title``, ``Description`` and ``Remediation`` read the
  rule (``graph.rules``); ``Compliance.RelatedRequirements`` lists its CCM controls;
- ``Resources`` names the resource by ARN with its account's partition and region.

Severity and types are given both at the top level (required on creation) and in
``FindingProviderFields``, the object through which a provider updates them afterwards.
"""

from __future__ import annotations

from typing import Any

from core.securityhub import ID_PREFIX
from graph.report import rule_of
from graph.rules import fleet, iam

SCHEMA_VERSION = "2018-10-08"
PRODUCT_NAME = "ivs-governance"
TYPES = ["Software and Configuration Checks/AWS Security Best Practices/Network Reachability"]
#: The IAM rules' findings: who can take over a VM (ASFF types taxonomy: TTPs/Privilege
#: Escalation).
IAM_TYPES = [
    "Software and Configuration Checks/AWS Security Best Practices/IAM Permissions",
    "TTPs/Privilege Escalation",
]
_IAM_RULES = frozenset(rule.id for rule in iam.RULES)
#: The fleet posture rules' findings: configuration of what exists.
FLEET_TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
_FLEET_RULES = frozenset(rule.id for rule in fleet.RULES)

# ASFF limits (AWS Security Finding Format reference)
_TITLE_MAX = 256
_DESCRIPTION_MAX = 1024
_RECOMMENDATION_MAX = 512
_REQUIREMENTS_MAX = 32

_RESOURCE_TYPES = {
    "i": ("AwsEc2Instance", "instance"),
    "eni": ("AwsEc2NetworkInterface", "network-interface"),
    "sg": ("AwsEc2SecurityGroup", "security-group"),
    "vpc": ("AwsEc2Vpc", "vpc"),
    "acl": ("AwsEc2NetworkAcl", "network-acl"),
    "subnet": ("AwsEc2Subnet", "subnet"),
    "vol": ("AwsEc2Volume", "volume"),
    "snap": ("Other", "snapshot"),
    "ami": ("Other", "image"),
}


def asff_id(finding: dict[str, Any]) -> str:
    return f"{ID_PREFIX}{finding['id']}"


def to_asff(
    finding: dict[str, Any],
    *,
    product: str,
    now: str,
    created_at: str | None = None,
    observed_at: str | None = None,
    account_name: str | None = None,
) -> dict[str, Any]:
    """The ASFF finding of one finding; ``created_at`` keeps a known finding's first date."""
    rule = rule_of(finding)
    partition = product.split(":")[1]
    # the finding's own severity: internet findings from narrow sources are graded down
    severity = finding["severity"]
    label = severity.upper()
    requirements = list(rule.controls)[:_REQUIREMENTS_MAX]
    types = (
        IAM_TYPES if rule.id in _IAM_RULES else FLEET_TYPES if rule.id in _FLEET_RULES else TYPES
    )
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": asff_id(finding),
        "ProductArn": product,
        "ProductName": PRODUCT_NAME,
        "GeneratorId": rule.id,
        "AwsAccountId": finding["account"],
        "Types": list(types),
        "CreatedAt": created_at or now,
        "UpdatedAt": now,
        "Severity": {"Label": label, "Original": severity},
        "Title": _cut(f"{rule.title}: {finding['resource']}", _TITLE_MAX),
        "Description": _cut(description(finding), _DESCRIPTION_MAX),
        "Remediation": {"Recommendation": {"Text": _cut(rule.remediation, _RECOMMENDATION_MAX)}},
        "Resources": [resource(finding, partition)],
        "Compliance": {"Status": "FAILED", "RelatedRequirements": requirements},
        "RecordState": "ACTIVE",
        "FindingProviderFields": {
            "Severity": {"Label": label, "Original": severity},
            "Types": list(types),
        },
        "ProductFields": _product_fields(finding, account_name),
    }
    if observed_at:
        out["LastObservedAt"] = observed_at
    return out


def document_findings(document: dict[str, Any], *, product: str, now: str) -> list[dict[str, Any]]:
    """Every finding of a findings document in ASFF, observed when the document was made."""
    observed = document.get("generated_at")
    names = document.get("account_names") or {}
    return [
        to_asff(
            finding,
            product=product,
            now=now,
            observed_at=observed,
            account_name=names.get(finding["account"]),
        )
        for finding in document["findings"]
    ]


def assessed_places(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The (account, region) places the document's snapshot assessed."""
    return {(a["account"], a["region"]) for a in document.get("assessed", [])}


def description(finding: dict[str, Any]) -> str:
    rule = rule_of(finding)
    parts = [rule.rationale]
    if finding.get("protocol"):
        parts.append(
            f"{finding['source']} reaches {finding['resource']} on "
            f"{finding['protocol']} {finding['ports']}."
        )
    hops = " > ".join(hop["hop"] for hop in finding.get("path", []))
    if hops:
        parts.append(f"Path: {hops}.")
    return " ".join(parts)


def resource(finding: dict[str, Any], partition: str = "aws") -> dict[str, Any]:
    """The ASFF ``Resources`` entry of the finding's resource."""
    ident = finding["resource"]
    region, account = finding.get("region") or "", finding.get("account") or ""
    if ident.startswith("arn:"):
        kind = "AwsElbv2LoadBalancer" if ":loadbalancer/" in ident else "Other"
        if ":iam::" in ident:
            kind = "AwsIamUser" if ":user/" in ident else "AwsIamRole"
            region = ""  # IAM is global: no region
        arn = ident
    elif ident.isdigit() and len(ident) == 12:  # the account itself (a service rule)
        kind, arn = "AwsAccount", f"AWS::::Account:{ident}"
    else:
        kind, word = _RESOURCE_TYPES.get(ident.split("-", 1)[0], ("Other", ""))
        owner = "" if word in ("snapshot", "image") else account  # as AWS writes these ARNs
        arn = f"arn:{partition}:ec2:{region}:{owner}:{word}/{ident}" if word else ident
    entry: dict[str, Any] = {"Type": kind, "Id": arn, "Partition": partition}
    if region:
        entry["Region"] = region
    if finding.get("vpc"):
        entry["Details"] = {"Other": {"VpcId": finding["vpc"]}}
    return entry


def _product_fields(finding: dict[str, Any], account_name: str | None) -> dict[str, str]:
    """Searchable in Security Hub: the finding's id, rule, source, account name, whether
    its risk is accepted (until when, why, by whom) and, against a baseline, new or not."""
    fields = {
        "ivs/FindingId": finding["id"],
        "ivs/Rule": finding["rule"],
        "ivs/Source": finding["source"],
    }
    if account_name:
        fields["ivs/AccountName"] = account_name
    accepted = finding.get("accepted")
    if accepted:
        fields["ivs/Accepted"] = _cut(
            f"until {accepted['expires']}: {accepted['reason']} ({accepted['owner']})", 1024
        )
    if finding.get("change"):
        fields["ivs/Change"] = finding["change"]
    if finding.get("vpc"):
        fields["ivs/Vpc"] = finding["vpc"]
    if finding.get("protocol"):
        fields["ivs/Protocol"] = finding["protocol"]
        fields["ivs/Ports"] = finding["ports"] or ""
    return fields


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
