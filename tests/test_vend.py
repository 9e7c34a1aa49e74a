"""``ivs vend`` without the Pulumi CLI: lookup, creation wait, move, spec edit, baseline, audit."""

from __future__ import annotations

import difflib
import io
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from conftest import EXAMPLE_SPEC
from rich.console import Console
from typer.testing import CliRunner

from core.aws import Aws
from core.errors import InputError, ToolMissingError
from core.spec import Spec
from governance import automation
from governance.automation import INSTALL_HINT, Program, StackRun
from governance.spec import load_spec
from governance.vend import (
    VendError,
    create_account,
    current_parent,
    find_account,
    resolve_ou,
    wait_for_account,
)
from ivs.cli import app
from ivs.vend import run_vend
from sandbox import moto_ext
from sandbox.organization import SeededOrganization, management_aws, seed_organization

# ---- creation wait, with Stubber (moto creates accounts at once) -------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def stubbed_org() -> tuple[Any, Stubber]:
    client = boto3.session.Session().client(
        "organizations",
        region_name="us-east-1",
        aws_access_key_id="stub",
        aws_secret_access_key="stub",
    )
    return client, Stubber(client)


def status(state: str, **extra: str) -> dict[str, Any]:
    return {"CreateAccountStatus": {"Id": "car-0123456789abcdef", "State": state, **extra}}


def test_creation_is_waited_for_until_it_succeeds() -> None:
    org, stub = stubbed_org()
    stub.add_response(
        "create_account",
        status("IN_PROGRESS", AccountName="ledger"),
        {
            "Email": "l@example.com",
            "AccountName": "ledger",
            "RoleName": "OrganizationAccountAccessRole",
        },
    )
    request = {"CreateAccountRequestId": "car-0123456789abcdef"}
    stub.add_response("describe_create_account_status", status("IN_PROGRESS"), request)
    stub.add_response("describe_create_account_status", status("IN_PROGRESS"), request)
    stub.add_response(
        "describe_create_account_status", status("SUCCEEDED", AccountId="400000000009"), request
    )
    clock = FakeClock()
    with stub:
        account_id = create_account(
            org,
            email="l@example.com",
            name="ledger",
            role_name="OrganizationAccountAccessRole",
            interval=5,
            sleep=clock.sleep,
            clock=clock,
        )
        stub.assert_no_pending_responses()
    assert account_id == "400000000009"
    assert clock.sleeps == [5, 5]


def test_a_failed_creation_says_why() -> None:
    org, stub = stubbed_org()
    stub.add_response(
        "describe_create_account_status", status("FAILED", FailureReason="EMAIL_ALREADY_EXISTS")
    )
    clock = FakeClock()
    with stub, pytest.raises(VendError) as err:
        wait_for_account(org, "car-0123456789abcdef", sleep=clock.sleep, clock=clock)
    assert str(err.value) == "account creation car-0123456789abcdef failed: EMAIL_ALREADY_EXISTS"


def test_a_creation_that_never_finishes_times_out() -> None:
    org, stub = stubbed_org()
    for _ in range(4):
        stub.add_response("describe_create_account_status", status("IN_PROGRESS"))
    clock = FakeClock()
    with stub, pytest.raises(VendError, match="still IN_PROGRESS after 15 s"):
        wait_for_account(
            org, "car-0123456789abcdef", timeout=15, interval=5, sleep=clock.sleep, clock=clock
        )
    assert clock.sleeps == [5, 5, 5]


# ---- moto: lookup, OU path, move ----------------------------------------------------------


@dataclass
class Org:
    spec: Spec
    endpoint: str
    seeded: SeededOrganization
    mgmt: Aws

    @property
    def client(self) -> Any:
        return self.mgmt.client("organizations")

    def new_account(self, name: str = "ledger-prod") -> str:
        created = self.client.create_account(Email=f"{name}@example.com", AccountName=name)
        return str(created["CreateAccountStatus"]["AccountId"])


