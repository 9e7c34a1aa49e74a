"""The spec: the three file shapes, field-path errors, navigation and parameter overrides."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.errors import InputError
from core.spec import ROOT, Spec
from governance.controls import parameters_for
from governance.lint import lint_spec
from governance.spec import load_spec, spec_from_mapping
from governance.specedit import spec_source

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
    with pytest.raises(InputError, match=r"p\.json: \$: invalid JSON at line 1"):
        spec.policy_content(spec.policies[0])


# ---- bad input: each place that once crashed or hung is one line naming file and field ---


def _refused(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_spec(path)
    line = str(caught.value)
    assert line.startswith(str(path)) and "\n" not in line and len(line) < 800
    return caught.value


def _stack_config(tmp_path: Path, text: str, name: str = "Pulumi.org.yaml") -> Path:
    path = tmp_path / name
    path.write_text(EXAMPLE.read_text().replace("config:\n", f"config:\n{text}", 1))
    return path


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    levels = ["  ivs:lol0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"  ivs:lol{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 9)]
    started = time.monotonic()
    err = _refused(_stack_config(tmp_path, "\n".join(levels) + "\n"))
    assert time.monotonic() - started < 10  # a billion values once expanded: never built
    assert "more than 1,000,000 values once its aliases are expanded" in err.message
    assert (err.field or "").startswith("config.ivs:lol")


def test_aliases_that_stay_small_are_still_read(tmp_path: Path) -> None:
    security = "controls: [restrict-regions, deny-image-export, restrict-igw-attach]"
    sandbox = "controls: [restrict-regions, require-imdsv2, deny-image-export, tag-policy]"
    text = EXAMPLE.read_text()
    assert security in text and sandbox in text
    text = text.replace(security, security.replace(": ", ": &security ")).replace(
        sandbox, "controls: *security"
    )
    path = tmp_path / "Pulumi.org.yaml"
    path.write_text(text)
    spec = load_spec(path)
    assert spec.unit("Sandbox").controls == spec.unit("Security").controls
    assert spec.unit("Sandbox").controls[0] == "restrict-regions"


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_minimal()) + "zones: &z {names: {prod: [*z]}}\n")
    err = _refused(path)
    assert err.field == "zones.names.prod[0]" and "its own anchor" in err.message


@pytest.mark.parametrize("cycle", ["itself", "two files"])
def test_a_spec_file_that_leads_back_to_itself_is_refused(tmp_path: Path, cycle: str) -> None:
    first = tmp_path / "a.yaml"
    if cycle == "itself":
        first.write_text("config:\n  ivs:spec_file: a.yaml\n")
    else:
        first.write_text("config:\n  ivs:spec_file: b.yaml\n")
        (tmp_path / "b.yaml").write_text("config:\n  ivs:spec_file: ./a.yaml\n")
    with pytest.raises(InputError) as caught:
        load_spec(first)
    assert caught.value.field == "ivs:spec_file" and "(a cycle)" in caught.value.message
    with pytest.raises(InputError, match="a cycle"):
        spec_source(first)


def test_a_spec_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(yaml.safe_dump(_minimal()).encode() + b"# caf\xe9\n")
    assert "line 13: not UTF-8 text" in str(_refused(path))


def test_a_policy_file_that_is_not_utf8_names_file_and_json_path(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_bytes(b'{"Version": "2012-10-17", "Statement": [{"Sid": "\xff"}]}')
    fields = {
        **_minimal(),
        "policies": [{"name": "p", "type": "scp", "file": "p.json", "targets": [ROOT]}],
    }
    spec = load_spec(_write(tmp_path, fields))
    with pytest.raises(InputError) as caught:
        lint_spec(spec)
    assert caught.value.source == str(tmp_path / "p.json")
    assert caught.value.field == "$.Statement[0].Sid" and "not UTF-8" in caught.value.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('regions: ["eu-west-1\\ud800"]\n', "regions[0]"),
        ('"\\udc00key": 1\n', "\udc00key"),
    ],
)
def test_lone_surrogates_in_a_spec_are_refused(tmp_path: Path, text: str, field: str) -> None:
    minimal = _minimal()
    minimal.pop("regions")
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(minimal) + text)
    err = _refused(path)
    assert err.field == field and "lone surrogate" in err.message


def test_a_long_value_is_cut_in_the_error(tmp_path: Path) -> None:
    fields = {**_minimal(), "regions": ["x" * 200_000]}
    err = _refused(_write(tmp_path, fields))
    assert err.field == "ivs.regions"
    assert "... (200,000 characters) is not an AWS region name" in err.message
    assert len(str(err)) < 300


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("[" * 70 + "]" * 70, "nested deeper than 64 levels"),
        ("[" * 5000 + "]" * 5000, "nested deeper than 64 levels"),
        ("9" * 5000, "line 13: a number of 5,000 digits"),
    ],
)
def test_deep_nesting_and_huge_numbers_in_a_spec(tmp_path: Path, value: str, words: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_minimal()) + f"limits: {value}\n")
    assert words in _refused(path).message
