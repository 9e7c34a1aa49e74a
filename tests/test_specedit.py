"""Round-trip edits of the spec file keep comments, order and style."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from core.errors import InputError
from governance.spec import load_spec
from governance.specedit import record_account, spec_source

STACKS = Path(__file__).resolve().parents[1] / "stacks"


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


@pytest.fixture
def org_file(tmp_path: Path) -> Path:
    target = tmp_path / "Pulumi.org.yaml"
    shutil.copy(STACKS / "Pulumi.org.yaml", target)
    return target


def test_adding_an_account_changes_one_line(org_file: Path) -> None:
    before = org_file.read_text()
    changed, _ = record_account(
        org_file, "400000000003", "Workloads/Prod", name="ledger-prod", email="aws+l@example.com"
    )
    after = org_file.read_text()
    assert changed
    removed, added = changed_lines(before, after)
    assert removed == []
    assert added == [
        '              - {id: "400000000003", name: ledger-prod, email: aws+l@example.com}'
    ]
    # it lands after the OU's last account, and the comments are still there
    lines = after.splitlines()
    assert (
        lines.index(added[0])
        == lines.index(
            '              - {id: "400000000002", name: web-prod, email: aws+web-prod@example.com}'
        )
        + 1
    )
    assert after.startswith("# Organization stack: the IVS baseline")
    spec = load_spec(org_file)
    assert spec.account("400000000003")[1] == "Workloads/Prod"


def test_recording_twice_changes_nothing(org_file: Path) -> None:
    record_account(org_file, "400000000003", "Workloads/Prod", name="ledger-prod")
    once = org_file.read_text()
    changed, text = record_account(org_file, "400000000003", "Workloads/Prod", name="ledger-prod")
    assert not changed
    assert text == once == org_file.read_text()


def test_moving_an_account_keeps_its_email(org_file: Path) -> None:
    before = org_file.read_text()
    changed, _ = record_account(org_file, "400000000002", "Workloads/NonProd", name="web-prod")
    assert changed
    removed, added = changed_lines(before, org_file.read_text())
    assert removed == [
        '              - {id: "400000000002", name: web-prod, email: aws+web-prod@example.com}'
    ]
    assert added == [
        '              - {id: "400000000002", name: web-prod, email: aws+web-prod@example.com}'
    ]
    assert load_spec(org_file).account("400000000002")[1] == "Workloads/NonProd"


def test_an_ou_without_accounts_gets_an_accounts_list(org_file: Path) -> None:
    before = org_file.read_text()
    record_account(org_file, "700000000001", "Workloads", name="platform")
    removed, added = changed_lines(before, org_file.read_text())
    assert removed == []
    assert added == ["        accounts:", '          - {id: "700000000001", name: platform}']
    text = org_file.read_text()
    # before the nested units, so the OU still reads top-down
    assert text.index("name: platform}") < text.index("          - name: Prod")
    assert load_spec(org_file).account("700000000001")[1] == "Workloads"


def test_block_style_bare_spec(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        "# bare spec\n"
        "organization:\n"
        "  management_account_id: '100000000001'\n"
        "  units:\n"
        "  - name: Apps   # the application OU\n"
        "    accounts:\n"
        "    - id: '200000000001'\n"
        "      name: app-one\n"
        "regions: [us-east-1]\n"
        "principals:\n"
        "  pipeline: ['arn:aws:iam::*:role/ivs-pipeline']\n"
    )
    record_account(spec_file, "200000000002", "Apps", name="app-two")
    text = spec_file.read_text()
    assert "  - name: Apps   # the application OU\n" in text
    assert "    - id: '200000000001'\n      name: app-one\n" in text
    assert '    - id: "200000000002"\n      name: app-two\n' in text
    assert [a.id for a, _ in load_spec(spec_file).accounts()] == ["200000000001", "200000000002"]


def test_ivs_rooted_spec_and_root_accounts(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        "ivs:\n"
        "  organization:\n"
        "    management_account_id: '100000000001'\n"
        "  regions: [eu-west-1]\n"
        "  principals: {pipeline: ['arn:aws:iam::*:role/p']}\n"
    )
    record_account(spec_file, "200000000009", "root", name="tooling", email="t@example.com")
    spec = load_spec(spec_file)
    assert spec.account("200000000009")[1] == "root"


def test_unknown_ou_changes_nothing(org_file: Path) -> None:
    before = org_file.read_text()
    with pytest.raises(InputError, match="no OU 'Workloads/Test' in the spec") as err:
        record_account(org_file, "400000000003", "Workloads/Test", name="x")
    assert err.value.field == "--ou"
    assert org_file.read_text() == before


def test_an_edit_that_breaks_the_spec_is_not_written(org_file: Path) -> None:
    before = org_file.read_text()
    # the management account may not be a member: the validated result is refused
    with pytest.raises(InputError, match="management account"):
        record_account(org_file, "100000000001", "Sandbox", name="mgmt")
    assert org_file.read_text() == before
    assert not [p for p in org_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_account_stack_config_points_at_the_org_spec(tmp_path: Path) -> None:
    shutil.copy(STACKS / "Pulumi.org.yaml", tmp_path / "Pulumi.org.yaml")
    shutil.copy(STACKS / "Pulumi.baseline-400000000001.yaml", tmp_path / "account.yaml")
    assert spec_source(tmp_path / "account.yaml") == tmp_path / "Pulumi.org.yaml"
    record_account(tmp_path / "account.yaml", "600000000002", "Sandbox", name="sandbox-bob")
    assert load_spec(tmp_path / "Pulumi.org.yaml").account("600000000002")[1] == "Sandbox"


def test_a_spec_the_safe_loader_refuses_is_never_loaded_round_trip(org_file: Path) -> None:
    # the round-trip loader keeps aliases too, but the edit would then walk and dump them
    before = org_file.read_text()
    bomb = ["  ivs:lol0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"  ivs:lol{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 9)]
    org_file.write_text(before.replace("config:\n", "config:\n" + "\n".join(bomb) + "\n", 1))
    with pytest.raises(InputError, match="once its aliases are expanded"):
        record_account(org_file, "400000000003", "Workloads/Prod", name="x")
    org_file.write_bytes(before.encode() + b"# \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        record_account(org_file, "400000000003", "Workloads/Prod", name="x")
