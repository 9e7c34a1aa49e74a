"""``ivs demo`` in this process: its steps, the AWS stand-in's lifetime, and the final check.

The whole demo as a user runs it (a subprocess, once per session) is
``tests/test_demo_e2e.py``; these tests cover the parts without running it all.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from core.aws import Aws
from core.errors import InputError
from core.spec import Spec
from governance.audit import AuditResult, Check
from governance.spec import load_spec, spec_from_mapping
from ivs.cli import app
from ivs.demo import (
    STEPS,
    DemoRun,
    Step,
    find_example_spec,
    run_demo,
    step_check,
    step_lint,
    step_plan,
)
from sandbox.network import SeededNetwork
from sandbox.organization import SeededOrganization
from sandbox.world import (
    ESTATES,
    PAYMENTS_DEV,
    PAYMENTS_PROD,
    PLANTED,
    POSTURE_PLANTS,
    WEB_PROD,
    World,
    aws_stand_in,
    check_spec,
)

REPO = Path(__file__).resolve().parents[1]


def console() -> Console:
    return Console(record=True, width=160)


def refused(endpoint: str) -> bool:
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) != 0


# ---- the first steps (no AWS) -------------------------------------------------------------


def test_steps_without_aws_write_and_name_their_files(tmp_path: Path) -> None:
    titles = [step.title for step in STEPS]
    first = STEPS[: titles.index("The IVS policy in words") + 1]
    shown = console()
    assert run_demo(tmp_path, steps=first, console=shown) == 0
    output = shown.export_text()
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert {"lint.json", "policy.md", "plan/org.json", "policies/index.json"} <= set(files)
    listed = output.split("files written under", 1)[1]
    for name in files:
        assert f"  {name}\n" in listed
    assert "1. Purpose" in output  # the policy's headings
    assert "demo ok" in output


def test_a_lint_error_stops_the_demo_before_the_plan(tmp_path: Path) -> None:
    spec = load_spec(REPO / "stacks" / "Pulumi.org.yaml")
    typo: dict[str, Any] = {
        "name": "legacy-guard",
        "type": "scp",
        "targets": ["Sandbox"],
        "content": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyExport",
                    "Effect": "Deny",
                    "Action": "ec2:ExportImages",
                    "Resource": "*",
                    "Condition": {"ArnNotLike": {"aws:PrincipalArn": spec.principals.exempt}},
                }
            ],
        },
    }
    bad = spec.model_validate({**spec.model_dump(by_alias=True), "policies": [typo]})

    def use_bad_spec(run: DemoRun) -> None:
        run.spec = bad

    shown = console()
    steps = [Step("spec", use_bad_spec), Step("lint", step_lint), Step("plan", step_plan)]
    assert run_demo(tmp_path, steps=steps, console=shown) == 1
    assert "lint found errors" in shown.export_text()
    assert (tmp_path / "lint.json").is_file()
    assert not (tmp_path / "plan").exists()
    report = json.loads((tmp_path / "lint.json").read_text(encoding="utf-8"))
    assert any("ec2:ExportImages" in f["message"] for f in report["findings"])


def test_plan_step_uses_the_shipped_account_stack(tmp_path: Path, spec: Spec) -> None:
    def use_spec(run: DemoRun) -> None:
        run.spec = spec

    assert run_demo(tmp_path, [Step("spec", use_spec), Step("plan", step_plan)], console()) == 0
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [
        "baseline-400000000001.json",
        "org.json",
    ]


def test_out_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    result = CliRunner().invoke(app, ["demo", "--out", str(taken)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        .splitlines()[-1]
        .endswith(f"{taken}: --out exists and is not a directory")
    )
    assert taken.read_text() == "not a directory"


def test_without_moto_the_demo_says_in_one_line_what_to_install(tmp_path: Path) -> None:
    # the CLI's own entry point, in a Python where moto cannot be imported
    no_moto = (
        "import sys; sys.modules['moto'] = None; from ivs.cli import main; "
        "sys.argv = ['ivs', 'demo', '--out', sys.argv[1]]; main()"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", no_moto, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("ivs: ")
    assert "pip install 'ivs-governance[demo]'" in result.stderr
    assert not out.exists()  # before any work


def test_the_example_spec_is_the_package_data_that_is_stacks() -> None:
    assert find_example_spec() == REPO / "stacks" / "Pulumi.org.yaml"


def test_the_world_needs_the_example_accounts_and_regions(spec_fields: dict[str, Any]) -> None:
    check_spec(spec_from_mapping(spec_fields, "org.yaml", str(REPO / "stacks")), "org.yaml")
    nonprod = spec_fields["organization"]["units"][2]["units"][1]
    nonprod["accounts"] = [a for a in nonprod["accounts"] if a["id"] != "500000000002"]
    with pytest.raises(InputError) as err:
        check_spec(spec_from_mapping(spec_fields, "org.yaml", str(REPO / "stacks")), "org.yaml")
    assert str(err.value) == (
        "org.yaml: ivs.organization: the demo needs member account 500000000002"
    )


# ---- the AWS stand-in --------------------------------------------------------------------------


@pytest.fixture
def callers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller with a profile, real-looking keys and an endpoint of their own."""
    monkeypatch.setenv("AWS_PROFILE", "production-admin")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MOTO_CALL_RESET_API", "false")


