"""The spec: one pydantic model that every part of ivs-governance reads.

It is read from the Pulumi stack config (namespace ``ivs``) by ``__main__.py`` and from a
YAML file by the CLI. The file may be the stack config itself (``stacks/Pulumi.org.yaml``,
whose ``ivs:*`` keys are read), a file with one top-level ``ivs:`` mapping, or a bare
mapping of the same fields. Errors name the source and the field path, for example
``stacks/Pulumi.org.yaml: ivs.organization.units[2].accounts[0].id: must be 12 digits``.

This module holds the spec's shape; control ids and their parameters are plain data here
and are checked against the control modules by ``governance.spec`` when a spec loads.

It also reads the files a spec comes from, refusing in one line what no spec holds:
text that is not UTF-8, YAML that ruamel's safe loader refuses or that expands past
:data:`MAX_VALUES` values through aliases (an alias bomb), an alias inside its own
anchor, nesting past :data:`MAX_DEPTH`, lone surrogates, and ``spec_file`` pointers that
lead back to a file on the way; policy files are read the same way
(:func:`read_policy_file`).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from core.errors import InputError, shown
from core.jsonio import read_json
from core.vocabulary import ADMIN_PORTS, DATABASE_PORTS, SEVERITIES, PolicyKind, Severity

NAMESPACE = "ivs"
ROOT = "root"
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_PORTS = re.compile(r"^(all|(tcp|udp|icmp|-1):(\d+(-\d+)?|\*))$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def account_id(value: Any) -> str:
    """A 12-digit account id (a pydantic ``before`` validator).

    >>> account_id(12345678901)
    '012345678901'
    """
    # YAML reads an unquoted id as an integer; a leading zero would be lost, so pad.
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
        raise ValueError("must be a 12-digit AWS account id (quote it in YAML)")
    return value


class Account(_Model):
    id: str
    name: str
    email: str | None = None

    _check_id = field_validator("id", mode="before")(account_id)


class OrganizationalUnit(_Model):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[^/]+$")
    controls: list[str] = []
    #: Overrides of the spec-wide ``parameters`` for this OU and the OUs below it.
    parameters: dict[str, Any] = {}
    accounts: list[Account] = []
    units: list[OrganizationalUnit] = []


class Root(_Model):
    controls: list[str] = []
    accounts: list[Account] = []


class Organization(_Model):
    management_account_id: str
    root: Root = Root()
    units: list[OrganizationalUnit] = []

    _check_id = field_validator("management_account_id", mode="before")(account_id)


class Principals(_Model):
    """Principals exempt from every deny statement (``aws:PrincipalArn`` patterns)."""

    pipeline: list[str] = Field(min_length=1)
    break_glass: list[str] = []

    @property
    def exempt(self) -> list[str]:
        return [*self.pipeline, *self.break_glass]

    @field_validator("pipeline", "break_glass")
    @classmethod
    def _arns(cls, values: list[str]) -> list[str]:
        for arn in values:
            if not arn.startswith("arn:aws"):
                raise ValueError(f"{shown(arn)} is not an IAM principal ARN (pattern)")
        return values


PolicyType = PolicyKind


class CustomPolicy(_Model):
    """An organization's own policy document, linted and packed like the built-in ones."""

    name: str = Field(pattern=r"^[\w+=,.@-]{1,128}$")
    type: PolicyType
    description: str = ""
    file: str | None = None
    content: dict[str, Any] | None = None
    targets: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> CustomPolicy:
        if (self.file is None) == (self.content is None):
            raise ValueError("give exactly one of 'file' or 'content'")
        return self


