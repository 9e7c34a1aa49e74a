"""The VM-control graph over a whole snapshot, and the IAM findings in the findings document:
broad permissions, administrator equivalence, instances placed in zones, the prefilter on
identity statements, and ``ivs exposure`` end to end from raw files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_iam_edges import EC2_TRUST, account, allow, profile
from test_iam_requests import ADMIN, DEV, MGMT, PROD, _doc, _inline, _role, organization_files

from core.errors import InputError
from core.spec import Iam, Zones
from graph.findings import analyse
from graph.iam.control import ControlGraph, build_control, instance_refs
from graph.iam.edges import Asker, Grants, InstanceRef, instance_control
from graph.iam.model import AccountIam
from graph.iam.organization import read_organization
from graph.iam.snapshot import IamSnapshot
from graph.model import Instance
from graph.rules import iam as rules
from sandbox.raw import RawRegion, perm

REGION = "eu-west-1"
ORG = read_organization(organization_files())
ADMIN_ATTACHED = [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN["Arn"]}]


def control(*accounts: AccountIam, instances: list[InstanceRef] | None = None) -> ControlGraph:
    iam = IamSnapshot(accounts={a.account: a for a in accounts}, organization=ORG)
    return build_control(iam, instances or [], [REGION])


def arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


# ---- vm-admin-permission-broad -----------------------------------------------------------


def broad(*roles: dict[str, Any], admins: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Principal -> the first word of each step of its finding."""
    found = rules.broad_permissions(control(account(PROD, *roles)), admins)
    return {
        f["resource"].rsplit("/", 1)[1]: [h["why"].split(" ")[0] for h in f["path"]] for f in found
    }


