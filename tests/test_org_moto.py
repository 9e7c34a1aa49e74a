"""The documents against moto's Organizations API, and an organization seeded from the spec."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from core.aws import Aws
from core.spec import ROOT, Spec
from governance.policies import build_documents
from governance.policies.model import PolicyDocument
from governance.render import render_policies
from sandbox import organization
from sandbox.organization import MOTO_POLICY_TYPES, SeededOrganization, seed_organization

pytestmark = pytest.mark.slow


@pytest.fixture
def seeded(spec: Spec, moto_endpoint: str) -> tuple[SeededOrganization, Any, list[PolicyDocument]]:
    # Per test: under xdist another module's test may reset the shared server in between.
    aws = Aws(endpoint_url=moto_endpoint)
    org = seed_organization(spec, aws)
    client = aws.assume(spec.organization.management_account_id, spec.member_role_name).client(
        "organizations"
    )
    return org, client, build_documents(spec)


def _spec_target(org: SeededOrganization, target_id: str) -> str:
    reverse = {org.root_id: ROOT, **{v: k for k, v in org.units.items()}}
    return reverse.get(target_id, target_id)


def test_rendered_scps_are_accepted_by_organizations(
    spec: Spec, moto_endpoint: str, tmp_path: Path
) -> None:
    aws = Aws(endpoint_url=moto_endpoint).assume(
        spec.organization.management_account_id, spec.member_role_name
    )
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    render_policies(spec, tmp_path)
    index = json.loads((tmp_path / "index.json").read_text())["documents"]
    scps = [entry for entry in index if entry["kind"] == "scp"]
    assert len(scps) >= 7
    for entry in scps:
        content = (tmp_path / entry["file"]).read_text()
        policy = org.create_policy(
            Name=entry["name"],
            Description=entry["description"],
            Type="SERVICE_CONTROL_POLICY",
            Content=content,
        )["Policy"]
        policy_id = policy["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=policy_id, TargetId=root_id)
        stored = org.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
        assert stored == content
    attached = org.list_policies_for_target(TargetId=root_id, Filter="SERVICE_CONTROL_POLICY")
    names = {p["Name"] for p in attached["Policies"]}
    assert names == {"FullAWSAccess", *(entry["name"] for entry in scps)}


def test_seeded_tree_and_accounts_match_the_spec(seeded: Any, spec: Spec) -> None:
    org, client, _docs = seeded
    assert org.management_account_id == spec.organization.management_account_id
    assert set(org.units) == {path for path, _ in spec.units()}
    for path, ou_id in org.units.items():
        parent, _, name = path.rpartition("/")
        described = client.describe_organizational_unit(OrganizationalUnitId=ou_id)
        assert described["OrganizationalUnit"]["Name"] == name
        parents = client.list_parents(ChildId=ou_id)["Parents"]
        assert parents[0]["Id"] == (org.units[parent] if parent else org.root_id)
    listed = {a["Id"] for a in client.list_accounts()["Accounts"]}
    assert listed == {a.id for a, _ in spec.accounts()} | {org.management_account_id}
    for account, path in spec.accounts():
        parent = client.list_parents(ChildId=account.id)["Parents"][0]["Id"]
        assert _spec_target(org, parent) == path


def test_seeded_policies_are_on_exactly_the_spec_targets(seeded: Any) -> None:
    org, client, docs = seeded
    created = [d for d in docs if d.policy_type in MOTO_POLICY_TYPES]
    assert set(org.policies) == {d.name for d in created}
    assert set(org.skipped) == {d.name for d in docs if d.policy_type not in MOTO_POLICY_TYPES}
    for doc in created:
        targets = client.list_targets_for_policy(PolicyId=org.policies[doc.name])["Targets"]
        assert sorted(_spec_target(org, t["TargetId"]) for t in targets) == sorted(doc.targets)
        content = client.describe_policy(PolicyId=org.policies[doc.name])["Policy"]["Content"]
        assert json.loads(content) == doc.content
    roots = client.list_roots()["Roots"][0]
    enabled = {t["Type"] for t in roots["PolicyTypes"] if t["Status"] == "ENABLED"}
    assert enabled == {"SERVICE_CONTROL_POLICY", "TAG_POLICY"}


def test_scp_count_per_target_matches_lint_view(seeded: Any, spec: Spec) -> None:
    org, client, docs = seeded
    for target in ["root", "Workloads", "Workloads/Prod", "Sandbox"]:
        listed = client.list_policies_for_target(
            TargetId=org.target_id(target), Filter="SERVICE_CONTROL_POLICY"
        )["Policies"]
        expected = [d.name for d in docs if d.kind == "scp" and target in d.targets]
        assert sorted(p["Name"] for p in listed) == sorted(["FullAWSAccess", *expected])
        assert len(listed) <= spec.limits.max_per_target("scp")


def test_seeding_reports_ids_it_could_not_set(
    spec: Spec, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What happens against a moto server in another process: moto picks random ids.
    monkeypatch.setattr(organization, "_account_id_as", lambda account_id: contextlib.nullcontext())
    with pytest.raises(organization.SandboxError, match="must run in this process"):
        seed_organization(spec, Aws(endpoint_url=moto_endpoint))
