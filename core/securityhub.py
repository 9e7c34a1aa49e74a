"""Publish findings to AWS Security Hub, whichever half made them.

Findings arrive already in the AWS Security Finding Format (the exposure analysis converts
its own with ``graph.report.asff``); this module only talks to Security Hub, in the
calling account's custom integration of one home region (the session's region, else
``us-east-1``; each finding's ``Resources`` carry the region it is about). A run:

1. reads the findings this tool published before and that are still active
   (``GetFindings`` by product, id prefix and record state; the filter is applied again
   on the answer);
2. imports every current finding with ``BatchImportFindings``, 100 to a call. Ids are
   stable, so a re-run updates a finding (keeping its ``CreatedAt``) instead of adding
   a second one;
3. archives the findings that are gone: ``RecordState`` ``ARCHIVED`` (and compliance
   ``PASSED``) through ``BatchImportFindings``, then ``Workflow`` ``RESOLVED`` through
   ``BatchUpdateFindings``. Only findings about an account and region that was assessed
   this time are archived: one that could not be read is not known to be clean.

A call that fails outright (Security Hub not enabled, access denied) raises
``SecurityHubError``; findings the service rejects one by one are counted in the result.
Security Hub accepts 10 import calls a second with a burst of 30: the adaptive retries of
``core.aws`` absorb throttling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from core.aws import DEFAULT_REGION, Aws, error_code, error_message

BATCH = 100  # BatchImportFindings and BatchUpdateFindings take at most 100 findings
#: Every finding id this tool publishes starts so; findings of other tools are left alone.
ID_PREFIX = "ivs-governance/"
#: The ids of the exposure analysis' findings, and of the audit's drift: each publication
#: archives only what is gone of its own kind.
EXPOSURE_PREFIX = f"{ID_PREFIX}ivs-"
AUDIT_PREFIX = f"{ID_PREFIX}audit/"


class SecurityHubError(Exception):
    """Security Hub refused the publication as a whole."""


def product_arn(region: str, account: str, partition: str = "aws") -> str:
    """The custom-integration product of ``account`` in ``region``.

    >>> product_arn("eu-west-1", "111122223333")
    'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default'
    """
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def timestamp() -> str:
    """Now, as Security Hub writes its dates."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Hub:
    """Where findings go: a Security Hub client, its product ARN and its region."""

    client: Any
    product: str
    region: str


def connect(
    *, endpoint_url: str | None = None, region: str | None = None, aws: Aws | None = None
) -> Hub:
    """The calling account's custom integration in its home region."""
    aws = aws or Aws(endpoint_url=endpoint_url)
    home = region or aws.session.region_name or DEFAULT_REGION
    try:
        identity = aws.client("sts", home).get_caller_identity()
    except (ClientError, BotoCoreError) as err:
        raise SecurityHubError(f"{error_code(err)}: {error_message(err)}") from err
    partition = str(identity["Arn"]).split(":")[1]
    product = product_arn(home, str(identity["Account"]), partition)
    return Hub(aws.client("securityhub", home), product, home)


@dataclass
class PublishResult:
    product: str
    region: str
    imported: int = 0  # current findings accepted (new or updated)
    new: int = 0
    updated: int = 0
    archived: int = 0  # findings no longer present, archived
    kept: int = 0  # absent but about an account-region not assessed: left as they were
    failed: list[dict[str, Any]] = field(default_factory=list)  # FailedFindings entries
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"Security Hub ({self.region}): {self.imported} imported "
            f"({self.new} new, {self.updated} updated), {self.archived} archived"
        )
        if self.kept:
            text += f", {self.kept} left active (not assessed)"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return text


