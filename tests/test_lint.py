"""Lint: every rule has a failing and a passing case; the CLI's exit codes."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from core.errors import InputError
from core.spec import Limits, Spec
from governance.lint import RULES, LintReport, lint_documents, lint_file, lint_spec
from governance.policies import build_documents
from governance.policies.model import PolicyDocument
from governance.spec import spec_from_mapping
from ivs.cli import app
from ivs.policies import print_report

STACKS = Path(__file__).resolve().parent.parent / "stacks"
PIPELINE = ["arn:aws:iam::*:role/ivs-pipeline"]
EXEMPT = {"ArnNotLike": {"aws:PrincipalArn": PIPELINE}}


def make_spec(fields: dict[str, Any]) -> Spec:
    return spec_from_mapping(fields, "test.yaml", base_dir=str(STACKS))


def scp(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    content: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        content = {"Version": version, **content}
    return content


def deny(actions: Any, **rest: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": "*", **rest}


def lint_one(
    content: dict[str, Any],
    kind: str = "scp",
    targets: tuple[str, ...] = (),
    limits: Limits | None = None,
    pipeline: list[str] | None = None,
) -> LintReport:
    doc = PolicyDocument("doc", kind, content, targets, custom=True)  # type: ignore[arg-type]
    return lint_documents([doc], limits or Limits(), pipeline=pipeline)


def codes(report: LintReport, severity: str | None = None) -> set[str]:
    return {f.code for f in report.findings if severity is None or f.severity == severity}


def custom_scp(name: str, targets: list[str], *statements: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": "scp", "content": scp(*statements), "targets": targets}


# ---- the example organization and AWS-style examples ---------------------------------------


def test_example_org_builtin_documents_have_no_finding(spec: Spec) -> None:
    report = lint_spec(spec)
    assert report.findings == []
    assert report.documents >= 10 and not report.has_errors


AWS_STYLE_EXAMPLES: list[dict[str, Any]] = [
    # Deny member accounts leaving the organization.
    scp(deny("organizations:LeaveOrganization")),
    # Deny regions outside the approved ones, exempting global services and two admin roles.
    scp(
        {
            "Sid": "DenyAllOutsideEU",
            "Effect": "Deny",
            "NotAction": ["cloudfront:*", "iam:*", "organizations:*", "route53:*", "sts:*"],
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]},
                "ArnNotLike": {
                    "aws:PrincipalARN": [
                        "arn:aws:iam::*:role/Role1AllowedToBypassThisSCP",
                        "arn:aws:iam::*:role/Role2AllowedToBypassThisSCP",
                    ]
                },
            },
        }
    ),
    # Require IMDSv2 and a bounded hop limit; only an admin role may change metadata options.
    scp(
        {
            "Sid": "RequireImdsV2",
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
        },
        {
            "Sid": "MaxImdsHopLimit",
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"NumericGreaterThan": {"ec2:MetadataHttpPutResponseHopLimit": "3"}},
        },
        {
            "Effect": "Deny",
            "Action": "ec2:ModifyInstanceMetadataOptions",
            "Resource": "*",
            "Condition": {
                "StringNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/ec2-imds-admins"}
            },
        },
    ),
    # Deny the member accounts' root user; deny disabling GuardDuty and CloudTrail.
    scp(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}},
        },
        deny(["guardduty:DeleteDetector", "guardduty:UpdateDetector", "cloudtrail:StopLogging"]),
    ),
    # Require a project tag on creation; deny unencrypted S3 uploads.
    scp(
        {
            "Sid": "DenyCreateSecretWithNoProjectTag",
            "Effect": "Deny",
            "Action": "secretsmanager:CreateSecret",
            "Resource": "*",
            "Condition": {"Null": {"aws:RequestTag/Project": "true"}},
        },
        {
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        },
    ),
    # Restrict role passing to a path, with NotResource.
    scp(
        {
            "Effect": "Deny",
            "Action": "iam:PassRole",
            "NotResource": "arn:aws:iam::*:role/approved/*",
        }
    ),
]


@pytest.mark.parametrize("content", AWS_STYLE_EXAMPLES)
def test_aws_style_example_scps_raise_no_error(content: dict[str, Any]) -> None:
    report = lint_one(content)
    assert not report.has_errors, report.findings
    assert codes(report) <= {"IVS-L011"}  # only "exempts no principal" warnings


# ---- IVS-L001 size ------------------------------------------------------------------------


def test_l001_oversized_scp() -> None:
    big = scp(deny([f"ec2:Describe{n}" for n in ("Instances", "Vpcs")] * 400))
    report = lint_one(big)
    assert "IVS-L001" in codes(report, "error")
    assert "10240" in next(f.message for f in report.findings if f.code == "IVS-L001")
    assert "IVS-L001" not in codes(lint_one(scp(deny("ec2:DescribeVpcs"))))
    # A stricter limit chosen in the spec applies.
    stricter = Limits(scp_max_chars=100)
    assert "IVS-L001" in codes(lint_one(scp(deny(["ec2:DescribeVpcs"] * 10)), limits=stricter))


# ---- IVS-L002 count per target ------------------------------------------------------------


def _sandbox_with_custom_scps(spec_fields: dict[str, Any], count: int, **limits: int) -> Spec:
    spec_fields["limits"] = limits
    for n in range(count):
        spec_fields["policies"].append(
            custom_scp(
                f"team-{n}", ["Sandbox"], deny("ec2:DeleteVpc", Condition={**EXEMPT}, Sid=f"S{n}")
            )
        )
    return make_spec(spec_fields)


@pytest.mark.parametrize(
    ("custom", "limit", "fails"),
    [(3, 5, False), (4, 5, True), (8, 10, False), (9, 10, True)],
)
def test_l002_scps_per_target_count_full_aws_access(
    spec_fields: dict[str, Any], custom: int, limit: int, fails: bool
) -> None:
    # Sandbox already holds FullAWSAccess and ivs-scp-sandbox-1.
    limits = {"scp_max_per_target": limit} if limit != 10 else {}
    report = lint_spec(_sandbox_with_custom_scps(spec_fields, custom, **limits))
    found = [f for f in report.findings if f.code == "IVS-L002"]
    assert bool(found) is fails
    if fails:
        assert found[0].target == "Sandbox"
        assert f"{custom + 2} scp policies" in found[0].message
        assert "FullAWSAccess" in found[0].message


# ---- IVS-L003 OU depth --------------------------------------------------------------------


def _nest(depth: int) -> dict[str, Any]:
    unit: dict[str, Any] = {"name": f"L{depth}"}
    for level in range(depth - 1, 0, -1):
        unit = {"name": f"L{level}", "units": [unit]}
    return unit


@pytest.mark.parametrize(("depth", "fails"), [(5, False), (6, True)])
def test_l003_ou_depth(spec_fields: dict[str, Any], depth: int, fails: bool) -> None:
    spec_fields["organization"]["units"].append(_nest(depth))
    report = lint_spec(make_spec(spec_fields))
    assert ("IVS-L003" in codes(report, "error")) is fails


def test_l003_stricter_depth(spec_fields: dict[str, Any]) -> None:
    spec_fields["limits"] = {"ou_max_depth": 1}
    report = lint_spec(make_spec(spec_fields))
    depth = [f for f in report.findings if f.code == "IVS-L003"]
    assert {f.target for f in depth} == {"Workloads/Prod", "Workloads/NonProd"}


# ---- IVS-L004 / L005 actions --------------------------------------------------------------


def test_l004_misspelled_action_in_deny_is_an_error_naming_it() -> None:
    report = lint_one(scp(deny(["ec2:CreateVolumes"], Sid="DenyVolumes")))
    [finding] = [f for f in report.findings if f.code == "IVS-L004"]
    assert finding.severity == "error"
    assert finding.statement == "DenyVolumes"
    assert "ec2:CreateVolumes" in finding.message and "ec2:CreateVolume?" in finding.message
    assert "IVS-L004" not in codes(lint_one(scp(deny(["ec2:CreateVolume"]))))


def test_l004_unknown_service_and_allow_is_a_warning() -> None:
    assert "IVS-L004" in codes(lint_one(scp(deny("ecc2:CreateVolume"))), "error")
    allow = {"Effect": "Allow", "Action": "ec2:CreateVolumes", "Resource": "*"}
    report = lint_one(scp(allow))
    assert "IVS-L004" in codes(report, "warning") and not report.has_errors


def test_l004_typo_in_not_action_is_a_warning() -> None:
    statement = {
        "Effect": "Deny",
        "NotAction": ["iam:*", "organisations:*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
    }
    report = lint_one(scp(statement))
    assert "IVS-L004" in codes(report, "warning") and not report.has_errors


def test_l005_wildcard_matching_nothing() -> None:
    report = lint_one(scp(deny(["ec2:*Volumez*"])))
    assert "IVS-L005" in codes(report, "error")
    assert "IVS-L005" not in codes(lint_one(scp(deny(["ec2:*Volume*"]))))


# ---- IVS-L006 condition keys --------------------------------------------------------------


def test_l006_condition_key_that_does_not_apply() -> None:
    public_image = deny(
        "ec2:ModifyImageAttribute", Condition={"StringEquals": {"ec2:Add/group": "all"}}
    )
    report = lint_one(scp(public_image))
    [finding] = [f for f in report.findings if f.code == "IVS-L006"]
    assert finding.severity == "error"
    assert "ec2:Add/group" in finding.message and "ec2:ModifyImageAttribute" in finding.message
    public_snapshot = deny(
        "ec2:ModifySnapshotAttribute", Condition={"StringEquals": {"ec2:Add/group": "all"}}
    )
    assert "IVS-L006" not in codes(lint_one(scp(public_snapshot)))


def test_l006_key_applying_to_one_action_of_several_passes() -> None:
    statement = deny(
        ["ec2:CreateVolume", "ec2:DescribeVpcs"], Condition={"Bool": {"ec2:Encrypted": "false"}}
    )
    assert "IVS-L006" not in codes(lint_one(scp(statement)))


def test_l006_unknown_key_and_allow_warning() -> None:
    typo = deny("ec2:RunInstances", Condition={"StringEquals": {"aws:RequestedRegions": "x"}})
    assert "IVS-L006" in codes(lint_one(scp(typo)), "error")
    allow = {
        "Effect": "Allow",
        "Action": "ec2:DescribeVpcs",
        "Resource": "*",
        "Condition": {"Bool": {"ec2:Encrypted": "true"}},
    }
    report = lint_one(scp(allow))
    assert "IVS-L006" in codes(report, "warning") and not report.has_errors


# ---- IVS-L007 grammar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (scp(deny("ec2:DescribeVpcs"), version="2008-10-17"), "Version"),
        (scp(deny("ec2:DescribeVpcs"), version=None), "Version"),
        (scp(deny("ec2:DescribeVpcs", Principal="*")), "Principal is not supported"),
        (scp({"Effect": "Deny", "Action": "ec2:DescribeVpcs"}), "Resource"),
        (scp(deny("ec2:DescribeVpcs", NotAction="ec2:*")), "exactly one of Action"),
        (scp(deny("ec2:DescribeVpcs", Effect="Block")), "Effect"),
        (scp(deny("ec2:DescribeVpcs", Sid="has-dash")), "letters and digits"),
        (scp(deny("ec2:DescribeVpcs", Sid="A"), deny("ec2:DescribeVpcs", Sid="A")), "repeated"),
        (
            scp(deny("ec2:DescribeVpcs", Condition={"StringEqual": {"aws:SourceIp": "x"}})),
            "operator",
        ),
        (scp(deny("DescribeVpcs")), "service:action"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({**scp(deny("ec2:DescribeVpcs")), "Extra": 1}, "top-level"),
    ],
)
def test_l007_grammar_errors(content: dict[str, Any], needle: str) -> None:
    findings = [f for f in lint_one(content).findings if f.code == "IVS-L007"]
    assert findings and findings[0].severity == "error"
    assert any(needle in f.message for f in findings), findings


def test_l007_operator_variants_pass() -> None:
    statement = deny(
        "ec2:RunInstances",
        Condition={
            "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["Env*"]},
            "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
        },
    )
    assert "IVS-L007" not in codes(lint_one(scp(statement)))


def test_l007_rcp_needs_principal_star() -> None:
    rcp = scp(deny("s3:GetObject"))
    assert "IVS-L007" in codes(lint_one(rcp, kind="rcp"), "error")
    ok = scp(deny("s3:GetObject", Principal="*"))
    assert "IVS-L007" not in codes(lint_one(ok, kind="rcp"))


# ---- IVS-L008 / L009 / L013 management policies -------------------------------------------


def tag_doc(key: str, policy_key: str | None = None, **extra: Any) -> dict[str, Any]:
    entry = {"tag_key": {"@@assign": key}, "tag_value": {"@@assign": ["a"]}, **extra}
    return {"tags": {policy_key or key.lower(): entry}}


def test_l008_unknown_inheritance_operator() -> None:
    bad = {"tags": {"env": {"tag_key": {"@@assing": "Env"}}}}
    report = lint_one(bad, kind="tag")
    [finding] = [f for f in report.findings if f.code == "IVS-L008"]
    assert finding.severity == "error" and "@@assing" in finding.message
    child_ops = {
        "tags": {
            "env": {
                "tag_key": {
                    "@@assign": "Env",
                    "@@operators_allowed_for_child_policies": ["@@nothing"],
                }
            }
        }
    }
    assert "IVS-L008" in codes(lint_one(child_ops, kind="tag"), "error")
    good = {
        "tags": {
            "env": {
                "tag_key": {
                    "@@assign": "Env",
                    "@@operators_allowed_for_child_policies": ["@@none"],
                },
                "tag_value": {"@@append": ["x"]},
            }
        }
    }
    assert lint_one(good, kind="tag").findings == []


def test_l009_tag_key_case() -> None:
    mismatch = tag_doc("CostCenter", policy_key="costcentre")
    assert "IVS-L009" in codes(lint_one(mismatch, kind="tag"), "error")
    assert lint_one(tag_doc("CostCenter"), kind="tag").findings == []
    first = PolicyDocument("a", "tag", tag_doc("CostCenter"), ("Workloads",))
    second = PolicyDocument("b", "tag", tag_doc("Costcenter"), ("Sandbox",))
    report = lint_documents([first, second], Limits())
    assert "IVS-L009" in codes(report, "error")
    assert "CostCenter" in report.errors[0].message and "Costcenter" in report.errors[0].message


def test_l013_tag_and_declarative_structure() -> None:
    assert "IVS-L013" in codes(lint_one({"tag": {}}, kind="tag"), "error")
    assert "IVS-L013" in codes(
        lint_one(tag_doc("Env", enforced_for={"@@assign": ["instance"]}), kind="tag")
    )
    unknown_attribute = {"ec2_attributes": {"serial_console": {"status": {"@@assign": "disabled"}}}}
    assert "IVS-L013" in codes(lint_one(unknown_attribute, kind="declarative-ec2"), "error")
    bad_value = {
        "ec2_attributes": {"image_block_public_access": {"state": {"@@assign": "blocked"}}}
    }
    report = lint_one(bad_value, kind="declarative-ec2")
    assert "IVS-L013" in codes(report, "error") and "'blocked'" in report.errors[0].message
    bad_mode = {
        "ec2_attributes": {
            "vpc_block_public_access": {
                "internet_gateway_block": {"mode": {"@@assign": "block-ingress"}}
            }
        }
    }
    assert "IVS-L013" in codes(lint_one(bad_mode, kind="declarative-ec2"), "error")
    good = {
        "ec2_attributes": {
            "image_block_public_access": {"state": {"@@assign": "block_new_sharing"}},
            "instance_metadata_defaults": {"http_put_response_hop_limit": {"@@assign": "2"}},
        }
    }
    assert lint_one(good, kind="declarative-ec2").findings == []


# ---- IVS-L010 backup ----------------------------------------------------------------------


def backup_doc(selection: dict[str, Any]) -> dict[str, Any]:
    return {
        "plans": {
            "daily": {
                "regions": {"@@assign": ["eu-west-1"]},
                "rules": {
                    "daily": {
                        "schedule_expression": {"@@assign": "cron(0 3 ? * * *)"},
                        "target_backup_vault_name": {"@@assign": "vault"},
                    }
                },
                "selections": {"tags": {"daily": selection}},
            }
        }
    }


def test_l010_backup_required_fields() -> None:
    complete = {
        "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/backup"},
        "tag_key": {"@@assign": "Backup"},
        "tag_value": {"@@assign": ["daily"]},
    }
    assert lint_one(backup_doc(complete), kind="backup").findings == []
    without_role = {k: v for k, v in complete.items() if k != "iam_role_arn"}
    report = lint_one(backup_doc(without_role), kind="backup")
    [finding] = [f for f in report.findings if f.code == "IVS-L010"]
    assert finding.severity == "error" and "iam_role_arn" in finding.message
    no_regions = backup_doc(complete)
    del no_regions["plans"]["daily"]["regions"]
    assert "IVS-L010" in codes(lint_one(no_regions, kind="backup"), "error")


def test_l010_amending_plan_is_only_a_warning() -> None:
    amend = {"plans": {"daily": {"regions": {"@@append": ["eu-central-1"]}}}}
    report = lint_one(amend, kind="backup")
    assert "IVS-L010" in codes(report, "warning") and not report.has_errors


# ---- IVS-L011 lockout ---------------------------------------------------------------------


def test_l011_deny_at_ou_without_pipeline_exemption(spec_fields: dict[str, Any]) -> None:
    spec_fields["policies"].append(
        custom_scp("no-vpc-deletes", ["Workloads"], deny("ec2:DeleteVpc", Sid="NoVpcDeletes"))
    )
    report = lint_spec(make_spec(spec_fields))
    [finding] = [f for f in report.findings if f.code == "IVS-L011"]
    assert finding.severity == "error" and finding.policy == "no-vpc-deletes"
    assert finding.statement == "NoVpcDeletes" and "ivs-pipeline" in finding.message


def test_l011_exempted_or_account_level_passes(spec_fields: dict[str, Any]) -> None:
    spec_fields["policies"].extend(
        [
            custom_scp("exempted", ["Workloads"], deny("ec2:DeleteVpc", Condition={**EXEMPT})),
            custom_scp(
                "wildcard-exempt",
                ["root"],
                deny(
                    "ec2:DeleteVpc",
                    Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ivs-*"}},
                ),
            ),
            custom_scp("one-account", ["400000000001"], deny("ec2:DeleteVpc")),
        ]
    )
    report = lint_spec(make_spec(spec_fields))
    assert "IVS-L011" not in codes(report)


def test_l011_standalone_deny_without_exemption_warns() -> None:
    report = lint_one(scp(deny("ec2:DeleteVpc")))
    assert "IVS-L011" in codes(report, "warning") and not report.has_errors
    assert "IVS-L011" not in codes(lint_one(scp(deny("ec2:DeleteVpc", Condition={**EXEMPT}))))


def test_findings_name_the_control_of_their_statement(spec: Spec) -> None:
    docs = build_documents(spec)
    root = next(d for d in docs if d.name == "ivs-scp-root-1")
    assert len(set(root.statement_controls)) > 1
    content = json.loads(json.dumps(root.content))
    content["Statement"][-1]["Action"] = ["ec2:DeleteFlowLog"]  # a typo in one statement
    broken = dataclasses.replace(root, content=content)
    report = lint_documents([broken], pipeline=spec.principals.pipeline, check_counts=False)
    (typo,) = [f for f in report.findings if f.code == "IVS-L004"]
    assert typo.controls == (root.statement_controls[-1],)
    assert report.to_dict()["findings"][0]["controls"] == [root.statement_controls[-1]]
    oversized = dataclasses.replace(root, content={**content, "Padding": "x" * 11000})
    sizes = lint_documents([oversized], check_counts=False).findings
    assert {f.controls for f in sizes if f.code == "IVS-L001"} == {root.controls}


# ---- IVS-L012 packing ---------------------------------------------------------------------


def test_l012_packing_failure_is_a_finding_not_a_crash(spec_fields: dict[str, Any]) -> None:
    spec_fields["limits"] = {"scp_max_chars": 1600, "scp_max_per_target": 3}
    report = lint_spec(make_spec(spec_fields))
    packing = [f for f in report.findings if f.code == "IVS-L012"]
    assert packing and all(f.severity == "error" for f in packing)
    # root holds the custom SCP too: FullAWSAccess + 2 packed + 1 custom > 3.
    assert {f.target for f in packing} == {"Workloads", "root"}
    assert "IVS-L002" in codes(report)


def test_every_rule_code_is_exercised_here() -> None:
    source = Path(__file__).read_text()
    for code in RULES:
        assert f'"{code}"' in source, code


# ---- files and output ---------------------------------------------------------------------


def test_lint_file_and_bad_json(tmp_path: Path) -> None:
    good = tmp_path / "deny.json"
    good.write_text(json.dumps(scp(deny("ec2:CreateVolumes"))))
    report = lint_file(good, "scp")
    assert report.has_errors and report.findings[0].policy == "deny"
    broken = tmp_path / "broken.json"
    broken.write_text('{"Version": "2012-10-17",\n  "Statement": [}')
    where = r"broken\.json: \$\.Statement\[0\]: invalid JSON at line 2"
    with pytest.raises(InputError, match=where):
        lint_file(broken, "scp")


def test_print_report_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    report = lint_one(scp(deny("ec2:CreateVolumes", Sid="S1")))
    print_report(report, "json")
    data = json.loads(capsys.readouterr().out)
    assert data["errors"] == 1 and data["findings"][0]["code"] == "IVS-L004"
    assert data["findings"][0]["rule"] == RULES["IVS-L004"]
    print_report(report, "text")
    out = capsys.readouterr().out
    assert "ERROR IVS-L004 doc S1:" in out and "ec2:CreateVolumes" in out


# ---- CLI ----------------------------------------------------------------------------------

runner = CliRunner()


def write_spec(path: Path, fields: dict[str, Any]) -> Path:
    yaml = YAML(typ="safe", pure=True)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump({"ivs": fields}, handle)
    return path


def test_cli_lint_example_spec_exits_0() -> None:
    result = runner.invoke(app, ["policies", "lint", "--spec", str(STACKS / "Pulumi.org.yaml")])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_cli_lint_exits_1_and_names_misspelled_action(
    spec_fields: dict[str, Any], tmp_path: Path
) -> None:
    spec_fields.pop("policies")
    spec_fields["policies"] = [
        custom_scp("typo", ["Workloads"], deny(["ec2:CreateVolumes"], Condition={**EXEMPT}))
    ]
    path = write_spec(tmp_path / "spec.yaml", spec_fields)
    result = runner.invoke(app, ["policies", "lint", "--spec", str(path)])
    assert result.exit_code == 1, result.output
    assert "ec2:CreateVolumes" in result.output and "IVS-L004" in result.output
    as_json = runner.invoke(app, ["policies", "lint", "--spec", str(path), "--format", "json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["findings"][0]["policy"] == "typo"


def test_cli_lint_standalone_policy(tmp_path: Path) -> None:
    path = tmp_path / "scp.json"
    path.write_text(json.dumps(scp(deny("ec2:CreateVolumes"))))
    result = runner.invoke(app, ["policies", "lint", "--policy", str(path), "--type", "scp"])
    assert result.exit_code == 1 and "ec2:CreateVolumes" in result.output
    path.write_text(json.dumps(scp(deny("ec2:CreateVolume", Condition={**EXEMPT}))))
    result = runner.invoke(app, ["policies", "lint", "--policy", str(path), "--type", "scp"])
    assert result.exit_code == 0, result.output


def test_cli_bad_field_exits_2_naming_the_path(spec_fields: dict[str, Any], tmp_path: Path) -> None:
    spec_fields["organization"]["units"][2]["accounts"] = [{"id": "4000", "name": "short"}]
    path = write_spec(tmp_path / "spec.yaml", spec_fields)
    result = runner.invoke(app, ["policies", "lint", "--spec", str(path)])
    assert result.exit_code == 2
    assert "ivs.organization.units[2].accounts[0].id" in result.output
    assert str(path) in result.output


def test_cli_unknown_field_exits_2(spec_fields: dict[str, Any], tmp_path: Path) -> None:
    spec_fields["organization"]["root"]["contrls"] = []
    path = write_spec(tmp_path / "spec.yaml", spec_fields)
    result = runner.invoke(app, ["policies", "lint", "--spec", str(path)])
    assert result.exit_code == 2
    assert "ivs.organization.root.contrls: unknown field" in result.output


def test_cli_bad_yaml_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("ivs:\n  regions: [us-east-1\n  principals: {}\n")
    result = runner.invoke(app, ["policies", "lint", "--spec", str(path)])
    assert result.exit_code == 2
    assert "broken.yaml" in result.output and "invalid YAML" in result.output


def test_cli_missing_policy_file_exits_2(spec_fields: dict[str, Any], tmp_path: Path) -> None:
    spec_fields["policies"][0]["file"] = "policies/nope.json"
    path = write_spec(tmp_path / "spec.yaml", spec_fields)
    result = runner.invoke(app, ["policies", "lint", "--spec", str(path)])
    assert result.exit_code == 2 and "nope.json" in result.output


# ---- bad input: each place that once crashed is a finding or one line, exit 2 ----------


@pytest.mark.parametrize(
    ("kind", "content", "needle"),
    [
        # an operator's values once met a set lookup that an object cannot take
        (
            "tag",
            {"tags": {"env": {"@@operators_allowed_for_child_policies": [{"@@all": 1}]}}},
            "unknown child-policy operators [an object]",
        ),
        # .items() of a list
        ("backup", {"plans": {"p": {"@@assign": {}, "rules": ["daily"]}}}, "plans.p.rules must"),
        (
            "backup",
            {"plans": {"p": {"rules": {"r": {"copy_actions": "x"}}}}},
            "plans.p.rules.r.copy_actions must be an object",
        ),
        (
            "backup",
            {"plans": {"p": {"selections": {"tags": [1]}}}},
            "plans.p.selections.tags must be an object",
        ),
        (
            "declarative-ec2",
            {"ec2_attributes": {"image_block_public_access": {"state": [{"@@assign": 1}]}}},
            "image_block_public_access.state = a list",
        ),
        (
            "declarative-ec2",
            {
                "ec2_attributes": {
                    "vpc_block_public_access": {
                        "internet_gateway_block": {"mode": {"@@assign": ["off"]}}
                    }
                }
            },
            "internet_gateway_block.mode = a list",
        ),
    ],
)
def test_management_policies_of_the_wrong_shape_are_findings(
    kind: str, content: dict[str, Any], needle: str
) -> None:
    report = lint_one(content, kind)
    assert report.has_errors
    assert any(needle in f.message for f in report.findings), report.findings


def test_a_finding_cuts_the_values_it_quotes() -> None:
    report = lint_one(scp(deny("ec2:RunInstances", Sid="S" * 100_000 + "-")))
    [finding] = [f for f in report.findings if "must be letters and digits" in f.message]
    assert "(100,001 characters)" in finding.message and len(finding.message) < 200
    assert finding.statement is not None and len(finding.statement) < 200


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (
            b'{"Version": "2012-10-17", "Statement": [{"Sid": "\\udc00"}]}',
            "$.Statement[0].Sid",
            "lone surrogate",
        ),
        (
            b'{"Statement": [' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"]}",
            "Statement[0]",
            "nested deeper than 64",
        ),
        (b'{"Statement": ' + b"[" * 5000 + b"]" * 5000 + b"}", "$.Statement", "levels deep"),
        (b'{"Statement": "\xff"}', "$.Statement", "not UTF-8"),
    ],
)
def test_a_policy_file_that_is_not_a_document_exits_2(
    tmp_path: Path, raw: bytes, field: str, words: str
) -> None:
    file = tmp_path / "p.json"
    file.write_bytes(raw)
    with pytest.raises(InputError) as caught:
        lint_file(file, "scp")
    assert caught.value.source == str(file)
    assert (caught.value.field or "").startswith(field) and words in caught.value.message
    result = CliRunner().invoke(app, ["policies", "lint", "--policy", str(file), "--type", "scp"])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"ivs: {file}") and len(line) < 800


_WEB = {"rule": "internet-exposed-port", "account": "*", "reason": "the web tier",
        "owner": "web team", "expires": "2099-12-31"}  # fmt: skip


def test_lint_warns_of_expired_acceptances_and_unknown_rules(
    tmp_path: Path, spec_fields: dict[str, Any]
) -> None:
    spec_fields["accepted"] = [
        {**_WEB, "expires": "2026-01-31"},
        {**_WEB, "rule": "internet-exposed-prot"},
        {**_WEB, "rule": "ebs-encryption-by-default"},  # an audit control
    ]
    shutil.copytree(Path(__file__).parent.parent / "stacks" / "policies", tmp_path / "policies")
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps({"ivs": spec_fields}, default=str))
    run = CliRunner().invoke(app, ["policies", "lint", "--spec", str(path), "--format", "json"])
    assert run.exit_code == 0, run.output  # warnings
    found = [(f["code"], f["policy"]) for f in json.loads(run.stdout)["findings"]
             if f["code"] in ("IVS-L014", "IVS-L015")]  # fmt: skip
    assert found == [("IVS-L014", "ivs.accepted[0]"), ("IVS-L015", "ivs.accepted[1]")]
