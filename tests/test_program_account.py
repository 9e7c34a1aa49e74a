"""Account stacks under Pulumi mocks: one provider assuming the member role, every region,
and the backup vault and role where a backup policy is in force."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks

from core.errors import InputError
from core.spec import Spec, read_yaml
from core.vocabulary import partition_of
from governance.components import AccountBaseline
from governance.controls.parameters import ebs_kms_key_in_region
from governance.plan import Plan, evaluate, plan_stack
from governance.program import spec_from_pulumi_config
from governance.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "stacks" / "Pulumi.org.yaml"
PROVIDER = "pulumi:providers:aws"
ENCRYPTION = "aws:ebs/encryptionByDefault:EncryptionByDefault"
KMS = "aws:ebs/defaultKmsKey:DefaultKmsKey"
IMAGE_BPA = "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess"
SNAPSHOT_BPA = "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess"
IMDS = "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults"
VAULT = "aws:backup/vault:Vault"
ROLE = "aws:iam/role:Role"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PER_REGION = {ENCRYPTION, IMAGE_BPA, SNAPSHOT_BPA, IMDS}
BACKUP_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
}
MRK = "arn:aws:kms:eu-west-1:300000000002:key/mrk-0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(EXAMPLE)


@pytest.fixture(scope="module")
def three_regions(spec: Spec) -> Spec:
    """Three regions, another role name, a multi-Region key, Sandbox IMDS overrides."""
    units = spec.model_dump(by_alias=True)["organization"]["units"]
    for unit in units:
        if unit["name"] == "Sandbox":
            unit["parameters"]["imds"] = {"http_put_response_hop_limit": 1}
    return spec.model_validate(
        {
            **spec.model_dump(by_alias=True),
            "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
            "member_role_name": "ivs-baseline-deployer",
            "parameters": {**spec.parameters, "ebs_kms_key_arn": MRK},
            "organization": {**spec.organization.model_dump(), "units": units},
        }
    )


def _regions_by_type(plan: Plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for resource in plan.resources:
        if resource.custom and not resource.is_provider and resource.type not in GLOBAL:
            found.setdefault(resource.type, []).append(resource.inputs["region"])
    return found


#: IAM is global: these take no region.
GLOBAL = {ROLE, ROLE_ATTACHMENT}


def test_one_provider_assumes_the_accounts_member_role(spec: Spec) -> None:
    plan = plan_stack("baseline-400000000001", spec)
    (provider,) = plan.providers()
    roles = json.loads(provider.inputs["assumeRoles"])
    assert [r["roleArn"] for r in roles] == [
        "arn:aws:iam::400000000001:role/OrganizationAccountAccessRole"
    ]
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["400000000001"]
    resources = [r for r in plan.resources if r.custom and not r.is_provider]
    assert {r.provider for r in resources} == {provider.urn}
    (component,) = plan.of_type("ivs:governance:AccountBaseline")
    assert {r.parent for r in resources} == {component.urn}


def test_every_governed_region_gets_the_baseline_and_no_other(spec: Spec) -> None:
    plan = plan_stack("baseline-400000000001", spec)
    regions = _regions_by_type(plan)
    for type_ in PER_REGION:
        assert sorted(regions[type_]) == sorted(spec.regions), type_
    # The example key is an alias ARN in us-east-1: it serves that region only.
    assert regions[KMS] == ["us-east-1"]
    assert plan.outputs == {
        "account_id": "400000000001",
        "regions": spec.regions,
        "kms_key_regions": ["us-east-1"],
        "backup_vault_regions": spec.regions,
    }
    (imds,) = [r for r in plan.of_type(IMDS) if r.inputs["region"] == "eu-west-1"]
    assert imds.inputs["httpTokens"] == "required"
    assert {r.inputs["state"] for r in plan.of_type(IMAGE_BPA)} == {"block-new-sharing"}
    assert {r.inputs["state"] for r in plan.of_type(SNAPSHOT_BPA)} == {"block-all-sharing"}
    assert all(r.inputs["enabled"] is True for r in plan.of_type(ENCRYPTION))


def test_three_regions_role_name_key_and_ou_parameters(three_regions: Spec) -> None:
    plan = plan_stack("baseline-600000000001", three_regions)  # sandbox-alice
    regions = _regions_by_type(plan)
    for type_ in [*PER_REGION, KMS]:
        assert sorted(regions[type_]) == ["ap-southeast-2", "eu-west-1", "us-east-1"], type_
    assert "us-west-2" not in {r for found in regions.values() for r in found}
    keys = {r.inputs["region"]: r.inputs["keyArn"] for r in plan.of_type(KMS)}
    assert keys["ap-southeast-2"] == MRK.replace("eu-west-1", "ap-southeast-2")
    assert keys["eu-west-1"] == MRK
    hop_limits = {r.inputs["httpPutResponseHopLimit"] for r in plan.of_type(IMDS)}
    assert hop_limits == {1}  # the Sandbox override, not the spec-wide 2
    (provider,) = plan.providers()
    assert json.loads(provider.inputs["assumeRoles"])[0]["roleArn"] == (
        "arn:aws:iam::600000000001:role/ivs-baseline-deployer"
    )


def test_an_account_in_another_ou_keeps_the_spec_wide_parameters(three_regions: Spec) -> None:
    plan = plan_stack("baseline-400000000001", three_regions)
    assert {r.inputs["httpPutResponseHopLimit"] for r in plan.of_type(IMDS)} == {2}


def test_no_key_no_default_kms_key(spec: Spec) -> None:
    keyless = spec.model_validate(
        {
            **spec.model_dump(by_alias=True),
            "parameters": {**spec.parameters, "ebs_kms_key_arn": None},
        }
    )
    plan = plan_stack("baseline-500000000001", keyless)
    assert plan.of_type(KMS) == []
    assert len(plan.of_type(ENCRYPTION)) == len(spec.regions)


# ---- what the backup policy needs: its vault and its role ------------------------------


def _with_backup(spec: Spec, units: dict[str, dict[str, Any]], **fields: Any) -> Spec:
    """The spec with ``units`` (OU name -> fields to set) changed, and other fields."""
    dumped = spec.model_dump(by_alias=True)

    def edit(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            node.update(units.get(node["name"], {}))
            edit(node["units"])

    edit(dumped["organization"]["units"])
    return spec.model_validate({**dumped, **fields})


def test_an_account_under_the_backup_policy_gets_its_vault_and_role(spec: Spec) -> None:
    plan = plan_stack("baseline-400000000001", spec)  # Workloads/Prod: backup-policy above
    vaults = plan.of_type(VAULT)
    assert sorted(v.inputs["region"] for v in vaults) == sorted(spec.regions)
    assert {v.inputs["name"] for v in vaults} == {"ivs-backup-vault"}
    (role,) = plan.of_type(ROLE)
    assert role.inputs["name"] == "ivs-backup-role"
    assert "region" not in role.inputs and "path" not in role.inputs  # global, at "/"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    attachments = plan.of_type(ROLE_ATTACHMENT)
    assert {a.inputs["policyArn"] for a in attachments} == BACKUP_POLICIES
    assert {a.inputs["role"] for a in attachments} == {"ivs-backup-role"}
    assert all(role.urn in a.dependencies for a in attachments)  # created after the role
    (provider,) = plan.providers()
    assert {r.provider for r in [*vaults, role, *attachments]} == {provider.urn}


@pytest.mark.parametrize("account_id", ["200000000001", "300000000002", "600000000001"])
def test_an_account_under_no_backup_policy_gets_neither(spec: Spec, account_id: str) -> None:
    plan = plan_stack(f"baseline-{account_id}", spec)  # Security, Infrastructure, Sandbox
    assert plan.of_type(VAULT) == plan.of_type(ROLE) == plan.of_type(ROLE_ATTACHMENT) == []
    assert plan.outputs["backup_vault_regions"] == []


def test_the_vault_follows_the_plans_regions_and_copies(three_regions: Spec) -> None:
    # Workloads backs up in us-east-1 only and copies to eu-west-1: no vault is needed in
    # ap-southeast-2, though it is governed.
    narrowed = _with_backup(
        three_regions, {"Workloads": {"parameters": {"allowed_regions": ["us-east-1"]}}}
    )
    plan = plan_stack("baseline-500000000001", narrowed)
    assert sorted(v.inputs["region"] for v in plan.of_type(VAULT)) == ["eu-west-1", "us-east-1"]
    assert plan.outputs["backup_vault_regions"] == ["us-east-1", "eu-west-1"]
    assert len(plan.of_type(ROLE)) == 1  # once per account, whatever the regions


def test_an_ou_override_names_its_own_vault_and_a_plan_less_ou_keeps_the_parents(
    spec: Spec,
) -> None:
    backup = spec.parameters["backup"]
    renamed = {**backup, "vault_name": "prod-vault", "role_name": "prod-backup"}
    edited = _with_backup(
        spec,
        {
            "Prod": {"parameters": {"backup": renamed}},
            "NonProd": {"parameters": {"backup": {"plans": []}}},  # no plan of its own
        },
    )
    prod = plan_stack("baseline-400000000002", edited)
    assert {v.inputs["name"] for v in prod.of_type(VAULT)} == {"prod-vault"}
    assert [r.inputs["name"] for r in prod.of_type(ROLE)] == ["prod-backup"]
    nonprod = plan_stack("baseline-500000000002", edited)
    assert {v.inputs["name"] for v in nonprod.of_type(VAULT)} == {"ivs-backup-vault"}


def test_the_backup_policy_at_the_root_reaches_every_account(spec: Spec) -> None:
    root = spec.organization.root.model_dump(by_alias=True)
    root["controls"] = [*root["controls"], "backup-policy"]
    everywhere = spec.model_validate(
        {
            **spec.model_dump(by_alias=True),
            "organization": {**spec.organization.model_dump(by_alias=True), "root": root},
        }
    )
    plan = plan_stack("baseline-600000000001", everywhere)  # Sandbox, under the root's policy
    assert len(plan.of_type(ROLE)) == 1
    # Sandbox allows us-east-1 only: the plan runs there, and its copies go to eu-west-1
    assert plan.outputs["backup_vault_regions"] == ["us-east-1", "eu-west-1"]
    edited = _with_backup(
        everywhere,
        {
            "Sandbox": {
                "parameters": {
                    "allowed_regions": ["us-east-1"],
                    "backup": {"plans": [{"name": "daily", "selection_tag_values": ["daily"]}]},
                }
            }
        },
    )
    plan = plan_stack("baseline-600000000001", edited)  # a plan without a copy
    assert [v.inputs["region"] for v in plan.of_type(VAULT)] == ["us-east-1"]


@pytest.mark.parametrize(
    ("key", "region", "expected"),
    [
        ("arn:aws:kms:us-east-1:111122223333:alias/ebs", "us-east-1", "same"),
        ("arn:aws:kms:us-east-1:111122223333:alias/ebs", "eu-west-1", None),
        ("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab", "eu-west-1", None),
        (MRK, "us-east-1", MRK.replace("eu-west-1", "us-east-1")),
        ("alias/ebs-default", "eu-west-1", "same"),
        ("arn:aws:kms:broken", "eu-west-1", None),
    ],
)
def test_a_kms_key_serves_only_regions_where_it_exists(
    key: str, region: str, expected: str | None
) -> None:
    assert ebs_kms_key_in_region(key, region) == (key if expected == "same" else expected)


def test_partition_follows_the_region() -> None:
    assert [partition_of(r) for r in ("eu-west-1", "us-gov-west-1", "cn-north-1")] == [
        "aws",
        "aws-us-gov",
        "aws-cn",
    ]


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("baseline-999999999999", "account 999999999999 is not a member account"),
        ("baseline-100000000001", "account 100000000001 is not a member account"),  # mgmt
        ("baseline-4000", "a stack is named 'org' or 'baseline-<12-digit account id>'"),
        ("prod", "a stack is named 'org'"),
    ],
)
def test_a_stack_name_the_spec_does_not_know_is_refused(
    spec: Spec, stack: str, message: str
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        plan_stack(stack, spec)
    assert f"stack {stack!r}" in str(caught.value)


# ---- spec from the stack config, and __main__.py ---------------------------------------


def _pulumi_config(path: Path) -> dict[str, str]:
    """The config map Pulumi hands the program: every value as text, objects as JSON."""
    config = read_yaml(path)["config"]

    def text(value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, dt.date) else v)

    return {key: text(value) for key, value in config.items()}


def _with_config(config: dict[str, str], func: Any) -> Any:
    def run() -> Any:
        pulumi.runtime.set_all_config(config)
        return func()

    return contextvars.copy_context().run(run)


def test_spec_from_the_org_stack_config_equals_the_file(spec: Spec) -> None:
    loaded = _with_config(
        _pulumi_config(EXAMPLE), lambda: spec_from_pulumi_config(project_dir=REPO)
    )
    assert loaded == spec


def test_account_stack_config_follows_spec_file(spec: Spec) -> None:
    config = _pulumi_config(REPO / "stacks" / "Pulumi.baseline-400000000001.yaml")
    assert config["ivs:spec_file"] == "Pulumi.org.yaml"
    loaded = _with_config(config, lambda: spec_from_pulumi_config(project_dir=REPO))
    assert loaded == spec


def test_an_unknown_config_key_names_the_field() -> None:
    config = {**_pulumi_config(EXAMPLE), "ivs:regoins": '["us-east-1"]'}
    with pytest.raises(InputError, match=r"ivs\.regoins: unknown field"):
        _with_config(config, lambda: spec_from_pulumi_config(project_dir=REPO))


def test_no_ivs_config_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no 'ivs:\\*' keys"):
        _with_config({"aws:region": "us-east-1"}, lambda: spec_from_pulumi_config(REPO))


def test_main_builds_the_account_stack_from_its_config(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    config = _pulumi_config(REPO / "stacks" / "Pulumi.baseline-400000000001.yaml")
    plan = _with_config(
        config,
        lambda: evaluate(
            lambda: runpy.run_path(str(REPO / "__main__.py")),
            "baseline-400000000001",
        ),
    )
    assert len(plan.of_type("ivs:governance:AccountBaseline")) == 1
    assert sorted(r.inputs["region"] for r in plan.of_type(ENCRYPTION)) == sorted(spec.regions)


def test_repeated_plans_in_one_process_do_not_mix(spec: Spec) -> None:
    first = plan_stack("baseline-400000000001", spec)
    second = plan_stack("baseline-500000000001", spec)
    assert len(first.resources) == len(second.resources)
    assert all(r.urn.startswith("urn:pulumi:baseline-500000000001::") for r in second.resources)
    assert plan_stack("baseline-400000000001", spec) == first  # ids derive from names


def test_a_plan_can_be_made_while_an_event_loop_runs(spec: Spec) -> None:
    async def inside_a_loop() -> Plan:
        return plan_stack("baseline-400000000001", spec)

    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset this thread's loop
    try:
        plan = loop.run_until_complete(inside_a_loop())
    finally:
        loop.close()
    assert len(plan.of_type(ENCRYPTION)) == len(spec.regions)


# ---- the same component the way Pulumi documents testing it ---------------------------


class _Mocks(Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: Any) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture
def monitor() -> MockMonitor:
    mon = MockMonitor(_Mocks())
    pulumi.runtime.set_mocks(
        _Mocks(), project="ivs-governance", stack="baseline-400000000002", monitor=mon
    )
    return mon


@pulumi.runtime.test
def test_component_outputs_under_runtime_test(
    monitor: MockMonitor, spec: Spec
) -> pulumi.Output[None]:
    baseline = AccountBaseline("baseline", spec, "400000000002")
    made = baseline.resources["eu-west-1"]
    (snapshot,) = [r for r in made if isinstance(r, aws.ebs.SnapshotBlockPublicAccess)]
    (imds,) = [r for r in made if isinstance(r, aws.ec2.InstanceMetadataDefaults)]
    (vault,) = [r for r in made if isinstance(r, aws.backup.Vault)]
    role = baseline.backup_role
    assert role is not None
    attachments = baseline.backup_role_attachments

    def check(values: list[Any]) -> None:
        snapshot_state, snapshot_region, tokens, imds_region, vault_name, vault_region = values[:6]
        trust, role_name, *attached = values[6:]
        assert snapshot_state == "block-all-sharing"
        assert snapshot_region == imds_region == vault_region == "eu-west-1"
        assert tokens == "required"
        assert vault_name == "ivs-backup-vault"
        assert json.loads(trust)["Statement"] == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "backup.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
        assert role_name == "ivs-backup-role"
        # each attachment names the role (by its output: it waits for the role) and a policy
        assert attached[0::2] == [role_name, role_name]
        assert set(attached[1::2]) == BACKUP_POLICIES

    return pulumi.Output.all(
        snapshot.state,
        snapshot.region,
        imds.http_tokens,
        imds.region,
        vault.name,
        vault.region,
        role.assume_role_policy,
        role.name,
        *[value for a in attachments for value in (a.role, a.policy_arn)],
    ).apply(check)
