"""Policy documents built from the spec: names, contents, packing, custom documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core import iamdata
from core.errors import InputError
from core.jsonio import minify
from core.spec import Spec
from governance.controls import CONTROLS_BY_ID
from governance.policies import PackingError, build_documents, slug
from governance.policies.model import PolicyDocument
from governance.policies.packing import document_size, pack
from governance.spec import spec_from_mapping

STACKS = Path(__file__).resolve().parent.parent / "stacks"
PIPELINE = "arn:aws:iam::*:role/ivs-pipeline"
BREAK_GLASS = "arn:aws:iam::*:role/BreakGlass"


def make_spec(fields: dict[str, Any]) -> Spec:
    return spec_from_mapping(fields, "test.yaml", base_dir=str(STACKS))


@pytest.fixture(scope="module")
def docs(spec: Spec) -> list[PolicyDocument]:
    return build_documents(spec)


def by_name(docs: list[PolicyDocument]) -> dict[str, PolicyDocument]:
    return {d.name: d for d in docs}


def statements(doc: PolicyDocument) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in doc.content["Statement"]}


def scp_statements_at(docs: list[PolicyDocument], target: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc.kind == "scp" and not doc.custom and target in doc.targets:
            out.update(statements(doc))
    return out


def test_names_are_stable_and_per_target(docs: list[PolicyDocument], spec: Spec) -> None:
    names = [d.name for d in docs]
    assert names == [d.name for d in build_documents(spec)]
    assert len(set(names)) == len(names)
    assert {
        "ivs-scp-root-1",
        "ivs-scp-workloads-1",
        "ivs-scp-workloads-prod-1",
        "ivs-tag-workloads",
        "ivs-backup-workloads",
        "ivs-declarative-ec2-workloads",
        "ivs-tag-sandbox",
        "org-protect-security-services",
    } <= set(names)
    assert slug("Workloads/NonProd") == "workloads-nonprod"
    # NonProd switches nothing on and differs from nothing: it inherits Workloads' documents.
    assert not [d for d in docs if "Workloads/NonProd" in d.targets]


def test_every_scp_statement_names_its_ccm_control(docs: list[PolicyDocument]) -> None:
    for doc in docs:
        if doc.kind != "scp" or doc.custom:
            continue
        prefixes = {CONTROLS_BY_ID[c].ccm[0].replace("-", "") for c in doc.controls}
        for statement in doc.content["Statement"]:
            assert statement["Sid"].isalnum()
            assert any(statement["Sid"].startswith(p) for p in prefixes), statement["Sid"]


def test_every_deny_exempts_pipeline_and_break_glass(docs: list[PolicyDocument]) -> None:
    denies = [
        s
        for d in docs
        if d.kind == "scp" and not d.custom
        for s in d.content["Statement"]
        if s["Effect"] == "Deny"
    ]
    assert len(denies) > 15
    for statement in denies:
        assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [PIPELINE, BREAK_GLASS]


def test_encryption_and_volume_statements(docs: list[PolicyDocument]) -> None:
    root = scp_statements_at(docs, "root")
    assert root["IVS04DenyDisableEbsEncryptionByDefault"]["Action"] == [
        "ec2:DisableEbsEncryptionByDefault"
    ]
    assert set(root["IVS04DenyChangeEbsDefaultKmsKey"]["Action"]) == {
        "ec2:ModifyEbsDefaultKmsKeyId",
        "ec2:ResetEbsDefaultKmsKeyId",
    }
    volumes = scp_statements_at(docs, "Workloads")["IVS04DenyUnencryptedVolumes"]
    assert set(volumes["Action"]) == {"ec2:CreateVolume", "ec2:RunInstances"}
    assert volumes["Resource"] == "arn:aws:ec2:*:*:volume/*"
    assert volumes["Condition"]["Bool"] == {"ec2:Encrypted": "false"}


def test_public_sharing_and_export(docs: list[PolicyDocument]) -> None:
    root = scp_statements_at(docs, "root")
    snapshots = root["IVS04DenyPublicSnapshots"]
    assert snapshots["Action"] == ["ec2:ModifySnapshotAttribute"]
    assert snapshots["Condition"]["StringEquals"] == {"ec2:Add/group": "all"}
    assert set(root["IVS04DenyDisableBlockPublicAccess"]["Action"]) == {
        "ec2:DisableImageBlockPublicAccess",
        "ec2:DisableSnapshotBlockPublicAccess",
    }
    export = scp_statements_at(docs, "Sandbox")["IVS04DenyImageExport"]
    assert set(export["Action"]) == {
        "ec2:ExportImage",
        "ec2:CreateStoreImageTask",
        "ec2:CreateInstanceExportTask",
    }


def test_launch_controls(docs: list[PolicyDocument]) -> None:
    workloads = scp_statements_at(docs, "Workloads")
    owners = workloads["IVS04DenyUnapprovedAmiOwners"]
    assert owners["Resource"] == "arn:aws:ec2:*::image/*"
    assert owners["Condition"]["StringNotEquals"] == {"ec2:Owner": ["amazon", "300000000002"]}
    imds = workloads["IVS04RequireImdsv2"]
    assert imds["Condition"]["StringNotEquals"] == {"ec2:MetadataHttpTokens": "required"}
    hop = workloads["IVS04LimitImdsHopLimit"]["Condition"]["NumericGreaterThan"]
    assert hop == {"ec2:MetadataHttpPutResponseHopLimit": "2"}


def test_required_tags_on_launch(docs: list[PolicyDocument]) -> None:
    prod = scp_statements_at(docs, "Workloads/Prod")
    env = prod["IVS05RequireTagEnvironment"]
    assert set(env["Action"]) == {"ec2:RunInstances", "ec2:CreateVolume"}
    assert env["Condition"]["StringNotEquals"] == {
        "aws:RequestTag/Environment": ["prod", "staging", "dev", "sandbox", "shared"]
    }
    # Owner allows any value: only its presence is required.
    assert prod["IVS05RequireTagOwner"]["Condition"]["Null"] == {"aws:RequestTag/Owner": "true"}


def test_regions_follow_the_parameters_at_each_target(docs: list[PolicyDocument]) -> None:
    security = scp_statements_at(docs, "Security")["IVS03DenyOutsideAllowedRegions"]
    sandbox = scp_statements_at(docs, "Sandbox")["IVS03DenyOutsideAllowedRegions"]
    assert security["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == [
        "us-east-1",
        "eu-west-1",
    ]
    assert sandbox["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == ["us-east-1"]
    assert {"iam:*", "organizations:*", "sts:*", "route53:*", "cloudfront:*", "support:*"} <= set(
        security["NotAction"]
    )
    assert "Action" not in security


def test_organization_roles_logs_and_network(docs: list[PolicyDocument]) -> None:
    root = scp_statements_at(docs, "root")
    assert root["IVS01DenyLeaveOrganization"]["Action"] == ["organizations:LeaveOrganization"]
    assert root["IVS09DenyDeleteFlowLogs"]["Action"] == ["ec2:DeleteFlowLogs"]
    assert "logs:DeleteLogGroup" in root["IVS09DenyDeleteFlowLogGroups"]["Action"]
    roles = root["IVS01ProtectGovernanceRoles"]
    assert roles["Resource"] == [
        "arn:aws:iam::*:role/OrganizationAccountAccessRole",
        "arn:aws:iam::*:role/ivs-pipeline",
        "arn:aws:iam::*:role/ivs-audit",
        "arn:aws:iam::*:role/BreakGlass",
    ]
    assert {"iam:DeleteRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"} <= set(
        roles["Action"]
    )
    workloads = scp_statements_at(docs, "Workloads")
    pass_role = workloads["IVS04RestrictPassRoleToApprovedPaths"]
    assert pass_role["NotResource"] == [
        "arn:aws:iam::*:role/ivs-approved/*",
        "arn:aws:iam::*:role/service-role/*",
    ]
    profiles = workloads["IVS04RestrictInstanceProfilesToApprovedPaths"]
    assert profiles["Action"] == ["iam:CreateInstanceProfile"]
    assert set(workloads["IVS06DenyDefaultVpc"]["Action"]) == {
        "ec2:CreateDefaultVpc",
        "ec2:CreateDefaultSubnet",
    }
    igw = workloads["IVS03DenyInternetGatewayOutsideNetworkAccounts"]
    assert "ec2:AttachInternetGateway" in igw["Action"]
    assert igw["Condition"]["StringNotEquals"] == {"aws:PrincipalAccount": ["300000000001"]}


def test_builtin_actions_all_exist_in_iam_data(docs: list[PolicyDocument]) -> None:
    for doc in docs:
        if doc.kind != "scp" or doc.custom:
            continue
        for statement in doc.content["Statement"]:
            for action in statement.get("Action", []) + statement.get("NotAction", []):
                if action != "*":
                    assert iamdata.expand_action(action), action


def test_tag_policy_syntax(docs: list[PolicyDocument]) -> None:
    tags = by_name(docs)["ivs-tag-workloads"].content["tags"]
    assert set(tags) == {"environment", "dataclassification", "compliancescope", "owner"}
    entry = tags["dataclassification"]
    assert entry["tag_key"] == {
        "@@assign": "DataClassification",
        "@@operators_allowed_for_child_policies": ["@@none"],
    }
    assert entry["tag_value"] == {"@@assign": ["public", "internal", "confidential", "restricted"]}
    assert entry["enforced_for"] == {
        "@@assign": ["ec2:instance", "ec2:volume", "ec2:snapshot", "ec2:image"]
    }
    assert "tag_value" not in tags["owner"]


def test_backup_policy_syntax(docs: list[PolicyDocument]) -> None:
    plan = by_name(docs)["ivs-backup-workloads"].content["plans"]["daily"]
    assert plan["regions"] == {"@@assign": ["us-east-1", "eu-west-1"]}
    rule = plan["rules"]["daily"]
    assert rule["schedule_expression"] == {"@@assign": "cron(0 3 ? * * *)"}
    assert rule["target_backup_vault_name"] == {"@@assign": "ivs-backup-vault"}
    assert rule["start_backup_window_minutes"] == {"@@assign": "60"}
    assert rule["lifecycle"] == {"delete_after_days": {"@@assign": "35"}}
    arn = "arn:aws:backup:eu-west-1:$account:backup-vault:ivs-backup-vault"
    assert rule["copy_actions"] == {
        arn: {
            "target_backup_vault_arn": {"@@assign": arn},
            "lifecycle": {"delete_after_days": {"@@assign": "90"}},
        }
    }
    selection = plan["selections"]["tags"]["daily"]
    assert selection == {
        "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/ivs-backup-role"},
        "tag_key": {"@@assign": "BackupPlan"},
        "tag_value": {"@@assign": ["daily"]},
    }


def test_declarative_policy_and_child_override(docs: list[PolicyDocument]) -> None:
    named = by_name(docs)
    attrs = named["ivs-declarative-ec2-workloads"].content["ec2_attributes"]
    assert attrs["image_block_public_access"] == {"state": {"@@assign": "block_new_sharing"}}
    assert attrs["snapshot_block_public_access"] == {"state": {"@@assign": "block_all_sharing"}}
    assert attrs["instance_metadata_defaults"]["http_tokens"] == {"@@assign": "required"}
    assert attrs["serial_console_access"] == {"status": {"@@assign": "disabled"}}
    block = attrs["vpc_block_public_access"]["internet_gateway_block"]
    assert block["mode"] == {"@@assign": "block_ingress"}
    criteria = attrs["allowed_images_settings"]["image_criteria"]["criteria_1"]
    assert criteria["allowed_image_providers"] == {"@@assign": ["amazon", "300000000002"]}
    # Prod overrides vpc_block_public_access, so it gets its own (overriding) document.
    prod = named["ivs-declarative-ec2-workloads-prod"]
    assert prod.targets == ("Workloads/Prod",)
    mode = prod.content["ec2_attributes"]["vpc_block_public_access"]["internet_gateway_block"]
    assert mode["mode"] == {"@@assign": "block_bidirectional"}


def test_child_tag_policy_sets_only_what_differs(spec_fields: dict[str, Any]) -> None:
    prod = spec_fields["organization"]["units"][2]["units"][0]
    prod["parameters"]["required_tags"] = {
        **spec_fields["parameters"]["required_tags"],
        "Environment": ["prod"],
    }
    docs = by_name(build_documents(make_spec(spec_fields)))
    child = docs["ivs-tag-workloads-prod"].content["tags"]
    assert set(child) == {"environment"}
    # The parent locks the key's capitalization; the child only narrows the values.
    assert child["environment"] == {
        "tag_value": {"@@assign": ["prod"]},
        "enforced_for": {"@@assign": ["ec2:instance", "ec2:volume", "ec2:snapshot", "ec2:image"]},
    }


def test_custom_documents_inline_and_file(spec_fields: dict[str, Any]) -> None:
    spec_fields["policies"].append(
        {
            "name": "deny-prod-deletes",
            "type": "scp",
            "content": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "ec2:DeleteVpc", "Resource": "*"}],
            },
            "targets": ["Workloads/Prod", "400000000001"],
        }
    )
    docs = by_name(build_documents(make_spec(spec_fields)))
    inline = docs["deny-prod-deletes"]
    assert inline.custom and inline.targets == ("Workloads/Prod", "400000000001")
    from_file = docs["org-protect-security-services"]
    on_disk = json.loads((STACKS / "policies/protect-security-services.json").read_text())
    assert from_file.content == on_disk and from_file.targets == ("root",)


def test_custom_name_clashing_with_builtin_is_refused(spec_fields: dict[str, Any]) -> None:
    spec_fields["policies"][0]["name"] = "ivs-scp-root-1"
    with pytest.raises(InputError, match="ivs-scp-root-1"):
        build_documents(make_spec(spec_fields))


def test_pack_fills_documents_within_the_limit() -> None:
    items = [{"Sid": f"S{i}", "Effect": "Deny", "Action": "x:" + "a" * (20 * i)} for i in range(12)]
    bins, too_big = pack(items, 400)
    assert not too_big
    placed = sorted(i for b in bins for i in b.items)
    assert placed == list(range(12))
    for b in bins:
        assert b.size == document_size([items[i] for i in b.items]) <= 400
    # First-fit decreasing needs no more documents than the total size requires, plus one.
    total = sum(len(minify(s)) for s in items)
    assert len(bins) <= total // 400 + 2


def test_small_size_limit_splits_a_target_into_several_scps(spec_fields: dict[str, Any]) -> None:
    spec_fields["limits"] = {"scp_max_chars": 1600}
    spec = make_spec(spec_fields)
    docs = [d for d in build_documents(spec) if d.targets == ("Workloads",) and d.kind == "scp"]
    assert [d.name for d in docs] == [f"ivs-scp-workloads-{i}" for i in range(1, len(docs) + 1)]
    assert len(docs) >= 3
    assert all(len(minify(d.content)) <= 1600 for d in docs)
    sids = [s["Sid"] for d in docs for s in d.content["Statement"]]
    full = build_documents(make_spec({**spec_fields, "limits": {}}))
    expected = [s["Sid"] for s in by_name(full)["ivs-scp-workloads-1"].content["Statement"]]
    assert sorted(sids) == sorted(expected)


def test_packing_failure_names_target_and_sizes(spec_fields: dict[str, Any]) -> None:
    spec_fields["limits"] = {"scp_max_chars": 1600, "scp_max_per_target": 3}
    with pytest.raises(PackingError) as caught:
        build_documents(make_spec(spec_fields))
    message = str(caught.value)
    assert "'Workloads'" in message and "FullAWSAccess" in message
    assert "limit of 3 per target" in message and "chars" in message
    # Without the check the documents come back as built, for lint to report.
    assert build_documents(make_spec(spec_fields), check_limits=False)


def test_statement_larger_than_a_document_fails(spec_fields: dict[str, Any]) -> None:
    spec_fields["parameters"]["approved_ami_owners"] = [f"{n:012d}" for n in range(800)]
    with pytest.raises(PackingError, match="one statement alone is"):
        build_documents(make_spec(spec_fields))


def test_iamdata_condition_key_levels() -> None:
    assert iamdata.expand_action("ec2:CreateVolumes") == []
    assert "ec2:CreateVolume" in iamdata.expand_action("ec2:*Volume*")
    assert iamdata.key_applies("ec2:Region", "ec2:CreateDefaultVpc")  # action level
    assert iamdata.key_applies("ec2:Encrypted", "ec2:RunInstances")  # resource-type level
    assert iamdata.key_applies("ec2:SourceInstanceARN", "ec2:DescribeVpcs")  # service level
    assert iamdata.key_applies("aws:PrincipalArn", "s3:GetObject")  # global
    assert iamdata.key_applies("aws:RequestTag/CostCentre", "ec2:RunInstances")
    assert not iamdata.key_applies("aws:RequestTag/CostCentre", "ec2:DescribeVpcs")
    assert not iamdata.key_applies("ec2:Add/group", "ec2:ModifyImageAttribute")
    assert iamdata.suggest_action("ec2:CreateVolumes") == "ec2:CreateVolume"