class ZoneFlow(_Model):
    """A cross-zone flow the zone policy allows."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    to: str
    ports: list[str] = ["all"]

    @field_validator("ports")
    @classmethod
    def _ports(cls, values: list[str]) -> list[str]:
        for item in values:
            if not _PORTS.match(item):
                raise ValueError(f"{shown(item)} is not 'all' or 'tcp|udp|icmp:PORT[-PORT]'")
        return values


class Zones(_Model):
    """How tags map an ENI to a zone, and which zone may reach which."""

    tag_keys: list[str] = ["Environment"]
    #: zone -> tag values meaning it; a value not listed is a zone of its own name.
    names: dict[str, list[str]] = {"prod": ["prod", "production"]}
    #: zones no other zone may reach except through ``flows`` ("*": every zone).
    protected: list[str] = ["prod"]
    flows: list[ZoneFlow] = []


class Exposure(_Model):
    admin_ports: list[str] = list(ADMIN_PORTS)
    database_ports: list[str] = list(DATABASE_PORTS)
    #: tags that mark an ENI as holding sensitive data (besides database services).
    sensitive_tag_key: str = "DataClassification"
    sensitive_tag_values: list[str] = ["confidential", "restricted"]

    @field_validator("admin_ports", "database_ports")
    @classmethod
    def _ports(cls, values: list[str]) -> list[str]:
        for item in values:
            low, _, high = item.partition("-")
            if not low.isdigit() or (high and not high.isdigit()):
                raise ValueError(f"{shown(item)} is not PORT or PORT-PORT")
            if not 0 <= int(low) <= int(high or low) <= 65535:
                raise ValueError(f"{shown(item)} is not within 0-65535")
        return values


# AWS Organizations quotas (2026): characters of a minified document, policies attached
# to one target (counting FullAWSAccess for SCPs), and OU nesting.
AWS_LIMITS: dict[str, int] = {
    "scp_max_chars": 10240,
    "scp_max_per_target": 10,
    "rcp_max_chars": 5120,
    "rcp_max_per_target": 5,
    "tag_max_chars": 10000,
    "tag_max_per_target": 10,
    "backup_max_chars": 10000,
    "backup_max_per_target": 10,
    "declarative_max_chars": 10000,
    "declarative_max_per_target": 10,
    "ou_max_depth": 5,
}


class Limits(_Model):
    """Limits lint and packing check against; a stricter value may be chosen."""

    scp_max_chars: int = AWS_LIMITS["scp_max_chars"]
    scp_max_per_target: int = AWS_LIMITS["scp_max_per_target"]
    rcp_max_chars: int = AWS_LIMITS["rcp_max_chars"]
    rcp_max_per_target: int = AWS_LIMITS["rcp_max_per_target"]
    tag_max_chars: int = AWS_LIMITS["tag_max_chars"]
    tag_max_per_target: int = AWS_LIMITS["tag_max_per_target"]
    backup_max_chars: int = AWS_LIMITS["backup_max_chars"]
    backup_max_per_target: int = AWS_LIMITS["backup_max_per_target"]
    declarative_max_chars: int = AWS_LIMITS["declarative_max_chars"]
    declarative_max_per_target: int = AWS_LIMITS["declarative_max_per_target"]
    ou_max_depth: int = AWS_LIMITS["ou_max_depth"]

    @model_validator(mode="after")
    def _not_above_aws(self) -> Limits:
        for name, aws_max in AWS_LIMITS.items():
            value = getattr(self, name)
            if not 1 <= value <= aws_max:
                raise ValueError(f"{name}={value} must be between 1 and the AWS quota {aws_max}")
        return self

    def max_chars(self, kind: str) -> int:
        return int(getattr(self, f"{_LIMIT_PREFIX[kind]}_max_chars"))

    def max_per_target(self, kind: str) -> int:
        return int(getattr(self, f"{_LIMIT_PREFIX[kind]}_max_per_target"))


_LIMIT_PREFIX = {
    "scp": "scp",
    "rcp": "rcp",
    "tag": "tag",
    "backup": "backup",
    "declarative-ec2": "declarative",
}


class Review(_Model):
    """IVS-01: the written policy is approved and reviewed at least yearly.

    Besides owner, approver and dates, the document's control data: its id and version,
    the change history (the version in force is one of its entries, when there are any),
    and the days allowed to remediate a finding of each severity (:data:`REMEDIATION_DAYS`
    unless overridden, one severity or all; never longer for a higher severity).
    """

    class Change(_Model):
        """One entry of the policy's change history."""

        version: str = Field(min_length=1)
        date: dt.date
        author: str = Field(min_length=1)
        summary: str = Field(min_length=1)

    #: Days to remediate a finding of each severity, from the day it is first reported.
    REMEDIATION_DAYS: ClassVar[dict[Severity, int]] = {
        "critical": 7,
        "high": 30,
        "medium": 90,
        "low": 180,
    }

    owner: str = "Cloud Centre of Excellence"
    approver: str = "CISO"
    approved_on: dt.date | None = None
    last_reviewed: dt.date | None = None
    review_interval_days: int = Field(365, ge=1, le=365)
    document_id: str = Field("IVS-POL-001", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    version: str = Field("1.0", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    history: list[Change] = []
    remediation_days: dict[Severity, int] = dict(REMEDIATION_DAYS)

    @field_validator("remediation_days", mode="before")
    @classmethod
    def _every_severity(cls, value: Any) -> Any:
        # a partial mapping overrides the defaults of the severities it names
        return {**cls.REMEDIATION_DAYS, **value} if isinstance(value, Mapping) else value

    @field_validator("remediation_days")
    @classmethod
    def _in_order(cls, value: dict[Severity, int]) -> dict[Severity, int]:
        days = [value[severity] for severity in SEVERITIES]
        if min(days) < 1:
            raise ValueError("a remediation deadline is at least 1 day")
        if days != sorted(days):
            raise ValueError(
                "a higher severity must not have a longer deadline ("
                + ", ".join(f"{s} {value[s]}" for s in SEVERITIES)
                + ")"
            )
        return value

    @model_validator(mode="after")
    def _version_in_history(self) -> Review:
        versions = [change.version for change in self.history]
        if versions and self.version not in versions:
            raise ValueError(
                f"version {shown(self.version)} is not in the history ({', '.join(versions)})"
            )
        return self


SecurityService = Literal["guardduty", "inspector-ec2", "securityhub", "config"]
SECURITY_SERVICES: tuple[SecurityService, ...] = (
    "guardduty",
    "inspector-ec2",
    "securityhub",
    "config",
)


class Fleet(_Model):
    """What the fleet posture analysis expects of what already exists."""

    #: An instance's image older than this is outdated.
    max_image_age_days: int = Field(180, ge=1)
    #: An instance without a recovery point this recent has no recent backup (the example
    #: plan is daily: a day and its backup window).
    max_backup_age_days: int = Field(2, ge=1)
    security_services: list[SecurityService] = list(SECURITY_SERVICES)
    #: The account that administers GuardDuty, Inspector and Security Hub for the others.
    delegated_admin_account: str | None = None

    @field_validator("delegated_admin_account", mode="before")
    @classmethod
    def _admin(cls, value: Any) -> Any:
        return None if value is None else account_id(value)


class Iam(_Model):
    """Who may control the virtual machines of each protected zone."""

    #: zone -> principal ARN patterns (``aws:PrincipalArn`` style, ``*`` wildcards).
    vm_administrators: dict[str, list[str]] = {}

    @field_validator("vm_administrators")
    @classmethod
    def _arns(cls, values: dict[str, list[str]]) -> dict[str, list[str]]:
        for zone, patterns in values.items():
            for pattern in patterns:
                if not pattern.startswith("arn:"):
                    raise ValueError(f"{zone}: {pattern!r} is not a principal ARN (pattern)")
        return values


_FINDING_ID = re.compile(r"^ivs-[0-9a-f]{16}$")


class Acceptance(_Model):
    """A risk accepted on purpose: one finding (``id``), or every finding or audit record of
    ``rule`` (a rule id, or an audit record's control) whose resource matches ``resource``
    (``*`` and ``?`` wildcards, case-sensitive), optionally in ``account`` (an id or a
    pattern) and ``region``. Until ``expires`` (a date, the last day it holds) the finding
    stays reported, marked accepted, and does not fail ``--fail-on``; after it, the finding
    counts again. ``reason`` and ``owner`` say why and who answers for it."""

    id: str | None = None
    rule: str | None = None
    resource: str = "*"
    account: str = "*"
    region: str = "*"
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: dt.date

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _FINDING_ID.match(value):
            raise ValueError(f"{shown(value)} is not a finding id (ivs- and 16 hex digits)")
        return value

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        # YAML reads an unquoted id as an integer, as for accounts
        return account_id(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _one_subject(self) -> Acceptance:
        if (self.id is None) == (self.rule is None):
            raise ValueError("give either id (one finding) or rule (with resource)")
        if self.id is not None and (self.resource, self.account, self.region) != ("*",) * 3:
            raise ValueError("an id names one finding: resource, account and region go with rule")
        return self

    @property
    def subject(self) -> str:
        """What it accepts, in words: ``ivs-0123...`` or ``rule on resource``."""
        if self.id is not None:
            return self.id
        where = [f"on {self.resource}"] if self.resource != "*" else []
        where += [f"in {self.account}"] if self.account != "*" else []
        where += [f"in {self.region}"] if self.region != "*" else []
        return " ".join([str(self.rule), *where])


class Spec(_Model):
    organization: Organization
    regions: list[str] = Field(min_length=1)
    member_role_name: str = "OrganizationAccountAccessRole"
    principals: Principals
    #: Control parameters, spec-wide (per-OU overrides in ``units[].parameters``). Their
    #: names and types belong to the controls: ``governance.spec`` checks them.
    parameters: dict[str, Any] = {}
    policies: list[CustomPolicy] = []
    zones: Zones = Zones()
    exposure: Exposure = Exposure()
    limits: Limits = Limits()
    review: Review = Review()
    fleet: Fleet = Fleet()
    iam: Iam = Iam()
    #: Risks accepted on purpose (``core.accepted`` matches them).
    accepted: list[Acceptance] = []
    #: Directory that relative ``policies[].file`` paths are read from.
    base_dir: str = "."

    @field_validator("regions")
    @classmethod
    def _regions(cls, values: list[str]) -> list[str]:
        for region in values:
            if not _REGION.match(region):
                raise ValueError(f"{shown(region)} is not an AWS region name")
        if len(set(values)) != len(values):
            raise ValueError("regions repeat")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        _check_tree(self)
        return self

    # ---- navigation -------------------------------------------------------------------
    def units(self) -> Iterator[tuple[str, OrganizationalUnit]]:
        """Every OU with its path (``Workloads/Prod``), parents before children."""

        def walk(prefix: str, units: list[OrganizationalUnit]) -> Iterator[tuple[str, Any]]:
            for unit in units:
                path = f"{prefix}/{unit.name}" if prefix else unit.name
                yield path, unit
                yield from walk(path, unit.units)

        return walk("", self.organization.units)

    @functools.cached_property
    def _unit_index(self) -> dict[str, OrganizationalUnit]:
        return dict(self.units())

    @functools.cached_property
    def _account_index(self) -> dict[str, tuple[Account, str]]:
        return {account.id: (account, path) for account, path in self.accounts()}

    def unit(self, path: str) -> OrganizationalUnit:
        """The OU at ``path`` (raises KeyError)."""
        return self._unit_index[path]

    def accounts(self) -> Iterator[tuple[Account, str]]:
        """Every member account with the path of its OU (``root`` for the root)."""
        for account in self.organization.root.accounts:
            yield account, ROOT
        for path, unit in self.units():
            for account in unit.accounts:
                yield account, path

    def account_names(self) -> dict[str, str]:
        """Each member account's name by id."""
        return {account.id: account.name for account, _path in self.accounts()}

    def account(self, account_id: str) -> tuple[Account, str]:
        """A member account and its OU path (raises KeyError)."""
        return self._account_index[account_id]

    def targets(self) -> Iterator[tuple[str, list[str]]]:
        """Every target (``root``, OU path) with the controls switched on there."""
        yield ROOT, list(self.organization.root.controls)
        for path, unit in self.units():
            yield path, list(unit.controls)

    def parameters_for(self, target: str) -> dict[str, Any]:
        """The parameters at a target as plain data: spec-wide, overridden by each OU on
        the path (mappings merge key by key; anything else replaces)."""
        merged: dict[str, Any] = dict(self.parameters)
        if target != ROOT and not _ACCOUNT_ID.match(target):
            parts = target.split("/")
            for depth in range(1, len(parts) + 1):
                merged = _deep_merge(merged, self.unit("/".join(parts[:depth])).parameters)
        return merged

    def resolve_target(self, target: str) -> str:
        """Check that a target names the root, an OU path or a spec account."""
        if target == ROOT:
            return target
        if _ACCOUNT_ID.match(target):
            self.account(target)
            return target
        self.unit(target)
        return target

    def policy_content(self, policy: CustomPolicy) -> dict[str, Any]:
        """The document of a custom policy, read from its file when it has one."""
        if policy.content is not None:
            return dict(policy.content)
        return read_policy_file(Path(self.base_dir) / str(policy.file))


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _FieldError(ValueError):
    """A whole-spec check that knows the field path it is about (relative to ``ivs``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _unit_fields(
    units: list[OrganizationalUnit], prefix: str = "organization", path: str = ""
) -> Iterator[tuple[str, str, OrganizationalUnit]]:
    """Every OU with its field path (``organization.units[2].units[0]``) and OU path."""
    for index, unit in enumerate(units):
        field = f"{prefix}.units[{index}]"
        ou_path = f"{path}/{unit.name}" if path else unit.name
        yield field, ou_path, unit
        yield from _unit_fields(unit.units, field, ou_path)


def _check_tree(spec: Spec) -> None:
    seen: dict[str, str] = {}
    mgmt = spec.organization.management_account_id
    placed = [("organization.root", ROOT, spec.organization.root.accounts)] + [
        (field, ou_path, unit.accounts)
        for field, ou_path, unit in _unit_fields(spec.organization.units)
    ]
    for field, ou_path, accounts in placed:
        for index, account in enumerate(accounts):
            where = f"{field}.accounts[{index}].id"
            if account.id in seen:
                raise _FieldError(
                    where, f"account {account.id} is listed twice ({seen[account.id]}, {ou_path})"
                )
            if account.id == mgmt:
                raise _FieldError(where, f"management account {mgmt} must not be a member")
            seen[account.id] = ou_path
    admin = spec.fleet.delegated_admin_account
    if admin is not None and admin not in seen:
        raise _FieldError(
            "fleet.delegated_admin_account",
            f"account {admin} is not a member account of the spec (the delegated "
            "administrator is one of the organization's member accounts)",
        )
    names: set[str] = set()
    for field, ou_path, _unit in _unit_fields(spec.organization.units):
        if ou_path in names:
            raise _FieldError(f"{field}.name", f"OU path {shown(ou_path)} appears twice")
        names.add(ou_path)
    for p_index, policy in enumerate(spec.policies):
        for t_index, target in enumerate(policy.targets):
            try:
                spec.resolve_target(target)
            except KeyError:
                raise _FieldError(
                    f"policies[{p_index}].targets[{t_index}]",
                    f"target {shown(target)} is not 'root', an OU path or an account of the spec",
                ) from None


# ---- loading ----------------------------------------------------------------------------


def describe_error(err: ValidationError) -> tuple[tuple[int | str, ...], str]:
    """The location and the message of the first error pydantic found, in our words."""
    first = err.errors()[0]
    loc = tuple(p for p in first["loc"] if not str(p).startswith("function-after"))
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "required field is missing"
    return loc, message


def field_path(loc: tuple[int | str, ...], prefix: str = NAMESPACE) -> str:
    """``ivs.organization.units[2].name`` for the location ``("organization", "units", 2,
    "name")``."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def shape_from_mapping(data: Mapping[str, Any], source: str, base_dir: str = ".") -> Spec:
    """Validate the shape of the ``ivs`` fields; errors name ``source`` and the field path.

    Control ids and their parameters are checked by ``governance.spec``, which knows the
    controls; every command loads the spec through it.
    """
    payload = dict(data)
    payload.setdefault("base_dir", base_dir)
    try:
        return Spec.model_validate(payload)
    except ValidationError as err:
        cause = err.errors()[0].get("ctx", {}).get("error")
        if isinstance(cause, _FieldError):
            raise InputError(source, str(cause), f"{NAMESPACE}.{cause.field}") from None
        loc, message = describe_error(err)
        raise InputError(source, message, field_path(loc)) from None


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def ivs_fields(document: Any, source: str) -> dict[str, Any]:
    """The ``ivs`` fields of a spec file, a stack config file or a bare mapping."""
    if not isinstance(document, Mapping):
        raise InputError(source, "the spec must be a YAML mapping")
    if "config" in document and isinstance(document["config"], Mapping):
        config = document["config"]
        prefix = f"{NAMESPACE}:"
        fields = {k[len(prefix) :]: v for k, v in config.items() if str(k).startswith(prefix)}
        if not fields:
            raise InputError(source, f"no '{prefix}*' keys in the stack config", "config")
        return fields
    if NAMESPACE in document and len(document) == 1:
        inner = document[NAMESPACE]
        if not isinstance(inner, Mapping):
            raise InputError(source, "must be a mapping", NAMESPACE)
        return dict(inner)
    return dict(document)


#: Values a spec file may hold once its aliases are expanded: far beyond any organization
#: (ten thousand accounts are some 50,000), far below what an alias bomb expands to.
MAX_VALUES = 1_000_000
#: Levels of nesting a spec or a policy document may have: a spec needs some 20 (five
#: levels of OUs), a policy document under 10; the checks below them recurse.
MAX_DEPTH = 64


def read_text(path: Path) -> str:
    """The UTF-8 text of a spec or stack config file; InputError when it is not."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(str(path), f"cannot read: {err.strerror}") from err
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(
            str(path), f"line {line}: not UTF-8 text: byte {err.start}: {err.reason}"
        ) from None


_LONG_NUMBER = re.compile(r"[0-9a-fA-F_]{4301,}")


def load_yaml(text: str, source: str) -> Any:
    r"""The document of a YAML text, read by ruamel's safe loader; InputError on anything
    that is not a plain document (:func:`check_document`).

    Aliases are kept as shared references while loading (nothing expands), so an alias
    bomb or an alias inside its own anchor is caught before anything walks the document:

    >>> load_yaml("a: &a [x, x]\nb: [*a, *a]\n", "spec.yaml")
    {'a': ['x', 'x'], 'b': [['x', 'x'], ['x', 'x']]}
    >>> load_yaml("a: &a [x, *a]\n", "spec.yaml")
    Traceback (most recent call last):
    ...
    core.errors.InputError: spec.yaml: a[1]: an alias inside its own anchor (a cycle)
    """
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(source, f"{where}invalid YAML: {problem}") from None
    except RecursionError:
        message = f"invalid YAML: nested deeper than {MAX_DEPTH} levels"
        raise InputError(source, message) from None
    except ValueError as err:  # a number past Python's int-string limit, a date like 02-30
        long = _LONG_NUMBER.search(text)
        if long is None:
            raise InputError(source, f"invalid YAML: {err}") from None
        line = text.count("\n", 0, long.start()) + 1
        message = f"line {line}: a number of {len(long.group()):,} digits, more than Python reads"
        raise InputError(source, message) from None
    check_document(document, source)
    return document


def check_document(document: Any, source: str) -> None:
    r"""Refuse what no spec or policy document holds, walking each distinct node once,
    depth first and without recursion: a cycle (an alias inside its own anchor), more
    than :data:`MAX_VALUES` values once aliases are expanded, nesting deeper than
    :data:`MAX_DEPTH`, and text that is not Unicode (a lone surrogate, ``"\ud800"``).
    Errors name the path in the document (``config.ivs:regions[1]``)."""
    sizes: dict[int, int] = {}  # expanded size of each container already walked
    open_: set[int] = set()  # containers on the path being walked
    stack: list[tuple[Any, str, int, bool]] = [(document, "", 0, False)]
    while stack:
        node, where, depth, done = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                raise InputError(source, "not Unicode text: a lone surrogate", where or None)
            continue
        if not isinstance(node, dict | list):
            continue
        key = id(node)
        if done:
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            sizes[key] = size = 1 + sum(sizes.get(id(child), 1) for child in children)
            open_.discard(key)
            if size > MAX_VALUES:
                message = f"holds more than {MAX_VALUES:,} values once its aliases are expanded"
                raise InputError(source, message, where or None)
            continue
        if key in open_:
            raise InputError(source, "an alias inside its own anchor (a cycle)", where)
        if key in sizes:
            continue
        if depth >= MAX_DEPTH:
            raise InputError(source, f"nested deeper than {MAX_DEPTH} levels", where)
        open_.add(key)
        stack.append((node, where, depth, True))
        if isinstance(node, dict):
            for name, child in node.items():
                inner = f"{where}.{name}" if where else str(name)
                stack.append((name, inner, depth + 1, False))
                stack.append((child, inner, depth + 1, False))
        else:
            stack.extend((child, f"{where}[{n}]", depth + 1, False) for n, child in enumerate(node))


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def read_policy_file(path: Path) -> dict[str, Any]:
    """A policy document from a JSON file (``policies[].file``, ``--policy``): a JSON
    object that :func:`check_document` accepts; InputError naming the file otherwise."""
    document = read_json(path)
    if not isinstance(document, dict):
        raise InputError(str(path), "a policy document must be a JSON object")
    check_document(document, str(path))
    return document


def read_yaml(path: Path) -> Any:
    """The document of a YAML file (:func:`read_text`, then :func:`load_yaml`)."""
    return load_yaml(read_text(path), str(path))


#: How many ``spec_file`` pointers a spec may be reached through.
MAX_SPEC_FILES = 8


def follow_spec_file(path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """The file that holds the spec, and its ``ivs`` fields: an account stack config
    points at the org's spec with ``ivs:spec_file`` (relative to itself). A pointer back
    to a file already on the way is refused."""
    file = Path(path)
    seen: list[Path] = []
    while True:
        fields = ivs_fields(_plain(read_yaml(file)), str(file))
        spec_file = fields.pop("spec_file", None)
        if spec_file is None:
            return file, fields
        if not isinstance(spec_file, str) or not spec_file:
            raise InputError(str(file), "must be the name of a file", f"{NAMESPACE}:spec_file")
        seen.append(file.resolve())
        target = file.parent / spec_file
        if target.resolve() in seen:
            message = f"{shown(spec_file)} leads back to a file on the way (a cycle)"
        elif len(seen) >= MAX_SPEC_FILES:
            message = f"more than {MAX_SPEC_FILES} spec files lead to one another"
        else:
            file = target
            continue
        raise InputError(str(file), message, f"{NAMESPACE}:spec_file")


def read_spec(path: str | Path) -> tuple[Spec, str]:
    """Read a spec file (bare, ``ivs:``-rooted, or a Pulumi stack config) for its shape.

    Returns the spec and the file it came from (an account stack config points at the
    org's spec with ``ivs:spec_file``).
    """
    file, fields = follow_spec_file(path)
    fields.pop("account_id", None)
    return shape_from_mapping(fields, str(file), base_dir=str(file.parent)), str(file)
