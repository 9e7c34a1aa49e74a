"""The spec as governance reads it: core's shape, checked against the controls.

``core.spec`` knows the spec's shape but not which controls exist; this module checks
that every control switched on names one and that every parameter (spec-wide and per OU)
is one a control reads, of the type it reads. Every command and the Pulumi program load a
spec through it. Errors name the file and the field path
(``stacks/Pulumi.org.yaml: ivs.organization.units[0].controls[1]: unknown control ...``,
``...: ivs.organization.units[2].parameters.imds.http_tokens: Input should be ...``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.errors import InputError, shown
from core.spec import NAMESPACE, OrganizationalUnit, Spec, read_spec, shape_from_mapping
from governance.controls import CONTROLS_BY_ID, check_parameters

__all__ = ["check_controls", "check_parameters", "load_spec", "spec_from_mapping"]


def load_spec(path: str | Path) -> Spec:
    """Read and check a spec file (bare, ``ivs:``-rooted, or a Pulumi stack config)."""
    spec, source = read_spec(path)
    check_controls(spec, source)
    check_parameters(spec, source)
    return spec


def spec_from_mapping(data: Mapping[str, Any], source: str, base_dir: str = ".") -> Spec:
    """Validate the ``ivs`` fields of ``source``: shape, then controls."""
    spec = shape_from_mapping(data, source, base_dir)
    check_controls(spec, source)
    check_parameters(spec, source)
    return spec


def _targets(spec: Spec) -> Iterator[tuple[str, list[str]]]:
    """(field path of a ``controls`` list, the list), root first."""
    yield "organization.root.controls", spec.organization.root.controls

    def walk(prefix: str, units: list[OrganizationalUnit]) -> Iterator[tuple[str, list[str]]]:
        for index, unit in enumerate(units):
            field = f"{prefix}.units[{index}]"
            yield f"{field}.controls", unit.controls
            yield from walk(field, unit.units)

    yield from walk("organization", spec.organization.units)


def check_controls(spec: Spec, source: str) -> None:
    """Every control switched on is one of the built-in controls."""
    for field, controls in _targets(spec):
        for index, control in enumerate(controls):
            if control not in CONTROLS_BY_ID:
                known = ", ".join(sorted(CONTROLS_BY_ID))
                raise InputError(
                    source,
                    f"unknown control {shown(control)} (known: {known})",
                    f"{NAMESPACE}.{field}[{index}]",
                )
