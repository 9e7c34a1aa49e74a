"""The spec: the three file shapes, field-path errors, navigation and parameter overrides."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.errors import InputError
from core.spec import ROOT, Spec
from governance.controls import parameters_for
from governance.spec import load_spec, spec_from_mapping

EXAMPLE = Path(__file__).resolve().parent.parent / "stacks" / "Pulumi.org.yaml"


def _write(tmp_path: Path, document: Any, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _minimal() -> dict[str, Any]:
    return {
        "organization": {
            "management_account_id": "100000000001",
            "units": [{"name": "Prod", "accounts": [{"id": "200000000001", "name": "a"}]}],
        },
        "regions": ["eu-west-1"],
        "principals": {"pipeline": ["arn:aws:iam::*:role/ivs-pipeline"]},
    }


def test_the_three_file_shapes_give_the_same_spec(tmp_path: Path) -> None:
    bare = load_spec(_write(tmp_path, _minimal(), "bare.yaml"))
    rooted = load_spec(_write(tmp_path, {"ivs": _minimal()}, "rooted.yaml"))
    stack = load_spec(
        _write(
            tmp_path,
            {
                "config": {
                    "aws:region": "eu-west-1",
                    **{f"ivs:{k}": v for k, v in _minimal().items()},
                }
            },
            "Pulumi.org.yaml",
        )
    )
    assert bare == rooted == stack
    assert [a.id for a, _ in bare.accounts()] == ["200000000001"]


def test_account_stack_config_follows_spec_file() -> None:
    account_stack = EXAMPLE.parent / "Pulumi.baseline-400000000001.yaml"
    assert load_spec(account_stack) == load_spec(EXAMPLE)


def test_example_navigation() -> None:
    spec = load_spec(EXAMPLE)
    paths = [path for path, _ in spec.units()]
    assert paths.index("Workloads") < paths.index("Workloads/Prod")
    account, path = spec.account("400000000001")
    assert (account.name, path) == ("payments-prod", "Workloads/Prod")
    assert dict(spec.targets())[ROOT][0] == "deny-leave-organization"
    assert spec.resolve_target("Workloads/NonProd") == "Workloads/NonProd"
    with pytest.raises(KeyError):
        spec.resolve_target("Workloads/Nope")


def test_parameters_merge_down_the_ou_path() -> None:
    spec = load_spec(EXAMPLE)
    # Sandbox narrows the regions; the rest inherit the governed regions.
    assert parameters_for(spec, "Sandbox").regions(spec) == ["us-east-1"]
    assert parameters_for(spec, "Workloads/NonProd").regions(spec) == spec.regions
    # Prod overrides one key of its own; the spec-wide keys still apply below it.
    prod = parameters_for(spec, "Workloads/Prod")
    assert prod.vpc_block_public_access == "block-bidirectional"
    assert parameters_for(spec, "Workloads").vpc_block_public_access == "block-ingress"
    assert prod.approved_ami_owners == spec.parameters["approved_ami_owners"]


def test_unquoted_account_id_is_padded_not_lost() -> None:
    fields = _minimal()
    fields["organization"]["units"][0]["accounts"][0]["id"] = 12345678901  # YAML int
    spec = spec_from_mapping(fields, "x.yaml")
    assert spec.organization.units[0].accounts[0].id == "012345678901"


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (
            lambda f: f["organization"]["units"][0]["accounts"][0].update(id="12ab"),
            "ivs.organization.units[0].accounts[0].id",
            "12-digit",
        ),
        (lambda f: f.update(regions=["mars-1"]), "ivs.regions", "not an AWS region"),
        (lambda f: f.update(colour="blue"), "ivs.colour", "unknown field"),
        (lambda f: f.pop("principals"), "ivs.principals", "required"),
        (
            lambda f: f.update(limits={"scp_max_chars": 20000}),
            "ivs.limits",
            "AWS quota 10240",
        ),
        (
            lambda f: f["organization"]["units"][0].update(controls=["no-such-control"]),
            "ivs.organization.units[0].controls[0]",
            "unknown control 'no-such-control'",
        ),
        (
            lambda f: f.update(
                policies=[{"name": "p", "type": "scp", "content": {}, "targets": ["Nope"]}]
            ),
            "ivs.policies[0].targets[0]",
            "target 'Nope'",
        ),
        (
            lambda f: f["organization"]["units"].append(
                {"name": "Dup", "accounts": [{"id": "200000000001", "name": "again"}]}
            ),
            "ivs.organization.units[1].accounts[0].id",
            "listed twice",
        ),
    ],
)
def test_errors_name_source_and_field_path(mutate: Any, field: str, words: str) -> None:
    fields = copy.deepcopy(_minimal())
    mutate(fields)
    with pytest.raises(InputError) as caught:
        spec_from_mapping(fields, "stacks/x.yaml")
    message = str(caught.value)
    assert message.startswith(f"stacks/x.yaml: {field}")
    assert words in message
    assert "\n" not in message


def test_stricter_limits_are_accepted() -> None:
    spec = spec_from_mapping({**_minimal(), "limits": {"scp_max_chars": 5120}}, "x.yaml")
    assert spec.limits.max_chars("scp") == 5120
    assert spec.limits.max_per_target("scp") == 10


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("config:\n  ivs:regions: [us-east-1\n")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(str(path))
    assert "line" in str(caught.value)


def test_stack_config_without_ivs_keys(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no 'ivs:\\*' keys"):
        load_spec(_write(tmp_path, {"config": {"aws:region": "eu-west-1"}}))


def test_custom_policy_file_is_read_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.json").write_text('{"Version": "2012-10-17", "Statement": []}')
    fields = {
        **_minimal(),
        "policies": [{"name": "p", "type": "scp", "file": "policies/p.json", "targets": [ROOT]}],
    }
    spec: Spec = load_spec(_write(tmp_path, fields))
    assert spec.policy_content(spec.policies[0])["Version"] == "2012-10-17"
    (tmp_path / "policies" / "p.json").write_text("{ nope")
    with pytest.raises(InputError, match=r"p\.json: line 1"):
        spec.policy_content(spec.policies[0])