@pytest.fixture
def org(spec: Spec, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Org:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # unused by vending
    moto_ext.install()
    aws = Aws(endpoint_url=moto_endpoint)
    seeded = seed_organization(spec, aws)
    return Org(spec, moto_endpoint, seeded, management_aws(spec, aws))


@pytest.mark.slow
def test_lookup_ou_path_and_move(org: Org) -> None:
    client = org.client
    assert find_account(client, "400000000001")["Name"] == "payments-prod"  # type: ignore[index]
    assert find_account(client, "999999999999") is None
    assert resolve_ou(client, "root") == org.seeded.root_id
    assert resolve_ou(client, "Workloads/Prod") == org.seeded.units["Workloads/Prod"]
    with pytest.raises(VendError, match="OU 'Workloads/Test' is not in the organization"):
        resolve_ou(client, "Workloads/Test")
    assert current_parent(client, "400000000001") == org.seeded.units["Workloads/Prod"]


class ApplyingRunner:
    """Stands in for the Automation API: records calls; an update applies the account's
    baseline to moto the way the real stack would, so the audit that follows can pass."""

    def __init__(self, mgmt: Aws, spec_file: Path, apply: bool = True) -> None:
        self.mgmt = mgmt
        self.spec_file = spec_file
        self.apply = apply
        self.calls: list[tuple[str, bool]] = []

    def run(
        self, stack_name: str, program: Program, *, preview: bool, config: Mapping[str, str]
    ) -> StackRun:
        self.calls.append((stack_name, preview))
        if not preview and self.apply:
            account_id = stack_name.removeprefix("baseline-")
            moto_ext.seed_account_baseline(
                self.mgmt, load_spec(self.spec_file), [account_id], workers=1
            )
        return StackRun(stack_name, {"create": 9})


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    stacks = shutil.copytree(EXAMPLE_SPEC.parent, tmp_path / "stacks")
    return stacks / "Pulumi.org.yaml"


def vend(org: Org, spec_file: Path, runner: Any, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    arguments: dict[str, Any] = {
        "account_id": None,
        "ou": "Workloads/Prod",
        "create": False,
        "email": None,
        "name": None,
        "preview": False,
    }
    arguments.update(options)
    code = run_vend(
        spec_file,
        endpoint_url=None,
        aws=org.mgmt,
        runner_factory=lambda _path: runner,
        console=Console(file=out, width=200),
        **arguments,
    )
    return code, out.getvalue()


def added_lines(before: str, after: str) -> list[str]:
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    changed = [line for line in diff if line[:2] in ("+ ", "- ")]
    assert all(line.startswith("+ ") for line in changed), changed
    return [line[2:] for line in changed]


@pytest.mark.slow
def test_vend_an_existing_account(org: Org, spec_file: Path) -> None:
    account_id = org.new_account()
    before = spec_file.read_text()
    runner = ApplyingRunner(org.mgmt, spec_file)
    code, out = vend(org, spec_file, runner, account_id=account_id)
    assert code == 0, out
    assert current_parent(org.client, account_id) == org.seeded.units["Workloads/Prod"]
    assert added_lines(before, spec_file.read_text()) == [
        f'              - {{id: "{account_id}", name: ledger-prod, email: ledger-prod@example.com}}'
    ]
    assert runner.calls == [(f"baseline-{account_id}", False)]
    # its OU, its attachments, the settings in both regions, the backup vault in both and
    # the backup role; the security services are the org stack's, read by `ivs audit`
    assert "all 14 controls pass" in out
    assert "6 record(s) of security-services left to `ivs audit`" in out
    assert (
        f"move account {account_id} from the root ({org.seeded.root_id}) to Workloads/Prod" in out
    )
    # vending again changes nothing and still passes
    again = ApplyingRunner(org.mgmt, spec_file)
    code, out = vend(org, spec_file, again, account_id=account_id)
    assert code == 0
    assert f"already lists {account_id} under Workloads/Prod" in out
    assert "is already in Workloads/Prod" in out


@pytest.mark.slow
def test_vend_creates_an_account(org: Org, spec_file: Path) -> None:
    runner = ApplyingRunner(org.mgmt, spec_file)
    code, out = vend(
        org, spec_file, runner, create=True, email="new@example.com", name="new-dev", ou="Sandbox"
    )
    assert code == 0, out
    (created,) = [a for a in org.client.list_accounts()["Accounts"] if a["Name"] == "new-dev"]
    assert load_spec(spec_file).account(created["Id"])[1] == "Sandbox"
    assert current_parent(org.client, created["Id"]) == org.seeded.units["Sandbox"]
    assert f"created account {created['Id']}" in out


@pytest.mark.slow
def test_a_baseline_that_was_not_applied_fails_the_audit(org: Org, spec_file: Path) -> None:
    account_id = org.new_account()
    runner = ApplyingRunner(org.mgmt, spec_file, apply=False)  # "succeeds" but sets nothing
    code, out = vend(org, spec_file, runner, account_id=account_id, ou="Workloads/NonProd")
    assert code == 1
    assert "ebs-encryption-by-default" in out and "fail" in out
    assert "of 14 control(s) failed" in out
    assert "backup-vault ivs-backup-vault" in out and "backup-role ivs-backup-role" in out


@pytest.mark.slow
def test_preview_changes_nothing(org: Org, spec_file: Path) -> None:
    account_id = org.new_account()
    before = spec_file.read_text()
    accounts_before = org.client.list_accounts()["Accounts"]
    runner = ApplyingRunner(org.mgmt, spec_file)
    code, out = vend(org, spec_file, runner, account_id=account_id, preview=True)
    assert code == 0, out
    assert spec_file.read_text() == before
    assert current_parent(org.client, account_id) == org.seeded.root_id
    assert runner.calls == [(f"baseline-{account_id}", True)]
    assert f"preview: would move account {account_id}" in out
    assert "preview: would record" in out
    # a create under --preview creates nothing and previews no baseline
    code, out = vend(
        org, spec_file, runner, create=True, email="x@example.com", name="x", preview=True
    )
    assert code == 0
    assert org.client.list_accounts()["Accounts"] == accounts_before
    assert "preview: would create account 'x' <x@example.com>" in out
    assert "baseline preview skipped" in out
    assert len(runner.calls) == 1


@pytest.mark.slow
def test_an_account_not_in_the_organization(org: Org, spec_file: Path) -> None:
    code, out = vend(org, spec_file, ApplyingRunner(org.mgmt, spec_file), account_id="999999999999")
    assert code == 1
    assert "account 999999999999 is not in the organization" in out


@pytest.mark.slow
def test_missing_cli_stops_before_any_change(
    org: Org, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(automation.shutil, "which", lambda _name: None)
    account_id = org.new_account()
    before = spec_file.read_text()
    with pytest.raises(ToolMissingError, match="Pulumi CLI is not installed"):
        run_vend(
            spec_file,
            account_id=account_id,
            ou="Workloads/Prod",
            create=False,
            email=None,
            name=None,
            preview=False,
            endpoint_url=None,
            aws=org.mgmt,
        )
    assert spec_file.read_text() == before
    assert current_parent(org.client, account_id) == org.seeded.root_id


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"create": True, "email": "a@example.com"}, "--create: needs --email E and --name N"),
        ({"create": True, "account_id": "400000000009", "email": "a@b.c", "name": "n"}, "not both"),
        ({}, "--account-id: give --account-id ID, or --create"),
        ({"account_id": "12345"}, "is not a 12-digit id"),
        ({"account_id": "100000000001"}, "is the management account"),
        ({"account_id": "400000000009", "ou": "Workloads/Test"}, "--ou: no OU 'Workloads/Test'"),
    ],
)
def test_bad_input_is_refused_before_any_call(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "account_id": None,
        "ou": "Workloads/Prod",
        "create": False,
        "email": None,
        "name": None,
        "preview": False,
    }
    arguments.update(options)

    def no_runner(_path: Path) -> Any:
        raise AssertionError("the runner must not be made for bad input")

    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        run_vend(EXAMPLE_SPEC, endpoint_url=None, runner_factory=no_runner, **arguments)


def test_vend_on_the_command_line_without_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(automation.shutil, "which", lambda _name: None)
    result = CliRunner().invoke(
        app,
        ["vend", "--spec", str(EXAMPLE_SPEC), "--account-id", "400000000009", "--ou", "Sandbox"],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"ivs: {INSTALL_HINT}"


@pytest.fixture(autouse=True)
def _no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("governance.vend.time.sleep", lambda _s: None)
    yield
