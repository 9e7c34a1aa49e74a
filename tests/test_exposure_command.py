"""``ivs exposure`` exit codes: findings, not assessed, nothing assessed (DESIGN.md, CLI)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ivs.cli import app
from sandbox.raw import RawRegion


def _snapshot(root: Path, *, failed: list[tuple[str, str]], ok: bool = True) -> Path:
    """One account-region read (a VPC with nothing exposed) and failed ones."""
    accounts: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    if ok:
        region = RawRegion("111111111111", "eu-west-1")
        vpc = region.vpc("10.0.0.0/16")
        region.flow_log(vpc)
        region.write(root)
        accounts["111111111111"] = {"regions": {"eu-west-1": {"status": "ok"}}}
    for account, where in failed:
        entry = {"status": "error", "error": "AccessDenied", "message": "no"}
        accounts.setdefault(account, {"regions": {}})["regions"][where] = entry
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"format": 1, "collected_at": "2026-11-27T08:00:00Z", "accounts": accounts}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def _exposure(snapshot: Path, out: Path, *extra: str) -> tuple[int, str]:
    run = CliRunner().invoke(
        app, ["exposure", "--snapshot", str(snapshot), "--out", str(out), *extra]
    )
    return run.exit_code, run.stderr


def test_a_clean_snapshot_exits_0(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path / "snap", failed=[])
    code, _ = _exposure(snap, tmp_path / "f.json", "--fail-on-not-assessed")
    assert code == 0
    document = json.loads((tmp_path / "f.json").read_text())
    assert document["not_assessed"] == [] and document["assessed"]


def test_not_assessed_fails_only_when_asked(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path / "snap", failed=[("222222222222", "us-east-1")])
    assert _exposure(snap, tmp_path / "f.json")[0] == 0
    assert _exposure(snap, tmp_path / "f.json", "--fail-on-not-assessed")[0] == 1
    document = json.loads((tmp_path / "f.json").read_text())
    assert document["not_assessed"] == [
        {"account": "222222222222", "region": "us-east-1", "error": "AccessDenied"}
    ]


def test_nothing_assessed_is_exit_2_with_the_first_reason_and_the_report_is_kept(
    tmp_path: Path,
) -> None:
    snap = _snapshot(
        tmp_path / "snap",
        failed=[("222222222222", "us-east-1"), ("333333333333", "eu-west-1")],
        ok=False,
    )
    code, stderr = _exposure(snap, tmp_path / "f.json")
    assert code == 2
    (line,) = stderr.strip().splitlines()
    assert line == (f"ivs: {snap}: nothing could be assessed: 222222222222 us-east-1: AccessDenied")
    # the report says what was not assessed: an empty report is not a clean one
    assert len(json.loads((tmp_path / "f.json").read_text())["not_assessed"]) == 2


def test_an_empty_snapshot_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "snap").mkdir()
    code, stderr = _exposure(tmp_path / "snap", tmp_path / "f.json")
    assert code == 2
    assert "nothing could be assessed: the snapshot holds no account-region" in stderr


def test_something_not_placed_fails_when_asked(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path / "snap", failed=[])
    # an interface whose subnet the snapshot lacks cannot be placed: it is not assessed
    place = snap / "111111111111" / "eu-west-1"
    interfaces: dict[str, list[dict[str, object]]] = {"NetworkInterfaces": []}
    interfaces["NetworkInterfaces"].append(
        {
            "NetworkInterfaceId": "eni-0lost",
            "SubnetId": "subnet-0gone",
            "VpcId": "vpc-0gone",
            "OwnerId": "111111111111",
            "Groups": [],
            "PrivateIpAddress": "10.9.0.5",
            "PrivateIpAddresses": [{"PrivateIpAddress": "10.9.0.5", "Primary": True}],
            "InterfaceType": "interface",
            "Status": "in-use",
        }
    )
    (place / "NetworkInterfaces.json").write_text(json.dumps(interfaces))
    assert _exposure(snap, tmp_path / "f.json")[0] == 0
    assert _exposure(snap, tmp_path / "f.json", "--fail-on-not-assessed")[0] == 1
    document = json.loads((tmp_path / "f.json").read_text())
    assert document["not_placed"]["count"] >= 1
