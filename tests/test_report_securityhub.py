"""ASFF conversion, and publishing to Security Hub (moto's, on a loopback server).

moto 5.2.5's Security Hub has BatchImportFindings and GetFindings (it ignores the
filters, which ``active_findings`` applies again) but not BatchUpdateFindings: that call
is checked against the real service model with ``botocore.stub.Stubber``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from conftest import reset_moto
from report_support import exposure_result, write_org_snapshot
from typer.testing import CliRunner

from core.aws import Aws
from core.securityhub import BATCH, Hub, SecurityHubError, connect, product_arn
from graph.report import asff
from graph.rules import RULES_BY_ID
from ivs.cli import app
from ivs.exposure import publish_document

REGION = "eu-west-1"
HOME = "123456789012"  # moto's default account
PRODUCT = product_arn(REGION, HOME)


def publish_with(client: Any, document: dict[str, Any], **where: Any) -> Any:
    """Publish to a given client: the product and region as named."""
    now = where.pop("now", None)
    return publish_document(document, Hub(client, where["product"], where["region"]), now=now)


def publish(document: dict[str, Any], **where: Any) -> Any:
    """Publish to the calling account's product (``connect``'s arguments)."""
    return publish_document(document, connect(**where))


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return dict(exposure_result(tmp_path_factory.mktemp("org")).document)


@pytest.fixture
def hub(moto_endpoint: str) -> Any:
    client = Aws(endpoint_url=moto_endpoint).client("securityhub", REGION)
    client.enable_security_hub()
    return client


class _Calls:
    """A Security Hub client that counts calls; BatchUpdateFindings goes to a stub."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, int]] = []
        self.stub_client = boto3.client("securityhub", region_name=REGION)
        self.stubber = Stubber(self.stub_client)
        self.stubber.activate()

    def batch_import_findings(self, **kwargs: Any) -> Any:
        self.calls.append(("BatchImportFindings", len(kwargs["Findings"])))
        return self.client.batch_import_findings(**kwargs)

    def batch_update_findings(self, **kwargs: Any) -> Any:
        self.calls.append(("BatchUpdateFindings", len(kwargs["FindingIdentifiers"])))
        return self.stub_client.batch_update_findings(**kwargs)

    def get_paginator(self, name: str) -> Any:
        return self.client.get_paginator(name)


