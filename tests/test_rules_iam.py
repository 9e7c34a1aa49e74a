"""The IAM rules as walks over VM-control edges: takeover paths, escalating instance roles,
and the internet-exposed instance whose role escalates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.spec import Spec
from core.vocabulary import CCM_TITLES, SEVERITIES
from graph.iam.edges import Call, Edge, InstanceRef
from graph.iam.evaluate import Result, Step
from graph.rules import iam

DEV, PROD = "500000000001", "400000000001"
CI = f"arn:aws:iam::{DEV}:role/dev-ci"
DEPLOY = f"arn:aws:iam::{PROD}:role/deployer"
APP = f"arn:aws:iam::{PROD}:role/app"
ADMIN = f"arn:aws:iam::{PROD}:role/admin"
WEB = InstanceRef("i-0web", PROD, "us-east-1", "prod", APP)
DEV_BOX = InstanceRef("i-0dev", DEV, "us-east-1", "dev")


def allowed(action: str, policy: str = "ci-deploy") -> Call:
    step = Step("identity", CI, policy, "Statement[0]", "allow")
    return Call(action, "*", Result("allowed", (), (step,)))


def edge(source: str, target: str, kind: Any, decision: Any = "allowed", *actions: str) -> Edge:
    return Edge(source, target, kind, decision, tuple(allowed(a) for a in actions))


EDGES = [
    edge(CI, DEPLOY, "can-assume", "allowed", "sts:AssumeRole"),
    edge(DEPLOY, WEB.id, "run-command", "allowed", "ssm:SendCommand"),
    edge(CI, DEV_BOX.id, "session", "allowed", "ssm:StartSession"),
    edge(WEB.id, APP, "instance-role"),
    edge(APP, ADMIN, "can-assume", "conditional", "sts:AssumeRole"),
]


def test_the_records_are_well_formed() -> None:
    for rule in iam.RULES:
        assert rule.severity in SEVERITIES
        assert all(c in CCM_TITLES for c in rule.ccm), rule.id
        for setting in rule.reads:
            model: type[BaseModel] = Spec
            for name in setting.split("."):
                assert name in model.model_fields, (rule.id, setting)
                model = model.model_fields[name].annotation  # type: ignore[assignment]


def test_a_takeover_path_through_an_assumed_role() -> None:
    found = iam.takeover_paths([CI], EDGES, [WEB, DEV_BOX], {}, ["prod"])
    (finding,) = found  # the dev box is not in a protected zone
    assert (finding["rule"], finding["resource"], finding["source"]) == (
        "vm-takeover-path",
        WEB.id,
        CI,
    )
    hops = [h["hop"] for h in finding["path"]]
    assert hops == [CI, DEPLOY, WEB.id]
    assert (
        "ssm:SendCommand on * allowed (identity ci-deploy Statement[0])"
        in finding["path"][1]["why"]
    )
    assert finding["decision"] == "allowed"


def test_the_zone_s_administrators_are_not_reported() -> None:
    admins = {"prod": ["arn:aws:iam::500000000001:role/dev-*"]}
    assert iam.takeover_paths([CI], EDGES, [WEB], admins, ["prod"]) == []
    # administrators of another zone do not count for this one
    other = {"staging": ["arn:aws:iam::500000000001:role/dev-*"]}
    assert len(iam.takeover_paths([CI], EDGES, [WEB], other, ["prod"])) == 1


def test_an_instance_role_reaching_an_administrator_escalates() -> None:
    (finding,) = iam.role_escalations(EDGES, [WEB, DEV_BOX], admin_equivalent={ADMIN})
    assert (finding["resource"], finding["source"]) == (WEB.id, APP)
    assert [h["hop"] for h in finding["path"]] == [WEB.id, APP, ADMIN]
    assert finding["path"][-1]["why"] == "administrator-equivalent"
    # without the administrator the same walk stays in its account: nothing to report
    assert iam.role_escalations(EDGES, [WEB], admin_equivalent=set()) == []


def test_a_role_in_another_account_is_an_escalation_too() -> None:
    elsewhere = f"arn:aws:iam::{DEV}:role/shared"
    edges = [
        edge(WEB.id, APP, "instance-role"),
        edge(APP, elsewhere, "can-assume", "allowed", "sts:AssumeRole"),
    ]
    (finding,) = iam.role_escalations(edges, [WEB], admin_equivalent=set())
    assert finding["path"][-1] == {"hop": elsewhere, "why": "in another account"}


def test_internet_exposure_and_escalation_on_one_instance() -> None:
    escalations = iam.role_escalations(EDGES, [WEB], admin_equivalent={ADMIN})
    exposure = {
        "rule": "internet-exposed-admin-port",
        "resource": WEB.id,
        "path": [
            {"hop": "internet", "why": "from 0.0.0.0/0"},
            {"hop": "sg-1", "why": "ingress tcp 22"},
        ],
    }
    unrelated = {**exposure, "resource": "i-0other"}
    (joined,) = iam.exposed_escalations(escalations, [exposure, unrelated])
    assert joined["rule"] == "internet-exposed-instance-escalation"
    assert iam.RULES_BY_ID[joined["rule"]].severity == "critical"
    assert [h["hop"] for h in joined["path"]][:2] == ["internet", "sg-1"]
    assert joined["path"][-1]["hop"] == ADMIN
    assert iam.exposed_escalations(escalations, [unrelated]) == []
