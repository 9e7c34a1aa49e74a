"""``ivs demo``: lint report, rendered policies, the deployment plan of both stacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from governance.cli import app
from governance.demo import DemoRun, Step, run_demo, step_lint, step_plan
from governance.jsonio import minify
from governance.policies import build_documents
from governance.spec import Spec, load_spec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    return result, out


def test_demo_exits_zero_and_writes_every_policy_as_deployed(demo: tuple[Any, Path]) -> None:
    result, out = demo
    assert result.exit_code == 0, result.output
    documents = build_documents(load_spec(REPO / "stacks" / "Pulumi.org.yaml"))
    assert documents
    for doc in documents:
        deployed = out / "policies" / doc.kind / f"{doc.name}.json"
        assert deployed.read_text(encoding="utf-8") == minify(doc.content)
        readable = out / "policies" / doc.kind / f"{doc.name}.pretty.json"
        assert json.loads(readable.read_text(encoding="utf-8")) == doc.content


def test_demo_prints_lint_report_and_both_plans(demo: tuple[Any, Path]) -> None:
    result, out = demo
    assert "0 errors" in result.output
    assert "stack org: policy attachments" in result.output
    assert "stack baseline-400000000001: baseline per region" in result.output
    org = json.loads((out / "plan" / "org.json").read_text(encoding="utf-8"))
    account = json.loads((out / "plan" / "baseline-400000000001.json").read_text("utf-8"))
    assert org["counts"]["aws:organizations/policy:Policy"] == len(org["outputs"]["policy_ids"])
    assert org["counts"]["pulumi:providers:aws"] == account["counts"]["pulumi:providers:aws"] == 1
    assert account["outputs"]["account_id"] == "400000000001"
    assert json.loads((out / "lint.json").read_text(encoding="utf-8"))["errors"] == 0


def test_demo_summary_names_every_file_it_wrote(demo: tuple[Any, Path]) -> None:
    result, out = demo
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(files) > 3
    listed = result.output.split("files written under", 1)[1]
    for name in files:
        assert f"  {name}\n" in listed


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

    console = Console(record=True, width=120)
    steps = [Step("spec", use_bad_spec), Step("lint", step_lint), Step("plan", step_plan)]
    assert run_demo(tmp_path, steps=steps, console=console) == 1
    assert "lint found errors" in console.export_text()
    assert (tmp_path / "lint.json").is_file()
    assert not (tmp_path / "plan").exists()
    report = json.loads((tmp_path / "lint.json").read_text(encoding="utf-8"))
    assert any("ec2:ExportImages" in f["message"] for f in report["findings"])


def test_plan_step_uses_the_shipped_account_stack(tmp_path: Path, spec: Spec) -> None:
    def use_spec(run: DemoRun) -> None:
        run.spec = spec

    console = Console(record=True, width=120)
    assert run_demo(tmp_path, [Step("spec", use_spec), Step("plan", step_plan)], console) == 0
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [
        "baseline-400000000001.json",
        "org.json",
    ]