def _all(client: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for page in client.get_paginator("get_findings").paginate():
        for finding in page["Findings"]:
            out[finding["Id"]] = finding
    return out


# ---- ASFF, as data ------------------------------------------------------------------------


def test_asff_finding_fields(document: dict[str, Any]) -> None:
    finding = next(f for f in document["findings"] if f["rule"] == "internet-exposed-admin-port")
    rule = RULES_BY_ID[finding["rule"]]
    item = asff.to_asff(finding, product=PRODUCT, now="2026-11-27T10:00:00.000Z")
    assert item["SchemaVersion"] == "2018-10-08"
    assert item["Id"] == f"ivs-governance/{finding['id']}"
    assert item["ProductArn"] == f"arn:aws:securityhub:{REGION}:{HOME}:product/{HOME}/default"
    assert item["GeneratorId"] == "internet-exposed-admin-port"
    assert item["AwsAccountId"] == finding["account"]
    assert item["Severity"] == {"Label": "CRITICAL", "Original": "critical"}
    assert item["FindingProviderFields"]["Severity"]["Label"] == "CRITICAL"
    assert item["Types"] == asff.TYPES and all(t.count("/") == 2 for t in item["Types"])
    assert item["Title"].startswith(rule.title)
    assert item["Remediation"]["Recommendation"]["Text"] == rule.remediation
    assert item["Compliance"]["RelatedRequirements"] == list(rule.controls)
    assert item["CreatedAt"] == item["UpdatedAt"] == "2026-11-27T10:00:00.000Z"
    resource = item["Resources"][0]
    assert resource["Type"] == "AwsEc2Instance"
    assert (
        resource["Id"]
        == f"arn:aws:ec2:{REGION}:{finding['account']}:instance/{finding['resource']}"
    )
    assert resource["Region"] == finding["region"]
    assert len(item["Description"]) <= 1024 and "Path: internet > igw-" in item["Description"]


def test_asff_resource_types_and_limits(document: dict[str, Any]) -> None:
    kinds = {asff.resource(f)["Type"] for f in document["findings"]}
    assert {"AwsEc2Instance", "AwsEc2SecurityGroup", "AwsEc2Vpc", "AwsEc2NetworkAcl"} <= kinds
    assert "AwsElbv2LoadBalancer" in kinds
    long = dict(document["findings"][0], path=[{"hop": "x" * 50, "why": "y"}] * 60)
    item = asff.to_asff(
        long, product=PRODUCT, now="2026-11-27T10:00:00Z", created_at="2026-01-01T00:00:00Z"
    )
    assert len(item["Description"]) == 1024 and item["Description"].endswith("…")
    assert item["CreatedAt"] == "2026-01-01T00:00:00Z"


# ---- publishing ---------------------------------------------------------------------------


def test_publish_imports_then_updates_instead_of_duplicating(
    hub: Any, document: dict[str, Any]
) -> None:
    first = publish_with(
        hub, document, product=PRODUCT, region=REGION, now="2026-11-27T10:00:00.000Z"
    )
    total = len(document["findings"])
    assert (first.imported, first.new, first.updated, first.archived) == (total, total, 0, 0)
    stored = _all(hub)
    assert len(stored) == total
    assert {f["Id"] for f in stored.values()} == {
        f"ivs-governance/{f['id']}" for f in document["findings"]
    }
    second = publish_with(
        hub, document, product=PRODUCT, region=REGION, now="2026-11-27T11:00:00.000Z"
    )
    assert (second.imported, second.new, second.updated) == (total, 0, total)
    again = _all(hub)
    assert len(again) == total
    for ident, finding in again.items():
        assert finding["CreatedAt"] == stored[ident]["CreatedAt"] == "2026-11-27T10:00:00.000Z"
        assert finding["UpdatedAt"] == "2026-11-27T11:00:00.000Z"
        assert finding["RecordState"] == "ACTIVE"


def test_resolved_findings_are_archived_but_not_assessed_ones_are_kept(
    hub: Any, document: dict[str, Any]
) -> None:
    publish_with(hub, document, product=PRODUCT, region=REGION, now="2026-11-27T10:00:00.000Z")
    # a finding from another tool in the same product must be left alone
    foreign = asff.to_asff(document["findings"][0], product=PRODUCT, now="2026-11-27T10:00:00.000Z")
    foreign["Id"] = "other-tool/1"
    hub.batch_import_findings(Findings=[foreign])
    later = copy.deepcopy(document)
    fixed = later["findings"].pop(0)  # fixed in 111111111111/eu-west-1 (assessed)
    gone = next(f for f in later["findings"] if f["account"] == "222222222222")
    later["findings"].remove(gone)  # its account-region is now not assessed
    later["assessed"] = [a for a in later["assessed"] if a["account"] != "222222222222"]
    later["not_assessed"].append(
        {"account": "222222222222", "region": gone["region"], "error": "AccessDenied"}
    )
    client = _Calls(hub)
    client.stubber.add_response(
        "batch_update_findings",
        {
            "ProcessedFindings": [{"Id": f"ivs-governance/{fixed['id']}", "ProductArn": PRODUCT}],
            "UnprocessedFindings": [],
        },
        {
            "FindingIdentifiers": [{"Id": f"ivs-governance/{fixed['id']}", "ProductArn": PRODUCT}],
            "Workflow": {"Status": "RESOLVED"},
            "Note": ANY,
        },
    )
    result = publish_with(
        client, later, product=PRODUCT, region=REGION, now="2026-11-27T12:00:00.000Z"
    )
    client.stubber.assert_no_pending_responses()
    assert (result.archived, result.kept, result.warnings) == (1, 1, [])
    stored = _all(hub)
    archived = stored[f"ivs-governance/{fixed['id']}"]
    assert archived["RecordState"] == "ARCHIVED"
    assert archived["Compliance"]["Status"] == "PASSED"
    assert archived["UpdatedAt"] == "2026-11-27T12:00:00.000Z"
    assert stored[f"ivs-governance/{gone['id']}"]["RecordState"] == "ACTIVE"
    assert stored["other-tool/1"]["RecordState"] == "ACTIVE"
    assert len(stored) == len(document["findings"]) + 1


def test_batches_of_one_hundred(hub: Any, document: dict[str, Any]) -> None:
    template = document["findings"][0]
    many = dict(document, findings=[dict(template, id=f"ivs-{i:016x}") for i in range(250)])
    client = _Calls(hub)
    result = publish_with(client, many, product=PRODUCT, region=REGION)
    assert client.calls == [
        ("BatchImportFindings", BATCH),
        ("BatchImportFindings", BATCH),
        ("BatchImportFindings", 50),
    ]
    assert result.imported == 250 and not result.failed
    assert len(_all(hub)) == 250


def test_rejected_findings_are_counted_not_lost(hub: Any, document: dict[str, Any]) -> None:
    one = dict(document, findings=document["findings"][:2])
    client = _Calls(hub)
    original = client.batch_import_findings

    def strip_resources(**kwargs: Any) -> Any:
        kwargs["Findings"][1]["Resources"] = []  # moto rejects a finding with no resource
        return original(**kwargs)

    client.batch_import_findings = strip_resources  # type: ignore[method-assign]
    result = publish_with(client, one, product=PRODUCT, region=REGION)
    assert result.imported == 1 and len(result.failed) == 1
    assert "1 failed" in result.summary()


def test_publish_finds_the_product_of_the_calling_account(
    moto_endpoint: str, document: dict[str, Any]
) -> None:
    result = publish(document, endpoint_url=moto_endpoint, region=REGION)
    assert result.product == PRODUCT
    client = Aws(endpoint_url=moto_endpoint).client("securityhub", REGION)
    assert {f["ProductArn"] for f in _all(client).values()} == {PRODUCT}


def test_publish_failure_is_one_error(document: dict[str, Any]) -> None:
    aws = Aws(endpoint_url="http://127.0.0.1:9")  # nothing listens on the discard port
    aws.client = lambda *a, **k: _Failing()  # type: ignore[method-assign]
    with pytest.raises(SecurityHubError, match="AccessDenied"):
        publish(document, aws=aws, region=REGION)


class _Failing:
    def get_caller_identity(self) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetCallerIdentity")


def test_cli_publishes_after_writing_the_report(moto_endpoint: str, tmp_path: Path) -> None:
    reset_moto(moto_endpoint)
    snapshot = write_org_snapshot(tmp_path / "snap")
    out = tmp_path / "findings.json"
    run = CliRunner().invoke(
        app,
        [
            "exposure",
            "--snapshot",
            str(snapshot),
            "--out",
            str(out),
            "--publish-securityhub",
            "--endpoint-url",
            moto_endpoint,
        ],
        env={"AWS_DEFAULT_REGION": REGION},
    )
    assert run.exit_code == 0, run.output
    total = len(json.loads(out.read_text())["findings"])
    assert f"{total} imported ({total} new, 0 updated), 0 archived" in run.output
    client = Aws(endpoint_url=moto_endpoint).client("securityhub", REGION)
    assert len(_all(client)) == total


def test_audit_drift_and_exposure_findings_are_published_apart(
    hub: Any, document: dict[str, Any]
) -> None:
    """Publishing the audit's drift archives no exposure finding, and the other way round:
    each publication archives only what is gone of its own id prefix."""
    from core.securityhub import AUDIT_PREFIX, publish
    from governance.audit import AuditResult, Check
    from governance.drift import assessed_places, drift_findings

    where = Hub(hub, PRODUCT, REGION)
    publish_document(document, where)
    exposure = {i for i, f in _all(hub).items() if f.get("RecordState") == "ACTIVE"}
    drift = AuditResult(
        [
            Check(
                "111111111111",
                REGION,
                "imds-defaults",
                "imds-defaults",
                "drift",
                expected="required",
                actual="optional",
            )
        ]
    )
    result = publish(
        where,
        drift_findings(drift, product=PRODUCT, now="2026-12-02T00:00:00.000Z"),
        assessed=assessed_places(drift),
        prefix=AUDIT_PREFIX,
    )
    assert result.new == 1 and result.archived == 0
    active = {i for i, f in _all(hub).items() if f.get("RecordState") == "ACTIVE"}
    assert exposure < active and len(active - exposure) == 1
    # the exposure findings again: the drift finding stays
    publish_document(document, where)
    assert {i for i, f in _all(hub).items() if f.get("RecordState") == "ACTIVE"} == active