def publish(
    hub: Hub,
    findings: Sequence[dict[str, Any]],
    *,
    assessed: Collection[tuple[str, str]],
    now: str | None = None,
    prefix: str = EXPOSURE_PREFIX,
) -> PublishResult:
    """Import ``findings`` (ASFF, ``Id`` under ``prefix``) and archive the ones gone.

    ``assessed`` holds the (account, region) places this run read: only findings about
    them are archived when absent (a place's region is ``""`` for what has none). Only
    findings under ``prefix`` are archived: the exposure findings and the audit's drift
    are published apart.
    """
    now = now or timestamp()
    client = hub.client
    result = PublishResult(product=hub.product, region=hub.region)
    try:
        existing = active_findings(client, hub.product, prefix)
        batch = []
        current = set()
        for finding in findings:
            known = existing.get(finding["Id"])
            current.add(finding["Id"])
            if known is None:
                result.new += 1
                batch.append(finding)
            else:
                result.updated += 1
                batch.append({**finding, "CreatedAt": known.get("CreatedAt", finding["CreatedAt"])})
        gone = []
        for ident, known in existing.items():
            if ident in current:
                continue
            if _place(known) in assessed:
                gone.append(known)
            else:
                result.kept += 1
        failed_ids = _import(client, batch + [archived(known, now) for known in gone], result)
        result.imported = sum(1 for item in batch if item["Id"] not in failed_ids)
        resolved = [known for known in gone if known["Id"] not in failed_ids]
        result.archived = len(resolved)
    except (ClientError, BotoCoreError) as err:
        raise SecurityHubError(f"{error_code(err)}: {error_message(err)}") from err
    _resolve(client, resolved, now, result)
    return result


def active_findings(
    client: Any, product: str, prefix: str = ID_PREFIX
) -> dict[str, dict[str, Any]]:
    """Active findings this tool published to ``product`` under ``prefix``, by id."""
    filters = {
        "ProductArn": [{"Value": product, "Comparison": "EQUALS"}],
        "Id": [{"Value": prefix, "Comparison": "PREFIX"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    out = {}
    for page in client.get_paginator("get_findings").paginate(
        Filters=filters, PaginationConfig={"PageSize": 100}
    ):
        for finding in page.get("Findings", []):
            if (
                finding.get("ProductArn") == product
                and str(finding.get("Id", "")).startswith(prefix)
                and finding.get("RecordState", "ACTIVE") == "ACTIVE"
            ):
                out[finding["Id"]] = finding
    return out


def archived(existing: dict[str, Any], now: str) -> dict[str, Any]:
    """``existing`` (as GetFindings returned it) archived: the finding is gone."""
    keep = (
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "Types",
        "CreatedAt",
        "Severity",
        "Title",
        "Description",
        "Resources",
    )
    out = {key: existing[key] for key in keep if key in existing}
    out["UpdatedAt"] = now
    out["RecordState"] = "ARCHIVED"
    compliance = dict(existing.get("Compliance") or {})
    compliance["Status"] = "PASSED"
    out["Compliance"] = compliance
    return out


def _place(finding: dict[str, Any]) -> tuple[str, str]:
    resources = finding.get("Resources") or [{}]
    return str(finding.get("AwsAccountId")), str(resources[0].get("Region") or "")


def _chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _import(client: Any, findings: list[dict[str, Any]], result: PublishResult) -> set[str]:
    failed: set[str] = set()
    for chunk in _chunks(findings):
        response = client.batch_import_findings(Findings=chunk)
        for entry in response.get("FailedFindings", []):
            result.failed.append(entry)
            failed.add(str(entry.get("Id")))
    return failed


def _resolve(client: Any, findings: list[dict[str, Any]], now: str, result: PublishResult) -> None:
    """Workflow RESOLVED on archived findings (the customer-side field providers may set)."""
    for chunk in _chunks(findings):
        try:
            response = client.batch_update_findings(
                FindingIdentifiers=[{"Id": f["Id"], "ProductArn": f["ProductArn"]} for f in chunk],
                Workflow={"Status": "RESOLVED"},
                Note={
                    "Text": f"No longer found by ivs-governance at {now}.",
                    "UpdatedBy": "ivs-governance",
                },
            )
        except (ClientError, BotoCoreError) as err:
            # The findings are archived already; say that the workflow was not updated.
            result.warnings.append(
                f"BatchUpdateFindings: {error_code(err)}: {error_message(err)} "
                f"({len(chunk)} archived findings keep their workflow status)"
            )
            continue
        for entry in response.get("UnprocessedFindings", []):
            ident = entry.get("FindingIdentifier", {}).get("Id")
            result.warnings.append(
                f"BatchUpdateFindings: {ident}: {entry.get('ErrorCode')}: "
                f"{entry.get('ErrorMessage')}"
            )
