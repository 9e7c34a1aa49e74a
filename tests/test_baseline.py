"""``ivs baseline apply`` without the Pulumi CLI: scheduling, failures, the inline program."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from core.errors import InputError, ToolMissingError
from core.spec import Spec
from governance import automation, baseline
from governance.automation import INSTALL_HINT, Program, StackRun, StackRunError
from governance.plan import evaluate
from governance.spec import load_spec
from ivs import baseline as baseline_command
from ivs.cli import app

SPEC_FILE = Path(__file__).resolve().parents[1] / "stacks" / "Pulumi.org.yaml"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(SPEC_FILE)


class FakeRunner:
    """Records every call; fails the accounts named; measures how many run at once."""

    def __init__(self, fail: set[str] | None = None, delay: float = 0.02) -> None:
        self.fail = fail or set()
        self.delay = delay
        self.calls: list[tuple[str, bool, dict[str, str]]] = []
        self.programs: dict[str, Program] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def run(
        self, stack_name: str, program: Program, *, preview: bool, config: Mapping[str, str]
    ) -> StackRun:
        with self._lock:
            self.calls.append((stack_name, preview, dict(config)))
            self.programs[stack_name] = program
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if stack_name.removeprefix("baseline-") in self.fail:
                raise StackRunError("error: AccessDenied: not authorized to perform sts:AssumeRole")
            return StackRun(stack_name, {"create": 11})
        finally:
            with self._lock:
                self.in_flight -= 1


def quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def test_default_concurrency_follows_memory() -> None:
    mib = 1024 * 1024
    assert baseline.default_concurrency(100 * mib) == 1  # never below one
    assert baseline.default_concurrency(1800 * mib) == 3
    assert baseline.default_concurrency(64 * 1024 * mib) == 8  # capped
    assert 1 <= baseline.default_concurrency() <= 8


def test_concurrency_is_bounded_and_used(spec: Spec) -> None:
    runner = FakeRunner(delay=0.05)
    accounts = [a.id for a, _ in spec.accounts()]
    results = baseline.apply_baselines(spec, accounts, runner, preview=False, concurrency=3)
    assert runner.max_in_flight == 3
    assert [r.account_id for r in results] == accounts  # input order, whatever finished first
    assert all(r.ok for r in results)
    assert sorted(c[0] for c in runner.calls) == sorted(f"baseline-{a}" for a in accounts)


def test_a_failing_account_does_not_stop_the_others(spec: Spec) -> None:
    runner = FakeRunner(fail={"400000000001"})
    accounts = [a.id for a, _ in spec.accounts()]
    results = baseline.apply_baselines(spec, accounts, runner, preview=False, concurrency=2)
    by_id = {r.account_id: r for r in results}
    assert len(runner.calls) == len(accounts)
    assert not by_id["400000000001"].ok
    assert "AccessDenied" in str(by_id["400000000001"].error)
    assert all(r.ok for r in results if r.account_id != "400000000001")


def test_an_unexpected_exception_is_one_accounts_failure(spec: Spec) -> None:
    class Exploding(FakeRunner):
        def run(self, stack_name: str, program: Program, **kwargs: object) -> StackRun:  # type: ignore[override]
            if stack_name == "baseline-200000000002":
                raise RuntimeError("provider crashed\ntraceback...")
            return super().run(stack_name, program, **kwargs)  # type: ignore[arg-type]

    results = baseline.apply_baselines(
        spec, ["200000000001", "200000000002"], Exploding(), preview=True, concurrency=2
    )
    assert [r.ok for r in results] == [True, False]
    assert results[1].error == "provider crashed"


def test_run_reports_failures_at_the_end_and_exits_1(spec: Spec, tmp_path: Path) -> None:
    runner = FakeRunner(fail={"500000000002"})
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        code = baseline_command.run_baseline_apply(
            SPEC_FILE,
            account_ids=[],
            all_accounts=True,
            preview=True,
            concurrency=2,
            runner_factory=lambda _path: runner,
            console=Console(file=handle, width=200),
        )
    text = out.read_text()
    assert code == 1
    assert all(preview for _, preview, _ in runner.calls)
    assert "1 of 9 account stack(s) failed: 500000000002" in text
    # the stack config points the account stacks at the same spec file
    assert runner.calls[0][2] == {"aws:region": "us-east-1", "ivs:spec_file": "Pulumi.org.yaml"}


def test_run_succeeds_for_chosen_accounts(spec: Spec) -> None:
    runner = FakeRunner()
    code = baseline_command.run_baseline_apply(
        SPEC_FILE,
        account_ids=["300000000001", "300000000001", "600000000001"],
        all_accounts=False,
        preview=False,
        concurrency=None,
        runner_factory=lambda _path: runner,
        console=quiet(),
    )
    assert code == 0
    assert sorted(c[0] for c in runner.calls) == ["baseline-300000000001", "baseline-600000000001"]
    assert not any(preview for _, preview, _ in runner.calls)


@pytest.mark.parametrize(
    ("account", "reason"),
    [("999999999999", "not a member account"), ("100000000001", "management account")],
)
def test_unknown_accounts_are_input_errors(spec: Spec, account: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as err:
        baseline.select_accounts(spec, [account], all_accounts=False)
    assert str(err.value).startswith("--account-id: ")


def test_inline_program_declares_the_account_baseline(spec: Spec) -> None:
    runner = FakeRunner()
    baseline.apply_baselines(spec, ["400000000001"], runner, preview=True, concurrency=1)
    program = runner.programs["baseline-400000000001"]
    plan = evaluate(program, "baseline-400000000001")
    (provider,) = plan.providers()
    # a provider's structured inputs reach the engine as JSON text
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["400000000001"]
    role = json.loads(provider.inputs["assumeRoles"])[0]["roleArn"]
    assert role == "arn:aws:iam::400000000001:role/OrganizationAccountAccessRole"
    encryption = plan.of_type("aws:ebs/encryptionByDefault:EncryptionByDefault")
    assert sorted(r.inputs["region"] for r in encryption) == ["eu-west-1", "us-east-1"]
    assert all(r.inputs["enabled"] is True for r in encryption)
    imds = plan.of_type("aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults")
    assert {r.inputs["httpTokens"] for r in imds} == {"required"}
    assert all(r.provider == provider.urn for r in encryption + imds)
    assert plan.outputs["account_id"] == "400000000001"


def test_missing_cli_stops_before_any_account(spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(automation.shutil, "which", lambda _name: None)
    with pytest.raises(ToolMissingError) as err:
        baseline_command.run_baseline_apply(
            SPEC_FILE,
            account_ids=["400000000001"],
            all_accounts=False,
            preview=True,
            concurrency=1,
            console=quiet(),
        )
    assert str(err.value) == INSTALL_HINT
    assert "\n" not in INSTALL_HINT and "get.pulumi.com" in INSTALL_HINT


def test_cli_not_runnable_is_reported_like_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # `which` finds something, but the automation API cannot run `pulumi version`.
    monkeypatch.setattr(automation.shutil, "which", lambda _name: "/opt/pulumi/bin/pulumi")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError, match="Pulumi CLI is not installed"):
        automation.AutomationRunner(None)


def test_missing_cli_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(automation.shutil, "which", lambda _name: None)
    result = CliRunner().invoke(
        app, ["baseline", "apply", "--spec", str(SPEC_FILE), "--all", "--preview"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"ivs: {INSTALL_HINT}"


def test_missing_cli_mid_run_stops_the_run(spec: Spec) -> None:
    class Vanishing(FakeRunner):
        def run(self, stack_name: str, program: Program, **kwargs: object) -> StackRun:  # type: ignore[override]
            raise ToolMissingError(INSTALL_HINT)

    runner = Vanishing()
    with pytest.raises(ToolMissingError):
        baseline.apply_baselines(
            spec, [a.id for a, _ in spec.accounts()], runner, preview=False, concurrency=1
        )


def test_error_line_picks_the_error() -> None:
    text = "Updating (baseline-1):\n  pulumi:pulumi:Stack create\nerror: update failed\ndone\n"
    assert automation.error_line(text) == "error: update failed"
    assert automation.error_line("") == "failed without output"


# ---- the real runner against a stand-in `pulumi` executable ------------------------------


def fake_pulumi(directory: Path, version: str, failure: str) -> Path:
    """A `pulumi` on PATH that reports ``version`` and fails every other command."""
    script = directory / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "version" ]; then echo "{version}"; exit 0; fi\n'
        f'echo "$@" >> "{directory}/calls.log"\n'
        f'echo "{failure}" >&2\n'
        "exit 255\n"
    )
    script.chmod(0o755)
    return directory


def test_the_automation_runner_reports_a_failing_cli(
    spec: Spec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_pulumi(tmp_path, "v3.272.0", "error: no credentials for the backend")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    runner = automation.AutomationRunner(None)
    results = baseline.apply_baselines(
        spec, ["400000000001", "500000000001"], runner, preview=True, concurrency=2
    )
    assert [r.ok for r in results] == [False, False]
    assert {r.error for r in results} == {"error: no credentials for the backend"}
    calls = (bin_dir / "calls.log").read_text().splitlines()
    assert sorted(c for c in calls if "stack select" in c) == [
        "--non-interactive stack select --stack baseline-400000000001",
        "--non-interactive stack select --stack baseline-500000000001",
    ]


def test_a_too_old_cli_is_reported_like_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_pulumi(tmp_path, "v3.0.0", "unused")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.delenv("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", raising=False)
    with pytest.raises(ToolMissingError) as err:
        automation.AutomationRunner(None)
    assert "3.0.0" in str(err.value)
    assert str(err.value).endswith(INSTALL_HINT)