def test_ec2_star_is_broad_and_a_named_action_is_not() -> None:
    """Only a statement covering every EC2 action covers the asked ``ec2:*`` (IAM User Guide,
    "IAM JSON policy elements: Action": wildcards match any run of characters)."""
    found = broad(
        _role(PROD, "star", inline=[_inline("p", allow("ec2:*"))]),
        _role(PROD, "all", inline=[_inline("p", allow("*"))]),
        _role(
            PROD,
            "not-iam",
            inline=[_inline("p", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        ),
        _role(PROD, "runner", inline=[_inline("p", allow("ec2:RunInstances", "ec2:Describe*"))]),
    )
    # "*" also covers any instance profile; passing every role is denied by the SCP
    assert found == {
        "star": ["ec2:*"],
        "all": ["ec2:*", "iam:CreateInstanceProfile"],
        "not-iam": ["ec2:*"],
    }


def test_pass_role_on_every_role_and_any_instance_profile() -> None:
    found = broad(
        _role(
            PROD,
            "passer",
            inline=[_inline("p", allow("iam:PassRole", resource=f"arn:aws:iam::{PROD}:role/*"))],
        ),
        _role(
            PROD,
            "narrow",
            inline=[
                _inline("p", allow("iam:PassRole", resource=f"arn:aws:iam::{PROD}:role/app-*"))
            ],
        ),
        _role(PROD, "profiles", inline=[_inline("p", allow("iam:CreateInstanceProfile"))]),
    )
    # the fixture's Workloads SCP denies passing roles outside the approved path, so
    # "every role" is out of reach; profiles it leaves alone
    assert found == {"profiles": ["iam:CreateInstanceProfile"]}


def test_the_management_account_has_no_scp_so_its_grants_stand() -> None:
    """SCPs do not apply to the management account (AWS Organizations User Guide, "Service
    control policies": "SCPs don't affect users or roles in the management account")."""
    roles = [
        _role(MGMT, "passer", inline=[_inline("p", allow("iam:PassRole"))]),
        _role(MGMT, "profiles", inline=[_inline("p", allow("iam:CreateInstanceProfile"))]),
    ]
    found = rules.broad_permissions(control(account(MGMT, *roles)), ())
    assert sorted(f["resource"] for f in found) == [arn(MGMT, "passer"), arn(MGMT, "profiles")]
    assert all(f["decision"] == "allowed" for f in found)


def test_administrators_and_service_linked_roles_are_not_reported() -> None:
    found = broad(
        _role(PROD, "BreakGlass", inline=[_inline("p", allow("*"))]),
        _role(
            PROD,
            "AWSServiceRoleForAutoScaling",
            path="/aws-service-role/autoscaling.amazonaws.com/",
            inline=[_inline("p", allow("ec2:*"))],
        ),
        admins=("arn:aws:iam::*:role/BreakGlass",),
    )
    assert found == {}


def test_launching_with_an_administrator_role_is_broad_when_every_role_is_not() -> None:
    """The SCP keeps "every role" out of reach, but the approved path holds an
    administrator role in an instance profile: passing it is the permission that matters."""
    admin = _role(
        DEV,
        "build-admin",
        path="/ivs-approved/",
        trust=EC2_TRUST,
        attached=ADMIN_ATTACHED,
        InstanceProfileList=profile("build-admin", DEV),
    )
    ci = _role(DEV, "dev-ci", inline=[_inline("ci", allow("ec2:RunInstances", "iam:PassRole"))])
    graph = control(account(DEV, admin, ci))
    found = {f["resource"]: f for f in rules.broad_permissions(graph, ())}
    finding = found[arn(DEV, "dev-ci")]
    assert [h["why"].split(":")[0] for h in finding["path"]] == [
        "launch-with-role",
        "administrator-equivalent",
    ]
    assert finding["path"][1]["hop"] == arn(DEV, "ivs-approved/build-admin")
    assert (
        "iam:PassRole on arn:aws:iam::500000000001:role/ivs-approved/build-admin allowed"
        in finding["path"][0]["why"]
    )
    # a role that is no administrator is not the same thing
    plain = _role(
        DEV,
        "worker",
        path="/ivs-approved/",
        trust=EC2_TRUST,
        InstanceProfileList=profile("worker", DEV),
    )
    assert arn(DEV, "dev-ci") not in {
        f["resource"] for f in rules.broad_permissions(control(account(DEV, plain, ci)), ())
    }


# ---- administrator equivalence -----------------------------------------------------------


def test_administrator_equivalent_principals() -> None:
    roles = [
        _role(PROD, "full", attached=ADMIN_ATTACHED),
        _role(
            PROD,
            "self-granting",
            inline=[_inline("p", allow("iam:PutRolePolicy", resource=arn(PROD, "self-granting")))],
        ),
        _role(
            PROD,
            "grants-others",
            inline=[_inline("p", allow("iam:PutRolePolicy", resource=arn(PROD, "full")))],
        ),
        _role(PROD, "reader", inline=[_inline("p", allow("iam:Get*", "iam:List*"))]),
    ]
    graph = control(account(PROD, *roles))
    answers = {
        name: graph.administrator_equivalent(arn(PROD, name))
        for name in ("full", "self-granting", "grants-others", "reader")
    }
    assert {k for k, v in answers.items() if v is not None} == {"full", "self-granting"}
    assert (
        answers["self-granting"] is not None
        and answers["self-granting"].action == "iam:PutRolePolicy"
    )
    assert graph.administrator_equivalent("arn:aws:iam::999999999999:role/unknown") is None


# ---- the prefilter -----------------------------------------------------------------------


def test_grants_read_action_and_not_action_and_ignore_denies() -> None:
    grants = Grants()
    (role,) = account(
        PROD,
        _role(
            PROD,
            "r",
            inline=[
                _inline("a", allow("ssm:Send*")),
                _inline("b", {"Effect": "Allow", "NotAction": ["ec2:*", "iam:*"], "Resource": "*"}),
                _inline("c", {"Effect": "Deny", "Action": "ec2:GetPasswordData", "Resource": "*"}),
            ],
        ),
    ).principals
    assert grants.may_allow(role, "ssm:SendCommand")
    assert grants.may_allow(role, "ec2-instance-connect:SendSSHPublicKey")  # by NotAction
    assert not grants.may_allow(role, "ec2:GetPasswordData")  # a Deny grants nothing
    assert not grants.may_allow(role, "iam:PassRole")


class _Everything(Grants):
    def may_allow(self, principal: Any, action: str) -> bool:
        return True


ACTIONS = [
    "ssm:SendCommand", "ssm:StartSession", "ssm:*", "ec2:GetPasswordData", "ec2:*",
    "ec2-instance-connect:SendSSHPublicKey", "ec2:CreateImage", "ec2:ModifyImageAttribute",
    "ec2:CreateSnapshot", "ec2:ModifySnapshotAttribute", "ec2:ModifyInstanceAttribute",
    "ec2:StopInstances", "ec2:StartInstances", "ec2:Start*", "*", "s3:GetObject",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Allow", "Deny"]),
            st.sampled_from(["Action", "NotAction"]),
            st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_prefilter_never_changes_an_edge(statements: list[tuple[str, str, list[str]]]) -> None:
    """Skipping what no Allow statement names gives the same edges as asking everything."""
    document = [{"Effect": e, key: actions, "Resource": "*"} for e, key, actions in statements]
    held = account(PROD, _role(PROD, "r", inline=[_inline("p", _doc(*document)["Statement"])]))
    instance = InstanceRef("i-0prod", PROD, REGION, "prod")
    fast = Asker({PROD: held}, ORG)
    slow = Asker({PROD: held}, ORG)
    slow.grants = _Everything()
    assert list(instance_control(held.principals, [instance], fast)) == list(
        instance_control(held.principals, [instance], slow)
    )


# ---- instances ---------------------------------------------------------------------------


def test_instances_take_the_zone_of_their_enis_and_the_role_of_their_profile() -> None:
    import networkx as nx

    app = _role(PROD, "app", trust=EC2_TRUST, InstanceProfileList=profile("app", PROD))
    iam = IamSnapshot(accounts={PROD: account(PROD, app)}, organization=ORG)
    graph = nx.MultiDiGraph()
    graph.add_node("eni-1", kind="eni", instance="i-1", zone="prod", record=None)
    records = [
        Instance(
            "i-1",
            PROD,
            REGION,
            "running",
            None,
            None,
            {},
            [],
            f"arn:aws:iam::{PROD}:instance-profile/app",
        ),
        Instance("i-2", PROD, REGION, "stopped", None, None, {"Environment": "dev"}, [], None),
        Instance("i-3", PROD, REGION, "terminated", None, None, {}, [], None),
        Instance(
            "i-4",
            PROD,
            REGION,
            "running",
            None,
            None,
            {},
            [],
            f"arn:aws:iam::{PROD}:instance-profile/gone",
        ),
    ]
    refs = {r.id: r for r in instance_refs(records, graph, Zones(), iam)}
    assert set(refs) == {"i-1", "i-2", "i-4"}  # terminated instances are out of scope
    assert (refs["i-1"].zone, refs["i-1"].role) == ("prod", arn(PROD, "app"))
    assert (refs["i-2"].zone, refs["i-2"].role) == ("dev", None)
    assert refs["i-4"].role is None  # a profile the account's IAM does not hold


# ---- the findings document, end to end from raw files ------------------------------------


def _write(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def snapshot(
    root: Path, *, profile_arn: Any = f"arn:aws:iam::{PROD}:instance-profile/bastion"
) -> tuple[Path, str]:
    """payments-prod: a bastion the internet reaches on SSH whose role holds everything,
    and a developer who may SendCommand on every instance."""
    r = RawRegion(PROD, REGION)
    vpc = r.vpc("10.0.0.0/16", tag={"Environment": "prod"})
    subnet = r.subnet(vpc, "10.0.1.0/24")
    rtb = r.route_table(vpc, (subnet,))
    r.route(rtb, "0.0.0.0/0", r.igw(vpc))
    sg = r.sg(vpc, [perm("tcp", 22, cidrs=("0.0.0.0/0",))])
    bastion = r.instance(subnet, (sg,), "10.0.1.10", public_ip="54.0.0.10")
    for reservation in r.files["Reservations"]:
        for item in reservation["Instances"]:
            item["IamInstanceProfile"] = {"Arn": profile_arn, "Id": "AIPA1"}
    r.write(root)
    role = _role(
        PROD,
        "bastion",
        trust=EC2_TRUST,
        attached=ADMIN_ATTACHED,
        InstanceProfileList=profile("bastion", PROD),
    )
    developer = {
        "UserName": "alice.dev",
        "Path": "/",
        "Arn": f"arn:aws:iam::{PROD}:user/alice.dev",
        "UserPolicyList": [_inline("run", allow("ssm:SendCommand"))],
        "GroupList": [],
        "AttachedManagedPolicies": [],
    }
    details = {
        "RoleDetailList": [role],
        "UserDetailList": [developer],
        "GroupDetailList": [],
        "Policies": [ADMIN],
    }
    _write(root / PROD / "global" / "AccountAuthorizationDetails.json", details)
    for key, document in organization_files().items():
        _write(root / "organization" / f"{key}.json", document)
    return root, bastion


def test_iam_findings_join_the_document(tmp_path: Path) -> None:
    root, bastion = snapshot(tmp_path)
    document = analyse(
        root, access=Iam(vm_administrators={"prod": ["arn:aws:iam::*:role/BreakGlass"]})
    )
    found = {(f["rule"], f["resource"], f["source"]): f for f in document["findings"]}
    role, alice = arn(PROD, "bastion"), f"arn:aws:iam::{PROD}:user/alice.dev"
    assert set(found) >= {
        ("internet-exposed-admin-port", bastion, "internet"),
        ("internet-exposed-instance-escalation", bastion, "internet"),
        ("instance-role-escalation", bastion, role),
        ("vm-admin-permission-broad", role, role),
        ("vm-takeover-path", bastion, alice),
    }
    critical = found[("internet-exposed-instance-escalation", bastion, "internet")]
    assert critical["severity"] == "critical" and critical["decision"] == "allowed"
    hops = [h["hop"] for h in critical["path"]]
    assert hops[0] == "internet" and hops[-2:] == [bastion, role]
    assert critical["id"].startswith("ivs-") and critical["controls"]
    takeover = found[("vm-takeover-path", bastion, alice)]
    assert (takeover["account"], takeover["region"], takeover["ports"]) == (PROD, REGION, None)
    assert document["summary"]["critical"] >= 2
    # the bastion's own role taking over the bastion is no takeover
    assert ("vm-takeover-path", bastion, role) not in found


def test_the_zone_s_administrators_are_not_reported_end_to_end(tmp_path: Path) -> None:
    root, bastion = snapshot(tmp_path)
    alice = f"arn:aws:iam::{PROD}:user/alice.dev"

    def takeovers(access: Iam) -> set[tuple[str, str]]:
        found = analyse(root, access=access)["findings"]
        return {(f["resource"], f["source"]) for f in found if f["rule"] == "vm-takeover-path"}

    assert (bastion, alice) in takeovers(Iam())
    admins = Iam(vm_administrators={"prod": [f"arn:aws:iam::{PROD}:user/alice.*"]})
    assert (bastion, alice) not in takeovers(admins)
    # administrators of another zone do not count for prod
    elsewhere = Iam(vm_administrators={"dev": [f"arn:aws:iam::{PROD}:user/alice.*"]})
    assert (bastion, alice) in takeovers(elsewhere)


def test_an_account_whose_iam_was_not_collected_is_not_assessed(tmp_path: Path) -> None:
    root, _ = snapshot(tmp_path)
    (root / PROD / "global" / "AccountAuthorizationDetails.json").unlink()
    manifest = {
        "format": 1,
        "collected_at": "2026-12-01T00:00:00Z",
        "accounts": {
            PROD: {
                "regions": {
                    REGION: {"status": "ok"},
                    "global": {"status": "error", "error": "AccessDenied"},
                }
            }
        },
    }
    _write(root / "manifest.json", manifest)
    document = analyse(root)
    assert {"account": PROD, "region": "global", "error": "AccessDenied"} in document[
        "not_assessed"
    ]
    rules_seen = {f["rule"] for f in document["findings"]}
    assert "internet-exposed-admin-port" in rules_seen
    assert not rules_seen & {r.id for r in rules.RULES}  # unknown, never "no escalation"


def test_an_instance_profile_that_is_not_a_string_is_named(tmp_path: Path) -> None:
    root, _ = snapshot(tmp_path, profile_arn=["not", "an", "arn"])
    with pytest.raises(InputError) as raised:
        analyse(root)
    assert "IamInstanceProfile.Arn" in str(raised.value)


def test_iam_findings_in_sarif_and_asff(tmp_path: Path) -> None:
    from graph.report import asff, sarif

    root, bastion = snapshot(tmp_path)
    document = analyse(root)
    assert {"account": PROD, "region": "global"} in document["assessed"]
    product = f"arn:aws:securityhub:{REGION}:{PROD}:product/{PROD}/default"
    converted = {
        (a["GeneratorId"], a["Resources"][0]["Id"]): a
        for a in asff.document_findings(document, product=product, now="2026-12-01T00:00:00Z")
    }
    role = converted[("vm-admin-permission-broad", arn(PROD, "bastion"))]
    assert role["Resources"][0]["Type"] == "AwsIamRole" and "Region" not in role["Resources"][0]
    assert "TTPs/Privilege Escalation" in role["Types"]
    instance = f"arn:aws:ec2:{REGION}:{PROD}:instance/{bastion}"
    escalation = converted[("internet-exposed-instance-escalation", instance)]
    assert escalation["Severity"]["Label"] == "CRITICAL"
    assert "Network Reachability" not in " ".join(escalation["Types"])
    # the principal's record is its account's IAM file
    assert (PROD, "global") in asff.assessed_places(document)
    log = sarif.sarif_log(document)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    location = results["vm-admin-permission-broad"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"{PROD}/global/AccountAuthorizationDetails.json"
    flow = results["vm-takeover-path"]["codeFlows"][0]
    assert flow["message"]["text"].startswith("Who gets there")


def test_the_markdown_comment_shows_how_each_top_finding_gets_there(tmp_path: Path) -> None:
    from graph.report import md

    root, bastion = snapshot(tmp_path)
    text = md.markdown(analyse(root))
    section = text.split("### How they get there", 1)[1]
    block = next(b for b in section.split("<details>") if "exposed-instance-escalation" in b)
    assert f"{bastion} from internet</summary>" in block
    assert "administrator-equivalent: iam:\\* on \\* allowed" in block
    assert "ingress tcp 22" in block
    assert block.count("</details>") == 1
