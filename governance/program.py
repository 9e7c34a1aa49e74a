"""The Pulumi program: one spec, two kinds of stack.

``build_stack(stack_name, spec)`` declares the ``org`` stack (the organization baseline)
or a ``baseline-<account-id>`` stack (one member account's baseline) and exports its
summary. ``__main__.py`` calls it with the spec read from the stack's config; the
Automation API (vending, ``ivs baseline apply``) calls it as an inline program; and
``governance.plan`` calls it under Pulumi mocks to show what ``pulumi up`` would create.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi

from core.errors import InputError
from core.spec import NAMESPACE, Spec, read_yaml
from governance.components import AccountBaseline, OrganizationBaseline
from governance.spec import load_spec, spec_from_mapping

ORG_STACK = "org"
ACCOUNT_STACK_PREFIX = "baseline-"
_ACCOUNT_STACK = re.compile(rf"^{ACCOUNT_STACK_PREFIX}(\d{{12}})$")
#: Component names: the first segment of every resource name in the stack.
ORG_COMPONENT = "org"
ACCOUNT_COMPONENT = "baseline"


class LintBlockedError(Exception):
    """The spec's documents have error-level lint findings: nothing may be deployed."""

    def __init__(self, findings: list[Any]) -> None:
        self.findings = findings
        lines = [f"lint found {len(findings)} error(s); no resource was declared:"]
        for f in findings:
            statement = getattr(f, "statement", None)
            where = f"{f.policy} {statement}" if statement else f.policy
            lines.append(f"  {f.code} {where}: {f.message}")
        super().__init__("\n".join(lines))


def account_stack_name(account_id: str) -> str:
    return f"{ACCOUNT_STACK_PREFIX}{account_id}"


def stack_account_id(stack_name: str) -> str | None:
    """The account id of a ``baseline-<account-id>`` stack name, else None."""
    match = _ACCOUNT_STACK.match(stack_name)
    return match.group(1) if match else None


def check_stack_name(stack_name: str, spec: Spec) -> str | None:
    """Validate a stack name against the spec; return its account id (None for ``org``)."""
    if stack_name == ORG_STACK:
        return None
    account_id = stack_account_id(stack_name)
    if account_id is None:
        raise InputError(
            f"stack {stack_name!r}",
            f"a stack is named '{ORG_STACK}' or '{ACCOUNT_STACK_PREFIX}<12-digit account id>'",
        )
    try:
        spec.account(account_id)
    except KeyError:
        raise InputError(
            f"stack {stack_name!r}",
            f"account {account_id} is not a member account in the spec "
            "(add it to an OU in stacks/Pulumi.org.yaml, or vend it with `ivs vend`)",
        ) from None
    return account_id


def build_stack(stack_name: str, spec: Spec) -> dict[str, Any]:
    """Declare the resources of one stack and export its summary; return the exports.

    ``org``: lint first (an error-level finding raises :class:`LintBlockedError` before any
    resource is declared), then an :class:`OrganizationBaseline` of the built documents;
    exports ``policy_ids``, ``attachment_count``, ``root_id``.
    ``baseline-<account-id>``: an :class:`AccountBaseline` for that account (it must be in
    the spec); exports ``account_id``, ``regions``, ``kms_key_regions`` and
    ``backup_vault_regions``.
    Anything else raises :class:`InputError`.
    """
    account_id = check_stack_name(stack_name, spec)
    exports: dict[str, Any]
    if account_id is None:
        from governance.lint import lint_spec
        from governance.policies import build_documents

        report = lint_spec(spec)
        if report.has_errors:
            raise LintBlockedError([f for f in report.findings if f.severity == "error"])
        org = OrganizationBaseline(ORG_COMPONENT, spec, build_documents(spec))
        exports = {
            "policy_ids": org.policy_ids,
            "attachment_count": len(org.attachments),
            "root_id": org.root_id,
        }
    else:
        account = AccountBaseline(ACCOUNT_COMPONENT, spec, account_id)
        exports = {
            "account_id": account_id,
            "regions": account.regions,
            "kms_key_regions": account.kms_key_regions,
            "backup_vault_regions": account.backup_vault_regions,
        }
    for key, value in exports.items():
        pulumi.export(key, value)
    return exports


# ---- the spec from stack config ---------------------------------------------------------


def stack_config_dir(project_dir: Path) -> Path:
    """The directory of the ``Pulumi.<stack>.yaml`` files (``stackConfigDir``)."""
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        return project_dir
    project = read_yaml(project_file)
    config_dir = project.get("stackConfigDir") if isinstance(project, dict) else None
    return project_dir / str(config_dir) if config_dir else project_dir


def _config_names() -> list[str]:
    """Every key set in the ``ivs`` namespace of the running stack's config."""
    from pulumi.runtime.config import CONFIG, get_config_env

    prefix = f"{NAMESPACE}:"
    keys = {*CONFIG.get(), *get_config_env()}
    return sorted(k[len(prefix) :] for k in keys if k.startswith(prefix))


def _decode(raw: str | None) -> Any:
    # Structured config arrives as JSON text; plain strings (a role name) are not JSON.
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def spec_from_pulumi_config(project_dir: Path | None = None) -> Spec:
    """The spec from the running stack's ``ivs:*`` config.

    An account stack's config holds only ``ivs:spec_file`` (relative to the stack config
    directory, ``stacks/``), which names the file holding the spec, as ``load_spec`` does.
    """
    config_dir = stack_config_dir(project_dir or Path.cwd())
    source = str(config_dir / f"Pulumi.{pulumi.get_stack()}.yaml")
    config = pulumi.Config(NAMESPACE)
    fields = {name: _decode(config.get(name)) for name in _config_names()}
    spec_file = fields.pop("spec_file", None)
    if spec_file is not None:
        return load_spec(config_dir / str(spec_file))
    fields.pop("account_id", None)
    if not fields:
        raise InputError(source, f"no '{NAMESPACE}:*' keys in the stack config", "config")
    return spec_from_mapping(fields, source, base_dir=str(config_dir))
