"""The built-in controls, one module each, and the parameters of a whole spec.

:data:`CONTROLS` are the controls a spec switches on per target (root or OU), in the
order of the catalogue: statements of one document and sections of the written policy
follow it. :data:`ACCOUNT_CONTROLS` are applied to every member account by its account
stack; :data:`ORGANIZATION_CONTROLS` by the org stack, from the spec's ``ivs:fleet``.
Nothing outside a control's own module spells its id: lint, audit, rendering and the
written policy read the records.

:data:`Parameters` is the model of the spec's ``ivs:parameters`` (and of each OU's
overrides): it inherits every control's parameter model, so the object
:func:`parameters_for` returns is, at once, every control's own parameters.

>>> from governance.spec import load_spec
>>> spec = load_spec("stacks/Pulumi.org.yaml")
>>> parameters_for(spec, "Sandbox").regions(spec)
['us-east-1']
>>> sorted({control.kind for control in CONTROLS})
['backup', 'declarative-ec2', 'scp', 'tag']
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core.errors import InputError, shown
from core.spec import NAMESPACE, ROOT, Spec, describe_error, field_path
from governance.controls import (
    account_baseline,
    approved_ami_owners,
    backup_policy,
    deny_default_vpc,
    deny_image_export,
    deny_leave_organization,
    deny_public_images_snapshots,
    deny_unencrypted_volumes,
    ebs_encryption_default,
    ec2_declarative_policy,
    protect_flow_logs,
    protect_governance_roles,
    require_imdsv2,
    require_tags_on_launch,
    restrict_igw_attach,
    restrict_pass_role,
    restrict_regions,
    security_services,
    tag_policy,
)
from governance.controls.account_baseline import AccountSettings
from governance.controls.backup_policy import BackupNeeds
from governance.controls.base import Control, ControlKind, ParameterModel, Statement

__all__ = [
    "ACCOUNT_CONTROLS",
    "ALL_CONTROLS",
    "CONTROLS",
    "CONTROLS_BY_ID",
    "ORGANIZATION_CONTROLS",
    "AccountSettings",
    "BackupNeeds",
    "Control",
    "ControlKind",
    "ParameterModel",
    "Parameters",
    "Statement",
    "check_parameters",
    "expected_account_settings",
    "expected_backup_needs",
    "parameters_for",
]

CONTROLS: tuple[Control, ...] = (
    ebs_encryption_default.CONTROL,
    deny_unencrypted_volumes.CONTROL,
    deny_public_images_snapshots.CONTROL,
    deny_image_export.CONTROL,
    approved_ami_owners.CONTROL,
    require_imdsv2.CONTROL,
    require_tags_on_launch.CONTROL,
    restrict_regions.CONTROL,
    deny_leave_organization.CONTROL,
    protect_flow_logs.CONTROL,
    protect_governance_roles.CONTROL,
    restrict_pass_role.CONTROL,
    deny_default_vpc.CONTROL,
    restrict_igw_attach.CONTROL,
    tag_policy.CONTROL,
    backup_policy.CONTROL,
    ec2_declarative_policy.CONTROL,
)
CONTROLS_BY_ID: dict[str, Control] = {control.id: control for control in CONTROLS}
ACCOUNT_CONTROLS: tuple[Control, ...] = (account_baseline.CONTROL,)
ORGANIZATION_CONTROLS: tuple[Control, ...] = (security_services.CONTROL,)
ALL_CONTROLS: tuple[Control, ...] = CONTROLS + ACCOUNT_CONTROLS + ORGANIZATION_CONTROLS


def _declared_once(models: list[type[ParameterModel]]) -> None:
    """A parameter is declared by one class only (its control's, or a shared one)."""
    owner: dict[str, type] = {}
    for model in models:
        for cls in model.__mro__:
            if not (isinstance(cls, type) and issubclass(cls, ParameterModel)):
                continue
            for name in vars(cls).get("__annotations__", {}):
                if owner.setdefault(name, cls) is not cls:
                    raise TypeError(
                        f"parameter {name!r} is declared by both {owner[name].__qualname__} "
                        f"and {cls.__qualname__}: declare it once and inherit it"
                    )


def _spec_parameters(controls: tuple[Control, ...]) -> type[ParameterModel]:
    models = list(dict.fromkeys(c.parameters for c in controls))
    _declared_once(models)
    namespace = {"__module__": __name__, "__doc__": "The parameters of every control."}
    return type("Parameters", tuple(models), namespace)


#: The model of ``ivs:parameters``: every control's parameters (an instance is an
#: instance of each control's own model).
Parameters: type[ParameterModel] = _spec_parameters(ALL_CONTROLS)


def parameters_for(spec: Spec, target: str) -> Any:
    """The parameters in force at ``target`` (``root``, an OU path, or an account id for
    the spec-wide ones), as one :data:`Parameters` object."""
    try:
        return Parameters.model_validate(spec.parameters_for(target))
    except ValidationError as err:  # a spec not loaded through governance.spec
        loc, message = describe_error(err)
        raise InputError("spec", message, field_path(loc, f"{NAMESPACE}.parameters")) from None


def expected_account_settings(spec: Spec, account_id: str, region: str) -> AccountSettings:
    """What the account's ``baseline-<account-id>`` stack sets in ``region``.

    Raises KeyError when the account is not a member account of the spec.
    """
    _, ou_path = spec.account(account_id)
    return account_baseline.settings(parameters_for(spec, ou_path), region)


def expected_backup_needs(spec: Spec, account_id: str) -> BackupNeeds | None:
    """The backup vault, role and regions the account's ``baseline-<account-id>`` stack
    creates for the backup policy in force on the account; None when none is.

    Backup policies are inherited: a policy attached at the root or at an OU applies to
    every account below it (AWS Organizations User Guide, *Understanding management
    policy inheritance*). The one in force on an account is the deepest on its path that
    ``governance.policies`` builds a document for: the control switched on at the root
    or an OU above the account, with the parameters of each target from there down, as
    the documents themselves are built. Raises KeyError when the account is not a member
    account of the spec.

    >>> from governance.spec import load_spec
    >>> spec = load_spec("stacks/Pulumi.org.yaml")
    >>> expected_backup_needs(spec, "400000000001").regions  # Workloads/Prod
    ('us-east-1', 'eu-west-1')
    >>> expected_backup_needs(spec, "600000000001") is None  # Sandbox: no backup policy
    True
    """
    _, ou_path = spec.account(account_id)
    parts = [] if ou_path == ROOT else ou_path.split("/")
    chain = [ROOT, *("/".join(parts[: depth + 1]) for depth in range(len(parts)))]
    switched_on = {t for t, controls in spec.targets() if backup_policy.ID in controls}
    in_force: BackupNeeds | None = None
    for target in chain:
        if target not in switched_on and in_force is None:
            continue
        found = backup_policy.needs(parameters_for(spec, target), spec)
        if found is not None:  # no plan here: the parent's policy stays in force
            in_force = found
    return in_force


def check_parameters(spec: Spec, source: str) -> None:
    """The spec-wide parameters and every OU's overrides are known and well typed.

    Each target's merged parameters are checked, parents first, so an error is reported
    at the field that brought the bad value in: the spec-wide ``parameters`` or the
    nearest OU on the path that overrides it.
    """
    _check_at(spec, source, ROOT, [(f"{NAMESPACE}.parameters", spec.parameters)])

    def walk(prefix: str, path: str, levels: list[tuple[str, dict[str, Any]]], units: Any) -> None:
        for index, unit in enumerate(units):
            field = f"{prefix}.units[{index}]"
            ou_path = f"{path}/{unit.name}" if path else unit.name
            here = [*levels, (f"{field}.parameters", unit.parameters)]
            unknown = sorted(set(unit.parameters) - set(Parameters.model_fields))
            if unknown:
                names = ", ".join(shown(name) for name in unknown)
                raise InputError(source, f"unknown parameters [{names}]", here[-1][0])
            _check_at(spec, source, ou_path, here)
            walk(field, ou_path, here, unit.units)

    walk(f"{NAMESPACE}.organization", "", [], spec.organization.units)


def _check_at(
    spec: Spec, source: str, target: str, levels: list[tuple[str, dict[str, Any]]]
) -> None:
    try:
        Parameters.model_validate(spec.parameters_for(target))
    except ValidationError as err:
        loc, message = describe_error(err)
        # the nearest level that sets the offending top-level parameter brought it in
        field = next((f for f, given in reversed(levels) if loc and loc[0] in given), levels[0][0])
        raise InputError(source, message, field_path(loc, field)) from None
