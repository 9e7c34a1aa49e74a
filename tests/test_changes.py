"""``ivs exposure --baseline OLD``: new, unchanged and fixed (DESIGN.md "Findings"), and
what is gone but not looked at again: a place not assessed this time, or a snapshot kind
the rule needs that was not seen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_support import write_org_snapshot
from typer.testing import CliRunner

from core.snapshot_kinds import SNAPSHOT_KINDS
from graph.changes import compare
from ivs.cli import app

PROD, SHARED = "111111111111", "222222222222"


def _exposure(snapshot: Path, out: Path, *extra: str) -> Any:
    args = ["exposure", "--snapshot", str(snapshot), "--out", str(out), *extra]
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("changes")
    snapshot = write_org_snapshot(root / "snapshot")
    # as the collector writes it: every kind of the place, empty where there is none
    for kind in SNAPSHOT_KINDS:
        place = snapshot / PROD / "eu-west-1" / kind.file
        if kind.scope == "account/region" and not place.exists():
            place.write_text(json.dumps({kind.key: []}))
    out = root / "first.json"
    assert _exposure(snapshot, out).exit_code == 0
    document = json.loads(out.read_text())
    assert not any(f"{PROD}/eu-west-1" in p for p in document["kinds_not_seen"].values())
    return snapshot, document


def _gone(rule: str, account: str, region: str, resource: str) -> dict[str, Any]:
    return {"id": f"ivs-{abs(hash((rule, resource))):016x}"[:20], "rule": rule,
            "severity": "high", "account": account, "region": region, "resource": resource,
            "source": "internet", "path": []}  # fmt: skip


def test_new_unchanged_and_fixed_and_not_reassessed(
    first: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    snapshot, document = first
    fixed = _gone("internet-exposed-admin-port", PROD, "eu-west-1", "i-gone")
    unseen = _gone("internet-exposed-admin-port", SHARED, "eu-west-1", "i-unseen")  # not assessed
    unknown = _gone("a-rule-of-a-later-version", PROD, "eu-west-1", "i-x")
    old = {
        "generated_at": "2026-11-01T00:00:00Z",
        "findings": [
            *[f for f in document["findings"] if f["rule"] != "default-sg-has-rules"],
            fixed,
            unseen,
            unknown,
        ],
    }
    base = tmp_path / "old.json"
    base.write_text(json.dumps(old))
    out = tmp_path / "new.json"
    run = _exposure(snapshot, out, "--baseline", str(base))
    assert run.exit_code == 0, run.output
    new = json.loads(out.read_text())
    changes = {f["id"]: f["change"] for f in new["findings"]}
    for finding in document["findings"]:
        expected = "new" if finding["rule"] == "default-sg-has-rules" else "unchanged"
        assert changes[finding["id"]] == expected
    assert [f["id"] for f in new["fixed"]] == [fixed["id"]]
    assert new["baseline"] == {
        "file": str(base),
        "generated_at": "2026-11-01T00:00:00Z",
        "new": sum(1 for f in document["findings"] if f["rule"] == "default-sg-has-rules"),
        "unchanged": len(document["findings"])
        - sum(1 for f in document["findings"] if f["rule"] == "default-sg-has-rules"),
        "fixed": 1,
        "not_reassessed": 2,
    }
    assert f"1 fixed since {base}" in run.stdout
    # SARIF carries the baseline state of each result, and the fixed ids
    sarif_out = tmp_path / "new.sarif"
    assert (
        _exposure(snapshot, sarif_out, "--baseline", str(base), "--format", "sarif").exit_code == 0
    )
    run_log = json.loads(sarif_out.read_text())["runs"][0]
    states = {r["partialFingerprints"]["ivsFindingId/v1"]: r["baselineState"]
              for r in run_log["results"]}  # fmt: skip
    assert states == changes
    assert run_log["properties"]["fixed"] == [fixed["id"]]


def test_gone_where_a_kind_the_rule_needs_was_not_seen_is_not_fixed() -> None:
    old = {
        "findings": [
            {"id": "ivs-v", "rule": "ebs-volume-unencrypted", "account": PROD, "region": "r"},
            {"id": "ivs-s", "rule": "snapshot-public", "account": PROD, "region": "r"},
            {"id": "ivs-i", "rule": "vm-takeover-path", "account": PROD, "region": "r"},
            {"id": "ivs-n", "rule": "internet-exposed-port", "account": PROD, "region": "r"},
        ]
    }
    now: dict[str, Any] = {
        "assessed": [{"account": PROD, "region": "r"}],  # IAM not read: no "global"
        "kinds_not_seen": {"Volumes": [f"{PROD}/r"], "LoadBalancers": [f"{PROD}/r"]},
        "findings": [],
    }
    compare(now, old, "old.json")
    assert [f["id"] for f in now["fixed"]] == ["ivs-s"]
    assert now["baseline"]["not_reassessed"] == 3
    # with the volumes, the IAM and the load balancers read, all four are fixed
    now = {
        "assessed": [{"account": PROD, "region": "r"}, {"account": PROD, "region": "global"}],
        "kinds_not_seen": {},
        "findings": [],
    }
    compare(now, old, "old.json")
    assert len(now["fixed"]) == 4


def test_a_bad_baseline_is_exit_2_naming_the_file_and_field(
    first: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    snapshot, _ = first
    base = tmp_path / "old.json"
    out = tmp_path / "new.json"
    for content, words in (
        ("{", "old.json"),
        ('{"findings": {}}', "not a findings document"),
        ('{"findings": [{"id": 1, "rule": "r", "account": null, "region": null}]}',
         "findings[0].id: must be text"),
    ):  # fmt: skip
        base.write_text(content)
        run = _exposure(snapshot, out, "--baseline", str(base))
        assert run.exit_code == 2, content
        assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1
        assert not out.exists()  # read before anything is written