@pytest.mark.usefixtures("callers_environment")
def test_stand_in_sets_the_callers_aws_environment_aside_and_restores_it() -> None:
    before = dict(os.environ)
    with aws_stand_in() as endpoint:
        assert endpoint.startswith("http://127.0.0.1:")
        assert "AWS_PROFILE" not in os.environ
        assert "MOTO_CALL_RESET_API" not in os.environ
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_ENDPOINT_URL"] == endpoint
        # a client made the ordinary way reaches the stand-in, with moto's default account
        identity = Aws().client("sts").get_caller_identity()
        assert identity["Account"] == "123456789012"
    assert dict(os.environ) == before
    assert refused(endpoint)


@pytest.mark.usefixtures("callers_environment")
def test_stand_in_is_stopped_when_a_step_fails(tmp_path: Path) -> None:
    before = dict(os.environ)
    seen: dict[str, str] = {}

    def start(run: DemoRun) -> None:
        run.endpoint = seen["endpoint"] = run.cleanup.enter_context(aws_stand_in())

    def fail(run: DemoRun) -> None:
        assert not refused(seen["endpoint"])
        raise RuntimeError("a step failed")

    with pytest.raises(RuntimeError, match="a step failed"):
        run_demo(tmp_path, [Step("start", start), Step("fail", fail)], console())
    assert refused(seen["endpoint"])
    assert dict(os.environ) == before


# ---- the check against what was planted ----------------------------------------------------------


def fake_world() -> World:
    """A world with made-up ids, shaped as ``seed_workloads`` leaves it."""
    org = SeededOrganization("o-demo", "100000000001", "r-demo")
    world = World(endpoint="http://127.0.0.1:1", organization=org)
    ids = {
        f"{PAYMENTS_PROD}/us-east-1": {
            "i.bastion": "i-bastion",
            "i.app-a": "i-pa",
            "i.app-b": "i-pb",
            "i.db": "i-db",
        },
        f"{PAYMENTS_PROD}/eu-west-1": {"i.db": "i-drdb"},
        f"{PAYMENTS_DEV}/us-east-1": {"sg.dev.default": "sg-devdefault"},
        f"{WEB_PROD}/us-east-1": {"alb.prod": "arn:alb", "i.app-a": "i-a", "i.app-b": "i-b"},
        f"{WEB_PROD}/eu-west-1": {"vpc.prod": "vpc-weu"},
    }
    for estate in ESTATES:
        world.networks[estate.key] = SeededNetwork(
            estate.account, estate.region, estate.plan, dict(ids.get(estate.key, {}))
        )
    world.ids.update(
        {
            "payments.eni.rds": "eni-rds",
            "staging.i.jump": "i-jump",
            "staging.sg.ssh-open": "sg-sshopen",
            "staging.i.batch": "i-batch",
            "staging.sg.web-open": "sg-webopen",
            "iam.role.dev-ci": CI,
            "iam.role.build-admin": BUILD,
            "iam.role.bastion": BASTION,
            "iam.user.alice": ALICE,
            "iam.role.ops-profiles": f"arn:aws:iam::{PAYMENTS_PROD}:role/ops-profiles",
            **{name: f"id-{name}" for _, name in POSTURE_PLANTS.values()},
            "fleet.snapshot.member": "snap-member",
        }
    )
    return world


CI = f"arn:aws:iam::{PAYMENTS_DEV}:role/dev-ci"
BUILD = f"arn:aws:iam::{PAYMENTS_DEV}:role/ivs-approved/build-admin"
BASTION = f"arn:aws:iam::{PAYMENTS_PROD}:role/bastion"
ALICE = f"arn:aws:iam::{PAYMENTS_PROD}:user/alice.dev"


def finding(
    rule: str, resource: str, ports: str | None, source: str | None = None
) -> dict[str, Any]:
    return {"rule": rule, "resource": resource, "ports": ports, "source": source}


