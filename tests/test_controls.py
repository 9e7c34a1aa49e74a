"""The controls: one module each, parameters declared once and checked when a spec loads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.errors import InputError
from governance import controls
from governance.controls import (
    ACCOUNT_CONTROLS,
    ALL_CONTROLS,
    CONTROLS,
    CONTROLS_BY_ID,
    ORGANIZATION_CONTROLS,
    Parameters,
    parameters_for,
)
from governance.controls.base import ParameterModel
from governance.spec import spec_from_mapping

REPO = Path(__file__).resolve().parent.parent
GOVERNANCE = REPO / "governance"


def test_each_control_id_is_spelled_only_in_its_own_module() -> None:
    sources = {p: p.read_text(encoding="utf-8") for p in GOVERNANCE.rglob("*.py")}
    for control in ALL_CONTROLS:
        home = GOVERNANCE / "controls" / f"{control.id.replace('-', '_')}.py"
        assert home.is_file(), control.id
        spelled = re.compile(rf"(?<![\w-]){re.escape(control.id)}(?![\w-])")
        where = sorted(
            str(p.relative_to(REPO)) for p, text in sources.items() if spelled.search(text)
        )
        assert where == [str(home.relative_to(REPO))], control.id


def test_registry_has_every_module_once() -> None:
    modules = {p.stem for p in (GOVERNANCE / "controls").glob("*.py")}
    shared = {"__init__", "base", "grammar", "parameters"}
    assert {c.id.replace("-", "_") for c in ALL_CONTROLS} == modules - shared
    assert len(CONTROLS_BY_ID) == len(CONTROLS)
    assert all(c.switchable for c in CONTROLS)
    assert not any(c.switchable for c in ACCOUNT_CONTROLS + ORGANIZATION_CONTROLS)
    assert {c.kind for c in ORGANIZATION_CONTROLS} == {"organization"}
    assert all(c.enforcement for c in ACCOUNT_CONTROLS + ORGANIZATION_CONTROLS)
    for control in CONTROLS:
        builds = (control.statements is not None, control.document is not None)
        assert builds == ((True, False) if control.kind in ("scp", "rcp") else (False, True))


def test_the_spec_parameters_are_every_controls_own() -> None:
    params = Parameters()
    for control in ALL_CONTROLS:
        assert isinstance(params, control.parameters), control.id
    assert set(Parameters.model_fields) == {
        "allowed_regions",
        "approved_ami_owners",
        "required_tags",
        "ebs_kms_key_arn",
        "approved_role_paths",
        "network_account_ids",
        "governance_role_names",
        "imds",
        "backup",
        "vpc_block_public_access",
        "serial_console",
    }


def test_a_parameter_declared_twice_is_refused() -> None:
    class One(ParameterModel):
        colour: str = "red"

    class Two(ParameterModel):
        colour: str = "blue"

    with pytest.raises(TypeError, match="'colour' is declared by both"):
        controls._declared_once([One, Two])


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (
            lambda f: f["parameters"]["imds"].update(http_tokens="sometimes"),
            "ivs.parameters.imds.http_tokens",
            "'required' or 'optional'",
        ),
        (
            lambda f: f["parameters"].update(colour="blue"),
            "ivs.parameters.colour",
            "unknown field",
        ),
        (
            # an OU override of the wrong type fails when the spec loads, not at lint time
            lambda f: f["organization"]["units"][2]["units"][0]["parameters"].update(
                vpc_block_public_access="sometimes"
            ),
            "ivs.organization.units[2].units[0].parameters.vpc_block_public_access",
            "'block-bidirectional', 'block-ingress' or 'off'",
        ),
        (
            lambda f: f["organization"]["units"][3]["parameters"].update(
                allowed_regions="us-east-1"
            ),
            "ivs.organization.units[3].parameters.allowed_regions",
            "valid list",
        ),
        (
            lambda f: f["organization"]["units"][3]["parameters"].update(imds={"hop": 1}),
            "ivs.organization.units[3].parameters.imds.hop",
            "unknown field",
        ),
        (
            lambda f: f["organization"]["units"][0].update(parameters={"colour": "blue"}),
            "ivs.organization.units[0].parameters",
            "unknown parameters ['colour']",
        ),
        (
            lambda f: f["parameters"].update(approved_role_paths=["ivs"]),
            "ivs.parameters.approved_role_paths",
            "must start and end with '/'",
        ),
    ],
)
def test_parameters_are_checked_when_the_spec_loads(
    spec_fields: dict[str, Any], mutate: Any, field: str, words: str
) -> None:
    mutate(spec_fields)
    with pytest.raises(InputError) as caught:
        spec_from_mapping(spec_fields, "stacks/x.yaml")
    message = str(caught.value)
    assert message.startswith(f"stacks/x.yaml: {field}: "), message
    assert words in message
    assert "\n" not in message


def test_parameters_in_force_are_typed_per_control(spec_fields: dict[str, Any]) -> None:
    spec = spec_from_mapping(spec_fields, "x.yaml")
    sandbox = parameters_for(spec, "Sandbox")
    assert sandbox.regions(spec) == ["us-east-1"]
    assert parameters_for(spec, "Workloads").regions(spec) == spec.regions
    assert parameters_for(spec, "Workloads/Prod").imds.http_put_response_hop_limit == 2
