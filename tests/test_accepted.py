"""Accepted risks (``ivs:accepted``, DESIGN.md "Findings"), account names in every
output, the terminal summary and ``--format asff`` to a file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from report_support import write_org_snapshot
from typer.testing import CliRunner

from core.accepted import accept, warnings
from core.errors import InputError
from core.spec import Acceptance
from governance.spec import load_spec
from ivs.cli import app

TODAY = dt.date(2026, 12, 2)
PROD, SHARED = "111111111111", "222222222222"


def _acceptance(**fields: Any) -> Acceptance:
    return Acceptance(**{"reason": "by design", "owner": "web team", **fields})


def _record(**fields: Any) -> dict[str, Any]:
    return {"id": "ivs-0000000000000001", "rule": "r", "account": PROD, "region": "eu-west-1",
            "resource": "i-web-1", **fields}  # fmt: skip


# ---- matching ----------------------------------------------------------------------------


def test_an_acceptance_holds_through_its_last_day_then_lapses() -> None:
    item = _acceptance(rule="r", expires=TODAY)
    on_the_day = [_record()]
    assert accept(on_the_day, [item], TODAY)[0]["status"] == "active"
    assert on_the_day[0]["accepted"]["expires"] == "2026-12-02"
    after = [_record()]
    (entry,) = accept(after, [item], TODAY + dt.timedelta(days=1))
    assert entry["status"] == "expired" and entry["matched"] == 1
    assert "accepted" not in after[0] and after[0]["acceptance_expired"]["by"] == "r"


def test_patterns_match_resource_account_by_id_or_name_and_region_case_sensitively() -> None:
    names = {PROD: "payments-prod"}
    item = _acceptance(rule="r", resource="i-web-*", account="payments-*", region="eu-*",
                       expires=TODAY)  # fmt: skip
    records = [
        _record(),
        _record(resource="i-WEB-1"),  # case differs
        _record(account=SHARED),  # no name matches
        _record(region="us-east-1"),
        _record(rule="other"),
    ]
    (entry,) = accept(records, [item], TODAY, names=names)
    assert entry["matched"] == 1
    assert ["accepted" in r for r in records] == [True, False, False, False, False]
    by_id = _acceptance(rule="r", account=PROD, expires=TODAY)
    assert accept([_record()], [by_id], TODAY)[0]["matched"] == 1


def test_an_active_acceptance_wins_over_an_expired_one_and_the_first_over_later_ones() -> None:
    lapsed = _acceptance(id="ivs-0000000000000001", owner="old", expires=TODAY - dt.timedelta(1))
    first = _acceptance(rule="r", owner="first", expires=TODAY)
    second = _acceptance(rule="r", owner="second", expires=TODAY)
    record = _record()
    register = accept([record], [lapsed, first, second], TODAY)
    assert record["accepted"]["owner"] == "first"
    assert [e["matched"] for e in register] == [1, 1, 1]


def test_warnings_name_the_expired_and_the_unmatched() -> None:
    register = accept(
        [_record()],
        [
            _acceptance(rule="r", expires=TODAY - dt.timedelta(days=1)),
            _acceptance(rule="gone", expires=TODAY),
            _acceptance(rule="r", resource="i-web-*", expires=TODAY),
        ],
        TODAY,
    )
    assert warnings(register) == [
        "accepted risk r expired on 2026-12-01: its 1 finding counts again",
        "accepted risk gone matches no finding",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rule": "r", "id": "ivs-0000000000000001"}, "give either id"),
        ({}, "give either id"),
        ({"id": "ivs-1"}, "is not a finding id"),
        ({"id": "ivs-0000000000000001", "resource": "i-*"}, "resource, account and region"),
        ({"rule": "r", "reason": ""}, "reason"),
    ],
)
def test_a_bad_acceptance_is_refused_naming_its_field(
    tmp_path: Path, spec_fields: dict[str, Any], fields: dict[str, Any], message: str
) -> None:
    entry = {"reason": "x", "owner": "y", "expires": "2027-01-01", **fields}
    spec_fields["accepted"] = [entry]
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps({"ivs": spec_fields}, default=str))
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert "ivs.accepted[0]" in str(err.value) and message in str(err.value)


# ---- through ivs exposure ----------------------------------------------------------------


def _spec(root: Path, accepted: list[dict[str, Any]]) -> Path:
    spec = {
        "ivs": {
            "organization": {
                "management_account_id": "999999999999",
                "root": {
                    "accounts": [
                        {"id": PROD, "name": "payments-prod"},
                        {"id": SHARED, "name": "shared-services"},
                    ]
                },
            },
            "regions": ["eu-west-1", "us-east-1"],
            "principals": {"pipeline": ["arn:aws:iam::*:role/ivs-pipeline"]},
            "accepted": accepted,
        }
    }
    path = root / "spec.yaml"
    path.write_text(json.dumps(spec))
    return path


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_org_snapshot(tmp_path_factory.mktemp("accepted") / "snapshot")


def _run(snapshot: Path, out: Path, spec: Path, *extra: str) -> Any:
    args = ["exposure", "--snapshot", str(snapshot), "--spec", str(spec), "--out", str(out)]
    return CliRunner().invoke(app, [*args, *extra])


WEB = {"rule": "internet-exposed-port", "account": "payments-*", "reason": "the web tier",
       "owner": "web team", "expires": "2099-12-31"}  # fmt: skip


def test_accepted_findings_stay_marked_and_do_not_fail_fail_on(
    snapshot: Path, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, [WEB])
    out = tmp_path / "f.json"
    run = _run(snapshot, out, spec, "--fail-on", "medium")
    document = json.loads(out.read_text())
    accepted = [f for f in document["findings"] if "accepted" in f]
    assert accepted and {f["rule"] for f in accepted} == {"internet-exposed-port"}
    assert document["summary"]["accepted"] == len(accepted)
    assert document["acceptances"][0]["matched"] == len(accepted)
    # the others still fail it, and the reason leaves the accepted ones out
    assert run.exit_code == 1
    assert "internet-exposed-port" not in run.stderr
    assert f"{len(accepted)} accepted" in run.stdout
    # accepting what is left above medium makes the run pass
    rest = {f["rule"] for f in document["findings"] if "accepted" not in f}
    every = [{**WEB, "rule": rule, "account": "*"} for rule in sorted(rest)]
    assert _run(snapshot, out, _spec(tmp_path, [WEB, *every]), "--fail-on", "medium").exit_code == 0


def test_an_expired_acceptance_fails_again_and_says_so(snapshot: Path, tmp_path: Path) -> None:
    lapsed = {**WEB, "expires": "2026-01-31"}
    run = _run(snapshot, tmp_path / "f.json", _spec(tmp_path, [lapsed]), "--fail-on", "medium")
    assert run.exit_code == 1
    assert "ivs: accepted risk internet-exposed-port in payments-* expired on 2026-01-31" in (
        run.stderr
    )
    assert "internet-exposed-port" in run.stderr.split("--fail-on medium", 1)[1]
    document = json.loads((tmp_path / "f.json").read_text())
    assert document["summary"]["accepted"] == 0
    assert any("acceptance_expired" in f for f in document["findings"])


def test_an_acceptance_matching_nothing_is_a_warning(snapshot: Path, tmp_path: Path) -> None:
    typo = {**WEB, "rule": "internet-exposed-prot"}
    run = _run(snapshot, tmp_path / "f.json", _spec(tmp_path, [typo]))
    assert run.exit_code == 0
    assert "ivs: accepted risk internet-exposed-prot in payments-* matches no finding" in run.stderr


def test_names_in_every_output(snapshot: Path, tmp_path: Path) -> None:
    spec = _spec(tmp_path, [WEB])
    outputs = {}
    for fmt in ("json", "sarif", "md", "asff"):
        out = tmp_path / f"f.{fmt}"
        assert _run(snapshot, out, spec, "--format", fmt).exit_code == 0, fmt
        outputs[fmt] = out.read_text()
    document = json.loads(outputs["json"])
    assert document["account_names"] == {PROD: "payments-prod", SHARED: "shared-services"}
    assert "payments-prod (111111111111) / eu-west-1" in outputs["md"]
    sarif = json.loads(outputs["sarif"])["runs"][0]
    assert {r["properties"]["accountName"] for r in sarif["results"]} == {
        "payments-prod",
        "shared-services",
    }
    assert any("in payments-prod (111111111111)/eu-west-1" in r["message"]["text"]
               for r in sarif["results"])  # fmt: skip
    suppressed = [r for r in sarif["results"] if r.get("suppressions")]
    assert len(suppressed) == document["summary"]["accepted"]
    assert suppressed[0]["suppressions"][0]["status"] == "accepted"
    batch = json.loads(outputs["asff"])
    assert len(batch) == len(document["findings"])
    assert {f["ProductFields"]["ivs/AccountName"] for f in batch} == {
        "payments-prod",
        "shared-services",
    }
    assert {f["ProductArn"] for f in batch} == {
        "arn:aws:securityhub:eu-west-1:999999999999:product/999999999999/default"
    }
    assert sum("ivs/Accepted" in f["ProductFields"] for f in batch) == len(suppressed)


def test_names_come_from_organizations_without_a_spec(tmp_path: Path) -> None:
    snap = write_org_snapshot(tmp_path / "snapshot")
    org = snap / "organization"
    org.mkdir()
    (org / "Accounts.json").write_text(
        json.dumps({"Accounts": [{"Id": PROD, "Name": "from-organizations", "ParentId": "r-1"}]})
    )
    out = tmp_path / "f.json"
    run = CliRunner().invoke(app, ["exposure", "--snapshot", str(snap), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert json.loads(out.read_text())["account_names"] == {PROD: "from-organizations"}


def test_asff_without_a_product_or_spec_is_a_usage_error(snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.asff"
    args = ["exposure", "--snapshot", str(snapshot), "--out", str(out), "--format", "asff"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 2 and "give --spec (or --asff-product ARN)" in run.stderr
    assert not out.exists()
    product = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    assert CliRunner().invoke(app, [*args, "--asff-product", product]).exit_code == 0
    assert {f["ProductArn"] for f in json.loads(out.read_text())} == {product}


def test_quiet_keeps_stdout_empty(snapshot: Path, tmp_path: Path) -> None:
    spec = _spec(tmp_path, [WEB])
    run = _run(snapshot, tmp_path / "f.json", spec, "--quiet", "--fail-on", "critical")
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr.startswith("ivs: --fail-on critical: 1 at or above: critical")


def test_sarif_severity_as_github_reads_it_is_the_graded_one(
    snapshot: Path, tmp_path: Path
) -> None:
    """GitHub code scanning shows the ``security-severity`` of the result's rule
    (docs.github.com, "SARIF support for code scanning": reportingDescriptor object)."""
    from graph.report.sarif import sarif_log

    out = tmp_path / "f.json"
    assert _run(snapshot, out, _spec(tmp_path, [])).exit_code == 0
    document = json.loads(out.read_text())
    graded = next(f for f in document["findings"] if f["rule"] == "internet-exposed-admin-port")
    graded["severity"] = "high"  # as for narrow sources (test_internet_sources grades them)
    run = sarif_log(document)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    scores = {"critical": 9.0, "high": 7.0, "medium": 4.0, "low": 0.1}  # GitHub's bands
    for result, finding in zip(run["results"], document["findings"], strict=True):
        shown = float(rules[result["ruleIndex"]]["properties"]["security-severity"])
        band = max((s for s, floor in scores.items() if shown >= floor), key=scores.__getitem__)
        assert band == finding["severity"], result["ruleId"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["properties"]["rule"] == finding["rule"]
    assert len({r["id"] for r in rules}) == len(rules)


# ---- accepted drift in the audit ---------------------------------------------------------


def _drift_result(spec: Any, accepted: list[dict[str, Any]]) -> Any:
    from governance.audit import AuditResult, Check

    checks = [
        Check("400000000002", "eu-west-1", "ebs-encryption-by-default", "x", "drift",
              expected=True, actual=False),
        Check("400000000002", "us-east-1", "ebs-encryption-by-default", "x", "pass"),
        Check("500000000001", "eu-west-1", "backup-vault", "ivs-backup-vault", "drift",
              expected="present", actual="missing"),
    ]  # fmt: skip
    result = AuditResult(checks)
    chosen = spec.model_copy(update={"accepted": [Acceptance(**a) for a in accepted]})
    result.accept(chosen, TODAY)
    return result


EBS = {"rule": "ebs-encryption-by-default", "account": "web-prod", "reason": "migration",
       "owner": "platform", "expires": "2027-01-31"}  # fmt: skip


def test_accepted_drift_is_kept_marked_and_fails_only_while_other_drift_remains(
    spec: Any,
) -> None:
    from governance.audit import report_json

    result = _drift_result(spec, [EBS, {**WEB, "account": "*"}])  # WEB is about findings
    assert list(result.accepted) == [0] and result.has_drift  # the vault is still drift
    assert [e["by"] for e in result.acceptances] == ["ebs-encryption-by-default in web-prod"]
    report = report_json(result, "spec.yaml", spec.account_names())
    assert report["records"][0]["accepted"]["owner"] == "platform"
    assert "accepted" not in report["records"][2]
    assert report["summary"]["accepted"] == 1
    assert report["account_names"]["400000000002"] == "web-prod"
    vault = {**EBS, "rule": "backup-vault", "account": "500000000001"}
    assert not _drift_result(spec, [EBS, vault]).has_drift
    lapsed = _drift_result(spec, [{**EBS, "expires": "2026-11-30"}, vault])
    assert lapsed.has_drift and warnings(lapsed.acceptances, "drift record") == [
        "accepted risk ebs-encryption-by-default in web-prod expired on 2026-11-30: its 1 "
        "drift record counts again"
    ]


def test_drift_as_security_hub_findings(spec: Any) -> None:
    from governance.drift import assessed_places, drift_findings

    result = _drift_result(spec, [EBS])
    product = "arn:aws:securityhub:us-east-1:200000000002:product/200000000002/default"
    findings = drift_findings(result, product=product, now="2026-12-02T00:00:00Z",
                              names=spec.account_names())  # fmt: skip
    assert [f["GeneratorId"] for f in findings] == [
        "ivs-audit/ebs-encryption-by-default",
        "ivs-audit/backup-vault",
    ]
    assert all(f["Id"].startswith("ivs-governance/audit/") for f in findings)
    assert findings[0]["ProductFields"]["ivs/AccountName"] == "web-prod"
    assert findings[0]["ProductFields"]["ivs/Accepted"].startswith("until 2027-01-31")
    assert findings[0]["Resources"][0] == {
        "Type": "AwsAccount",
        "Id": "AWS::::Account:400000000002",
        "Partition": "aws",
        "Region": "eu-west-1",
    }
    assert findings[0]["Description"] == (
        "Audit drift: ebs-encryption-by-default on x: expected true, found false"
    )
    assert assessed_places(result) == {
        ("400000000002", "eu-west-1"),
        ("400000000002", "us-east-1"),
        ("500000000001", "eu-west-1"),
    }