PLANTED_FINDINGS = [
    finding("internet-exposed-admin-port", "i-bastion", "22"),
    finding("cross-zone-path", "i-db", "5432"),
    finding("sensitive-in-public-subnet", "eni-rds", None),
    finding("default-sg-has-rules", "sg-devdefault", None),
    finding("vpc-flow-logs-missing", "vpc-weu", None),
    finding("internet-exposed-port", "arn:alb", "80,443"),
    finding("internet-exposed-port", "i-a", "8080"),
    finding("internet-exposed-port", "i-b", "8080"),
    finding("vm-admin-permission-broad", CI, None, CI),
    finding("vm-admin-permission-broad", BUILD, None, BUILD),
    finding("internet-exposed-instance-escalation", "i-bastion", None, "internet"),
    finding("instance-role-escalation", "i-bastion", None, BASTION),
    finding("vm-admin-permission-broad", BASTION, None, BASTION),
    *(finding("vm-takeover-path", i, None, BASTION) for i in ("i-pa", "i-pb", "i-db", "i-drdb")),
    *(finding("vm-takeover-path", i, None, ALICE) for i in ("i-bastion", "i-pa", "i-pb", "i-db")),
    *(finding(rule, f"id-{name}", None) for rule, name in POSTURE_PLANTS.values()),
    finding("guardduty-disabled", "500000000002", None),
]
EBS_DRIFT = Check("500000000001", "eu-west-1", "ebs-encryption-by-default", "x", "drift")
GUARDDUTY_DRIFT = Check("500000000002", "eu-west-1", "guardduty-enabled", "x", "drift")
PLANTED_DRIFT = [EBS_DRIFT, GUARDDUTY_DRIFT]


def check(findings: list[dict[str, Any]], checks: list[Check]) -> tuple[DemoRun, str]:
    shown = console()
    run = DemoRun(out=Path("unused"), console=shown, spec_path=REPO / "stacks")
    run.results.update(
        world=fake_world(),
        findings={"findings": findings},
        audit=AuditResult(checks),
    )
    step_check(run)
    return run, shown.export_text()


def test_check_passes_when_the_findings_are_exactly_the_planted_ones() -> None:
    run, output = check(PLANTED_FINDINGS, PLANTED_DRIFT)
    assert run.exit_code == 0 and not run.stopped
    assert output.count(" found ") == len(PLANTED_FINDINGS) + len(PLANTED_DRIFT)
    assert output.count("no finding") == 4 * 2  # expected and reported, per trap


@pytest.mark.parametrize(
    ("findings", "checks", "message"),
    [
        (PLANTED_FINDINGS[1:], PLANTED_DRIFT, "missing"),
        (PLANTED_FINDINGS, [], "missing"),
        (
            [*PLANTED_FINDINGS, finding("flat-network", "vpc-x", "0-65535")],
            PLANTED_DRIFT,
            "not planted: flat-network vpc-x 0-65535",
        ),
        (
            PLANTED_FINDINGS,
            [*PLANTED_DRIFT, Check("500000000002", "us-east-1", "imds-defaults", "x", "drift")],
            "not planted: audit drift imds-defaults in 500000000002 us-east-1",
        ),
        (
            [*PLANTED_FINDINGS, finding("internet-exposed-admin-port", "i-jump", "22")],
            PLANTED_DRIFT,
            "flagged: internet-exposed-admin-port",
        ),
    ],
    ids=["mistake-missed", "drift-missed", "extra-finding", "extra-drift", "trap-flagged"],
)
def test_check_stops_with_exit_1_when_the_findings_differ(
    findings: list[dict[str, Any]], checks: list[Check], message: str
) -> None:
    run, output = check(findings, checks)
    assert run.exit_code == 1 and run.stopped
    assert message in output
    assert "the findings differ from what the demo planted" in output


def test_world_record_names_what_each_planted_item_must_produce(spec: Spec) -> None:
    record = fake_world().as_dict(spec)
    assert [item["key"] for item in record["planted"]] == [p.key for p in PLANTED]
    for item in record["planted"]:
        if item["kind"] == "trap":
            assert item["resources"]
        else:
            assert item["findings"] or item["audit"], item["key"]
    produced = [f for item in record["planted"] for f in item.get("findings", [])]
    assert sorted(map(str, produced)) == sorted(map(str, PLANTED_FINDINGS))
    assert [a for item in record["planted"] for a in item.get("audit", [])] == [
        {"account": "500000000001", "region": "eu-west-1", "control": "ebs-encryption-by-default"},
        {"account": "500000000002", "region": "eu-west-1", "control": "guardduty-enabled"},
    ]
