"""The audit's drift in the AWS Security Finding Format, for ``ivs audit --publish-securityhub``.

One ASFF finding per drift record: ``Id`` ``ivs-governance/audit/<hash of account, region,
control and resource>`` (stable, so a re-run updates it, and a record that passes again is
archived by ``core.securityhub.publish``), ``GeneratorId`` the control, the account as
``AwsAccount`` (the region where the record has one), what was expected and what was found
in the description, and the CCM ids of the controls the record is about. Records that were
not assessed are not findings: their places are left out of ``assessed_places``, so what
was published of them stays active.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from core.securityhub import AUDIT_PREFIX
from core.vocabulary import ccm
from governance.audit import GLOBAL, AuditResult, Check, describe
from governance.controls import CONTROLS_BY_ID

SCHEMA_VERSION = "2018-10-08"
TYPES = ["Software and Configuration Checks/Industry and Regulatory Standards"]
_DESCRIPTION_MAX = 1024


def drift_id(check: Check) -> str:
    """The stable ASFF id of a record.

    >>> from governance.audit import Check
    >>> drift_id(Check("1", "eu-west-1", "ebs-encryption-by-default", "x", "drift"))[:21]
    'ivs-governance/audit/'
    """
    key = f"{check.account}|{check.region}|{check.control}|{check.resource}"
    return f"{AUDIT_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def drift_findings(
    result: AuditResult,
    *,
    product: str,
    now: str,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every drift record of ``result`` as an ASFF finding for ``product``."""
    partition = product.split(":")[1]
    names = names or {}
    out = []
    for n, check in enumerate(result.checks):
        if check.status != "drift":
            continue
        controls = [
            ccm(i) for c in check.controls if c in CONTROLS_BY_ID for i in CONTROLS_BY_ID[c].ccm
        ]
        resource: dict[str, Any] = {
            "Type": "AwsAccount",
            "Id": f"AWS::::Account:{check.account}",
            "Partition": partition,
        }
        if check.region != GLOBAL:
            resource["Region"] = check.region
        fields = {"ivs/Control": check.control, "ivs/Resource": check.resource[:1024]}
        if names.get(check.account):
            fields["ivs/AccountName"] = names[check.account]
        accepted = result.accepted.get(n)
        if accepted:
            fields["ivs/Accepted"] = (
                f"until {accepted['expires']}: {accepted['reason']} ({accepted['owner']})"
            )[:1024]
        text = f"Audit drift: {check.control} on {check.resource}: {describe(check)}"
        out.append(
            {
                "SchemaVersion": SCHEMA_VERSION,
                "Id": drift_id(check),
                "ProductArn": product,
                "ProductName": "ivs-governance",
                "GeneratorId": f"ivs-audit/{check.control}",
                "AwsAccountId": check.account,
                "Types": list(TYPES),
                "CreatedAt": now,
                "UpdatedAt": now,
                "Severity": {"Label": "HIGH", "Original": "drift"},
                "Title": f"Drift from the spec: {check.control} ({check.account})"[:256],
                "Description": text[:_DESCRIPTION_MAX],
                "Resources": [resource],
                "Compliance": {
                    "Status": "FAILED",
                    "RelatedRequirements": sorted(set(controls))[:32],
                },
                "RecordState": "ACTIVE",
                "FindingProviderFields": {
                    "Severity": {"Label": "HIGH", "Original": "drift"},
                    "Types": list(TYPES),
                },
                "ProductFields": fields,
            }
        )
    return out


def assessed_places(result: AuditResult) -> set[tuple[str, str]]:
    """The (account, region) places where every record was read: drift published before
    for them and gone now is archived (a global record's region is ``""``, as it is
    published)."""
    places: dict[tuple[str, str], bool] = {}
    for check in result.checks:
        place = (check.account, "" if check.region == GLOBAL else check.region)
        places[place] = places.get(place, True) and check.status != "not_assessed"
    return {place for place, read in places.items() if read}
