"""Render: every document as deployed (minified) and readable, with an index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.jsonio import minify
from core.spec import Spec
from governance.policies import PackingError, build_documents
from governance.render import render_policies
from governance.spec import spec_from_mapping
from ivs.cli import app

STACKS = Path(__file__).resolve().parent.parent / "stacks"


def test_render_writes_both_forms_and_an_index(spec: Spec, tmp_path: Path) -> None:
    written = render_policies(spec, tmp_path)
    docs = build_documents(spec)
    assert len(written) == 2 * len(docs) + 1
    index = json.loads((tmp_path / "index.json").read_text())["documents"]
    assert [entry["name"] for entry in index] == [d.name for d in docs]
    for doc, entry in zip(docs, index, strict=True):
        deployed = (tmp_path / doc.kind / f"{doc.name}.json").read_text()
        readable = (tmp_path / doc.kind / f"{doc.name}.pretty.json").read_text()
        assert deployed == minify(doc.content)
        assert "\n" not in deployed and len(deployed) < len(readable)
        assert json.loads(readable) == json.loads(deployed) == doc.content
        assert readable.count("\n") > 3
        assert entry["type"] == doc.policy_type and entry["targets"] == list(doc.targets)
        assert entry["size"] == len(deployed) <= entry["limit"]
        assert entry["file"] == f"{doc.kind}/{doc.name}.json"


def test_render_failure_writes_nothing(spec_fields: dict[str, Any], tmp_path: Path) -> None:
    spec_fields["limits"] = {"scp_max_per_target": 2}
    spec = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(STACKS))
    out = tmp_path / "out"
    with pytest.raises(PackingError):
        render_policies(spec, out)
    assert not out.exists()


def test_cli_render(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    result = CliRunner().invoke(
        app, ["policies", "render", "--spec", str(STACKS / "Pulumi.org.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "scp" / "ivs-scp-root-1.json").is_file()
    assert (out / "declarative-ec2" / "ivs-declarative-ec2-workloads.pretty.json").is_file()
    assert (out / "scp" / "org-protect-security-services.json").is_file()


def test_cli_render_packing_failure_exits_2(spec_fields: dict[str, Any], tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    spec_fields["limits"] = {"scp_max_per_target": 2}
    spec_fields["policies"][0]["file"] = str(STACKS / "policies/protect-security-services.json")
    path = tmp_path / "spec.yaml"
    with path.open("w") as handle:
        YAML(typ="safe", pure=True).dump({"ivs": spec_fields}, handle)
    result = CliRunner().invoke(
        app, ["policies", "render", "--spec", str(path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "policies for target 'root'" in result.output and "limit of 2" in result.output
