"""``ivs simulate`` and ``ivs who-can`` on a snapshot: decisions, documents, exit codes, and
the spec's SCPs tried in place of the collected ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_iam_requests import DEV, MGMT, PROD_OU, WORKLOADS, dev_details, organization_files
from typer.testing import CliRunner

from ivs.cli import app

CI = f"arn:aws:iam::{DEV}:role/dev-ci"
ADMIN_ROLE = f"arn:aws:iam::{DEV}:role/admin"


def _write(root: Path, relative: str, document: Any) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def make_snapshot(root: Path, *, scp_at_workloads: bool = True) -> Path:
    _write(root, f"{DEV}/global/AccountAuthorizationDetails.json", dev_details())
    files = organization_files()
    if not scp_at_workloads:
        files["Policies"]["Policies"] = files["Policies"]["Policies"][:1]  # FullAWSAccess only
    for key, document in files.items():
        _write(root, f"organization/{key}.json", document)
    manifest = {
        "format": 1,
        "complete": True,
        "accounts": {DEV: {"regions": {"global": {"status": "ok"}}}},
        "organization": {"status": "ok"},
    }
    _write(root, "manifest.json", manifest)
    return root


def ivs(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("iam"))


def test_simulate_json_names_the_layer_that_decided(snapshot: Path) -> None:
    run = ivs(
        "simulate", "--snapshot", str(snapshot), "--principal", CI,
        "--action", "iam:passrole", "--resource", ADMIN_ROLE, "--format", "json",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert set(document) == {"principal", "action", "resource", "decision", "depends_on", "layers"}
    assert (document["action"], document["decision"]) == ("iam:PassRole", "denied")
    (layer,) = document["layers"]
    assert layer == {
        "layer": "scp",
        "at": "Workloads",
        "policy": "ivs-scp-workloads-1",
        "statement": "IVS04RestrictPassRoleToApprovedPaths",
        "effect": "deny",
    }


def test_simulate_text_says_the_decision_and_each_layer(snapshot: Path) -> None:
    run = ivs(
        "simulate", "--snapshot", str(snapshot), "--principal", CI,
        "--action", "ec2:RunInstances", "--context", "aws:SourceIp=203.0.113.9",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[:2] == [f"{CI} ec2:RunInstances", "decision: allowed"]
    layers = [line.split()[0] for line in lines[2:]]
    assert layers == ["scp", "scp", "scp", "scp", "identity"]  # root, two OUs, the account
    assert "ci-deploy Launch" in lines[-1]


NOBODY = f"arn:aws:iam::{DEV}:role/nobody"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--principal", CI, "--action", "iam:PasRole"], "did you mean iam:PassRole"),
        (
            ["--principal", f"arn:aws:iam::{DEV}:role/nobody", "--action", "iam:PassRole"],
            "is not a user or role",
        ),
        (
            ["--principal", CI, "--action", "iam:PassRole", "--context", "region"],
            "is not KEY=VALUE",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(snapshot: Path, args: list[str], words: str) -> None:
    run = ivs("simulate", "--snapshot", str(snapshot), *args)
    assert run.exit_code == 2
    (line,) = run.stderr.strip().splitlines()
    assert words in line


def test_who_can_lists_allowed_and_conditional_principals(snapshot: Path) -> None:
    instance = f"arn:aws:ec2:us-east-1:{DEV}:instance/i-1"
    run = ivs(
        "who-can", "--snapshot", str(snapshot), "--action", "ssm:SendCommand",
        "--resource", instance, "--format", "json",
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert document["action"] == "ssm:SendCommand" and document["resource"] == instance
    arns = [p["arn"] for p in document["principals"]]
    # alice through her group; the service-linked role has AdministratorAccess; not dev-ci
    assert f"arn:aws:iam::{DEV}:user/alice" in arns and CI not in arns
    assert all(p["decision"] in ("allowed", "conditional") for p in document["principals"])
    assert all(p["account"] == DEV for p in document["principals"])
    other = ivs(
        "who-can", "--snapshot", str(snapshot), "--action", "ssm:SendCommand", "--account", MGMT
    )
    assert other.exit_code == 2 and "has no IAM in the snapshot" in other.stderr


def _spec(tmp_path: Path) -> Path:
    spec = {
        "organization": {
            "management_account_id": MGMT,
            "units": [
                {
                    "name": "Workloads",
                    "controls": ["restrict-pass-role"],
                    "units": [
                        {"name": "NonProd", "accounts": [{"id": DEV, "name": "payments-dev"}]},
                        {
                            "name": "Prod",
                            "accounts": [{"id": "400000000001", "name": "payments-prod"}],
                        },
                    ],
                }
            ],
        },
        "regions": ["us-east-1"],
        "principals": {"pipeline": ["arn:aws:iam::*:role/ivs-pipeline"]},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_with_spec_tries_the_spec_s_scps_before_they_are_deployed(tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap", scp_at_workloads=False)
    asked = ["simulate", "--snapshot", str(snap), "--principal", CI, "--action", "iam:PassRole",
             "--resource", ADMIN_ROLE, "--format", "json"]  # fmt: skip
    today = json.loads(ivs(*asked).stdout)
    assert today["decision"] == "allowed"  # nothing collected stops it
    tried = ivs(*asked, "--with-spec", str(_spec(tmp_path)))
    assert tried.exit_code == 0, tried.output
    document = json.loads(tried.stdout)
    assert document["decision"] == "denied"
    assert document["layers"][0]["policy"] == "ivs-scp-workloads-1"
    assert PROD_OU and WORKLOADS  # the fixture's tree holds the spec's OUs
