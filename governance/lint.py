"""Lint policy documents before anything is deployed.

Each rule has a stable code, declared with its title in :data:`RULES`. A finding names the
policy, the statement (its Sid, else ``Statement[i]``) and the action or key at fault.

In a Deny, whatever makes the statement never match -- an unknown action, a wildcard that
matches no action, a condition key that none of its actions supports -- is an error: the
control silently does not exist. In an Allow (or in a Deny's ``NotAction``, where a typo
only narrows the exemption) the same finding is a warning.

>>> from governance.spec import load_spec
>>> lint_spec(load_spec("stacks/Pulumi.org.yaml")).has_errors
False
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from core import iamdata
from core.errors import MAX_FIELD, MAX_MESSAGE, one_line, shown
from core.jsonio import minify, pretty
from core.spec import ROOT, Limits, Spec, read_policy_file
from governance.policies import FULL_AWS_ACCESS, build_documents, limit_problems
from governance.policies.model import PolicyDocument
from governance.records import AUDIT_CONTROLS

Severity = Literal["error", "warning"]

#: code -> what the rule checks. Codes are part of the contract; never reuse one.
RULES: dict[str, str] = {
    "IVS-L001": "Document size (minified) within the limit for its type",
    "IVS-L002": "Policies per target within the limit (SCPs count FullAWSAccess)",
    "IVS-L003": "OU nesting within the limit",
    "IVS-L004": "IAM action or service exists",
    "IVS-L005": "Action wildcard matches at least one action",
    "IVS-L006": "Condition key applies to at least one of the statement's actions",
    "IVS-L007": "SCP/RCP grammar (Version, Effect, Action, Resource, Principal, Sid, operators)",
    "IVS-L008": "Management policy inheritance operators",
    "IVS-L009": "Tag key capitalization consistent",
    "IVS-L010": "Backup policy required fields",
    "IVS-L011": "Deny at root or OU exempts the pipeline principal (no lockout)",
    "IVS-L012": "Statements for a target fit the limits when packed",
    "IVS-L013": "Management policy structure (top-level key, known attributes and values)",
    "IVS-L014": "Accepted risk still in force (not past its expiry date)",
    "IVS-L015": "Accepted risk names a finding rule or an audit control",
}

_SID = re.compile(r"^[A-Za-z0-9]*$")
_ACCOUNT = re.compile(r"^\d{12}$")
_TOP_LEVEL = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
}
_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
}
#: Operators that exempt the principals they list when they name aws:PrincipalArn.
_EXEMPTING = {"ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals"}
MGMT_OPERATORS = {
    "@@assign",
    "@@append",
    "@@remove",
    "@@operators_allowed_for_child_policies",
}
CHILD_OPERATOR_VALUES = {"@@all", "@@none", "@@assign", "@@append", "@@remove"}

# Declarative policy (EC2): attribute -> field -> allowed values (None: any string).
DECLARATIVE_ATTRIBUTES: dict[str, dict[str, set[str] | None]] = {
    "exception_message": {},
    "image_block_public_access": {"state": {"unblocked", "block_new_sharing"}},
    "snapshot_block_public_access": {
        "state": {"unblocked", "block_new_sharing", "block_all_sharing"}
    },
    "instance_metadata_defaults": {
        "http_tokens": {"no_preference", "required", "optional"},
        "http_put_response_hop_limit": None,
        "http_endpoint": {"no_preference", "enabled", "disabled"},
        "instance_metadata_tags": {"no_preference", "enabled", "disabled"},
    },
    "serial_console_access": {"status": {"enabled", "disabled"}},
    "vpc_block_public_access": {"internet_gateway_block": None},
    "allowed_images_settings": {
        "state": {"enabled", "disabled", "audit_mode"},
        "image_criteria": None,
    },
}
_VPC_BPA_MODES = {"off", "block_ingress", "block_bidirectional"}


@dataclass(frozen=True)
class LintFinding:
    code: str
    severity: Severity
    policy: str
    message: str
    statement: str | None = None
    target: str | None = None
    #: The built-in controls the finding is about (the statement's, else the document's).
    controls: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        return RULES[self.code]


@dataclass
class LintReport:
    findings: list[LintFinding] = field(default_factory=list)
    documents: int = 0

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [
                {**asdict(f), "controls": list(f.controls), "rule": f.rule} for f in self.findings
            ],
        }

    def to_json(self) -> str:
        return pretty(self.to_dict())


# ---- entry points -----------------------------------------------------------------------


def lint_spec(
    spec: Spec, *, today: dt.date | None = None, finding_rules: Collection[str] | None = None
) -> LintReport:
    """Build the spec's documents and lint them, their per-target counts and OU depth,
    and the accepted risks: expired on ``today`` (``IVS-L014``), or naming neither one of
    ``finding_rules`` (the analysis' rule ids, when given) nor an audit control
    (``IVS-L015``). Both are warnings: an expired acceptance covers nothing, so nothing
    is hidden by it, and an unknown rule accepts nothing.

    A packing failure is reported as findings (``IVS-L012`` plus the size or count
    finding), never raised.
    """
    docs = build_documents(spec, check_limits=False)
    findings: list[LintFinding] = []
    for target, message in limit_problems(spec, docs):
        held = tuple(dict.fromkeys(c for d in docs if target in d.targets for c in d.controls))
        finding = _finding("IVS-L012", "error", _policy_at(docs, target), message, None, target)
        findings.append(replace(finding, controls=held))
    findings.extend(
        lint_documents(
            docs, spec.limits, pipeline=spec.principals.pipeline, check_counts=True
        ).findings
    )
    for path, _unit in spec.units():
        depth = path.count("/") + 1
        if depth > spec.limits.ou_max_depth:
            findings.append(
                _finding(
                    "IVS-L003",
                    "error",
                    "-",
                    f"OU {shown(path)} is nested {depth} levels deep; the limit is "
                    f"{spec.limits.ou_max_depth}",
                    None,
                    path,
                )
            )
    findings.extend(_acceptances(spec, today or dt.date.today(), finding_rules))
    return LintReport(findings=_sorted(findings), documents=len(docs))


def _acceptances(
    spec: Spec, today: dt.date, finding_rules: Collection[str] | None
) -> Iterator[LintFinding]:
    for n, item in enumerate(spec.accepted):
        where = f"ivs.accepted[{n}]"
        if item.expires < today:
            yield _finding(
                "IVS-L014",
                "warning",
                where,
                f"accepted risk {item.subject} expired on {item.expires.isoformat()}: what it "
                "covered counts again (renew it with a new date, or remove it)",
            )
        known = AUDIT_CONTROLS | set(finding_rules or ())
        if item.rule is not None and finding_rules is not None and item.rule not in known:
            yield _finding(
                "IVS-L015",
                "warning",
                where,
                f"rule {shown(item.rule)} is neither a finding rule nor an audit control: "
                "it accepts nothing",
            )


def _policy_at(docs: list[PolicyDocument], target: str) -> str:
    names = [d.name for d in docs if target in d.targets]
    return names[0] if len(names) == 1 else f"(target {target})"


def lint_file(path: str | Path, kind: str, limits: Limits | None = None) -> LintReport:
    """Lint one standalone document (``--policy FILE --type KIND``)."""
    file = Path(path)
    content = read_policy_file(file)
    doc = PolicyDocument(name=file.stem, kind=kind, content=content, targets=(), custom=True)  # type: ignore[arg-type]
    return lint_documents([doc], limits or Limits(), pipeline=None, check_counts=False)


def lint_documents(
    docs: Iterable[PolicyDocument],
    limits: Limits | None = None,
    *,
    pipeline: list[str] | None = None,
    check_counts: bool = True,
) -> LintReport:
    """Lint documents: size, grammar, IAM facts, management syntax, lockout, counts.

    ``pipeline`` are the principal ARN patterns every Deny at the root or an OU must
    exempt; without it a Deny that exempts no principal at all is a warning.
    """
    limits = limits or Limits()
    docs = list(docs)
    findings: list[LintFinding] = []
    for doc in docs:
        found = list(_size(doc, limits))
        if doc.kind in ("scp", "rcp"):
            found += _authorization_policy(doc, pipeline)
        else:
            found += _management_policy(doc)
        findings += [f if f.controls else replace(f, controls=doc.controls) for f in found]
    tag_docs = [d for d in docs if d.kind == "tag"]
    findings.extend(_tag_case_across(tag_docs))
    if check_counts:
        findings.extend(_counts(docs, limits))
    return LintReport(findings=_sorted(findings), documents=len(docs))


def _sorted(findings: list[LintFinding]) -> list[LintFinding]:
    order = {"error": 0, "warning": 1}
    return sorted(findings, key=lambda f: (order[f.severity], f.policy, f.code, f.statement or ""))


def _finding(
    code: str,
    severity: Severity,
    policy: str,
    message: str,
    statement: str | None = None,
    target: str | None = None,
) -> LintFinding:
    # one line each, and bounded: a finding may quote any value of the document
    return LintFinding(
        code,
        severity,
        one_line(policy, MAX_FIELD),
        one_line(message, MAX_MESSAGE),
        one_line(statement, MAX_FIELD) if statement is not None else None,
        one_line(target, MAX_FIELD) if target is not None else None,
    )


# ---- limits -----------------------------------------------------------------------------


def _size(doc: PolicyDocument, limits: Limits) -> Iterator[LintFinding]:
    size = len(minify(doc.content))
    limit = limits.max_chars(doc.kind)
    if size > limit:
        yield _finding(
            "IVS-L001",
            "error",
            doc.name,
            f"{size} characters minified; the {doc.kind} limit is {limit}",
        )


def _counts(docs: list[PolicyDocument], limits: Limits) -> Iterator[LintFinding]:
    attached: dict[tuple[str, str], list[str]] = defaultdict(list)
    for doc in docs:
        for target in doc.targets:
            attached[(target, doc.kind)].append(doc.name)
    for (target, kind), names in sorted(attached.items()):
        count = len(names) + (1 if kind == "scp" else 0)
        limit = limits.max_per_target(kind)
        if count > limit:
            listed = ([FULL_AWS_ACCESS] if kind == "scp" else []) + names
            yield _finding(
                "IVS-L002",
                "error",
                names[-1],
                f"{count} {kind} policies on {shown(target)} ({', '.join(listed)}); "
                f"the limit is {limit} per target",
                None,
                target,
            )


# ---- SCP / RCP --------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _label(statement: Any, index: int) -> str:
    if isinstance(statement, dict) and isinstance(statement.get("Sid"), str) and statement["Sid"]:
        return str(statement["Sid"])
    return f"Statement[{index}]"


def _authorization_policy(doc: PolicyDocument, pipeline: list[str] | None) -> Iterator[LintFinding]:
    content = doc.content
    name = doc.name
    kind = doc.kind.upper()
    for key in content:
        if key not in _TOP_LEVEL:
            yield _finding("IVS-L007", "error", name, f"unknown top-level element {shown(key)}")
    if content.get("Version") != "2012-10-17":
        yield _finding(
            "IVS-L007",
            "error",
            name,
            f'Version must be "2012-10-17" (found {shown(content.get("Version"))})',
        )
    statements = content.get("Statement")
    if statements is None:
        yield _finding("IVS-L007", "error", name, "no Statement element")
        return
    seen_sids: set[str] = set()
    for index, statement in enumerate(_as_list(statements)):
        label = _label(statement, index)
        if not isinstance(statement, dict):
            yield _finding("IVS-L007", "error", name, "a statement must be an object", label)
            continue
        sid = statement.get("Sid")
        if sid is not None:
            if not isinstance(sid, str) or not _SID.match(sid):
                yield _finding(
                    "IVS-L007",
                    "error",
                    name,
                    f"Sid {shown(sid)} must be letters and digits only",
                    label,
                )
            elif sid in seen_sids:
                yield _finding("IVS-L007", "error", name, f"Sid {shown(sid)} is repeated", label)
            else:
                seen_sids.add(sid)
        held = doc.statement_controls[index : index + 1]
        for finding in _statement(doc, kind, statement, label, pipeline):
            yield replace(finding, controls=held) if held else finding


def _statement(
    doc: PolicyDocument,
    kind: str,
    statement: dict[str, Any],
    label: str,
    pipeline: list[str] | None,
) -> Iterator[LintFinding]:
    name = doc.name
    for key in statement:
        if key not in _STATEMENT_KEYS:
            yield _finding(
                "IVS-L007", "error", name, f"unknown statement element {shown(key)}", label
            )
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        yield _finding(
            "IVS-L007",
            "error",
            name,
            f"Effect must be Allow or Deny (found {shown(effect)})",
            label,
        )
    has_action = "Action" in statement
    has_not_action = "NotAction" in statement
    if has_action == has_not_action:
        yield _finding("IVS-L007", "error", name, "give exactly one of Action or NotAction", label)
    if ("Resource" in statement) == ("NotResource" in statement):
        yield _finding(
            "IVS-L007", "error", name, "give exactly one of Resource or NotResource", label
        )
    if kind == "SCP":
        for key in ("Principal", "NotPrincipal"):
            if key in statement:
                yield _finding(
                    "IVS-L007", "error", name, f"{key} is not supported in an SCP", label
                )
    else:  # RCP
        if statement.get("Principal") != "*":
            yield _finding(
                "IVS-L007", "error", name, 'an RCP statement needs "Principal": "*"', label
            )
        if "NotPrincipal" in statement:
            yield _finding(
                "IVS-L007", "error", name, "NotPrincipal is not supported in an RCP", label
            )
    deny = effect == "Deny"
    actions: list[iamdata.Action] = []
    any_action = False
    element = "Action" if has_action else "NotAction"
    for entry in _as_list(statement.get(element, [])):
        if not isinstance(entry, str):
            yield _finding(
                "IVS-L007",
                "error",
                name,
                f"{element} entries must be strings: {shown(entry)}",
                label,
            )
            continue
        severity: Severity = "error" if deny and element == "Action" else "warning"
        if entry.strip() == "*":
            any_action = True
            continue
        found, problem = _check_action(entry)
        if problem is not None:
            code, message = problem
            if element == "NotAction":
                message += " (it exempts nothing)"
            elif deny:
                message += " -- this Deny never matches it"
            yield _finding(code, severity, name, message, label)
        actions.extend(found)
    condition = statement.get("Condition", {})
    if not isinstance(condition, dict):
        yield _finding("IVS-L007", "error", name, "Condition must be an object", label)
        condition = {}
    yield from _conditions(
        name, label, condition, actions if has_action and not any_action else None, deny
    )
    if deny and doc.targets:
        yield from _lockout(doc, statement, label, pipeline)
    elif deny and pipeline is None and not _exempted_patterns(condition):
        yield _finding(
            "IVS-L011",
            "warning",
            name,
            "this Deny exempts no principal (aws:PrincipalArn); attached at the root or an OU "
            "it also binds the pipeline and break-glass roles",
            label,
        )


def _check_action(entry: str) -> tuple[list[iamdata.Action], tuple[str, str] | None]:
    prefix, sep, action = entry.partition(":")
    if not sep or not prefix or not action:
        return [], ("IVS-L007", f"{shown(entry)} is not service:action")
    wildcard = "*" in entry or "?" in entry
    if "*" not in prefix and "?" not in prefix and not iamdata.known_service(prefix):
        hint = iamdata.suggest_action(entry)
        tail = f"; did you mean {hint}?" if hint else ""
        return [], ("IVS-L004", f"unknown service {shown(prefix)} in action {entry}{tail}")
    found = iamdata.expand(entry)
    if found:
        return found, None
    if wildcard:
        return [], ("IVS-L005", f"wildcard {entry} matches no IAM action")
    hint = iamdata.suggest_action(entry)
    tail = f"; did you mean {hint}?" if hint else ""
    return [], ("IVS-L004", f"unknown IAM action {entry}{tail}")


def _split_operator(operator: str) -> str:
    base = operator
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        if base.startswith(prefix):
            base = base[len(prefix) :]
    if base.endswith("IfExists") and base != "IfExists":
        base = base[: -len("IfExists")]
    return base


def _conditions(
    policy: str,
    label: str,
    condition: dict[str, Any],
    actions: list[iamdata.Action] | None,
    deny: bool,
) -> Iterator[LintFinding]:
    severity: Severity = "error" if deny else "warning"
    for operator, keys in condition.items():
        if _split_operator(operator) not in _OPERATORS:
            yield _finding(
                "IVS-L007", "error", policy, f"unknown condition operator {shown(operator)}", label
            )
            continue
        if not isinstance(keys, dict):
            yield _finding(
                "IVS-L007", "error", policy, f"{operator} must map keys to values", label
            )
            continue
        for key in keys:
            if not iamdata.key_known(key):
                yield _finding("IVS-L006", severity, policy, f"unknown condition key {key}", label)
                continue
            if actions is None or iamdata.is_global_key(key):
                continue  # NotAction or "*": the key's validity cannot be narrowed further
            if actions and not any(iamdata.key_applies(key, a) for a in actions):
                names = ", ".join(sorted({a.full for a in actions})[:5])
                more = "" if len(actions) <= 5 else f" and {len(actions) - 5} more"
                tail = " -- this Deny never matches" if deny else ""
                yield _finding(
                    "IVS-L006",
                    severity,
                    policy,
                    f"condition key {key} does not apply to {names}{more}{tail}",
                    label,
                )


def _exempted_patterns(condition: dict[str, Any]) -> list[str]:
    patterns: list[str] = []
    for operator, keys in condition.items():
        if _split_operator(operator) not in _EXEMPTING or not isinstance(keys, dict):
            continue
        for key, values in keys.items():
            if key.lower() == "aws:principalarn":
                patterns.extend(str(v) for v in _as_list(values))
    return patterns


def _lockout(
    doc: PolicyDocument, statement: dict[str, Any], label: str, pipeline: list[str] | None
) -> Iterator[LintFinding]:
    at_org_level = [t for t in doc.targets if t == ROOT or not _ACCOUNT.match(t)]
    if not at_org_level or not pipeline:
        return
    condition = statement.get("Condition", {})
    patterns = _exempted_patterns(condition) if isinstance(condition, dict) else []
    missing = [p for p in pipeline if not any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
    if missing:
        yield _finding(
            "IVS-L011",
            "error",
            doc.name,
            f"Deny attached at {', '.join(at_org_level)} does not exempt the pipeline "
            f"principal {', '.join(missing)} (ArnNotLike aws:PrincipalArn): it can lock the "
            "pipeline out",
            label,
            at_org_level[0],
        )


# ---- management policies ----------------------------------------------------------------

_TOP_KEY = {"tag": "tags", "backup": "plans", "declarative-ec2": "ec2_attributes"}


def _management_policy(doc: PolicyDocument) -> Iterator[LintFinding]:
    yield from _operators(doc.name, doc.content, "")
    top = _TOP_KEY.get(doc.kind)
    if top is None:
        return
    for key in doc.content:
        if key != top and not key.startswith("@@"):
            yield _finding(
                "IVS-L013",
                "error",
                doc.name,
                f"unknown top-level key {shown(key)} (expected {shown(top)})",
            )
    body = doc.content.get(top)
    if not isinstance(body, dict):
        yield _finding("IVS-L013", "error", doc.name, f"missing or invalid {shown(top)} object")
        return
    if doc.kind == "tag":
        yield from _tag_policy(doc.name, body)
    elif doc.kind == "backup":
        yield from _backup_policy(doc.name, body)
    else:
        yield from _declarative_policy(doc.name, body)


def _operators(policy: str, node: Any, path: str) -> Iterator[LintFinding]:
    if isinstance(node, list):
        for item in node:
            yield from _operators(policy, item, path)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key.startswith("@@"):
            if key not in MGMT_OPERATORS:
                yield _finding(
                    "IVS-L008",
                    "error",
                    policy,
                    f"unknown inheritance operator {key} at {path or '(top)'}",
                    where,
                )
            elif key == "@@operators_allowed_for_child_policies":
                values = _as_list(value)
                bad = [v for v in values if not _one_of(v, CHILD_OPERATOR_VALUES)]
                if bad:
                    shown_bad = ", ".join(shown(v) for v in bad)
                    yield _finding(
                        "IVS-L008",
                        "error",
                        policy,
                        f"unknown child-policy operators [{shown_bad}] at {path}",
                        where,
                    )
            continue
        yield from _operators(policy, value, where)


def _one_of(value: Any, allowed: set[str]) -> bool:
    """``value`` is one of ``allowed`` (a list or an object, unhashable, never is)."""
    return isinstance(value, str) and value in allowed


def _entries(node: Any) -> list[tuple[str, dict[str, Any]]]:
    """The entries of a management-policy object that are objects, operators aside; none
    when ``node`` is no object (:func:`_not_object` says so where the shape matters)."""
    if not isinstance(node, dict):
        return []
    return [(k, v) for k, v in node.items() if not k.startswith("@@") and isinstance(v, dict)]


def _not_object(policy: str, node: Any, where: str) -> Iterator[LintFinding]:
    if node is not None and not isinstance(node, dict):
        yield _finding("IVS-L013", "error", policy, f"{where} must be an object", where)


def _assigned(node: Any) -> Any:
    """The value a management-policy field sets (``@@assign``, else ``@@append``)."""
    if isinstance(node, dict):
        for op in ("@@assign", "@@append"):
            if op in node:
                return node[op]
        return None
    return node


def _tag_policy(policy: str, tags: dict[str, Any]) -> Iterator[LintFinding]:
    for policy_key, entry in tags.items():
        if policy_key.startswith("@@"):
            continue
        where = f"tags.{policy_key}"
        if not isinstance(entry, dict):
            yield _finding("IVS-L013", "error", policy, f"{where} must be an object", where)
            continue
        for field_name in entry:
            if field_name not in (
                "tag_key",
                "tag_value",
                "enforced_for",
                "report_required_tag_for",
            ) and not field_name.startswith("@@"):
                yield _finding(
                    "IVS-L013",
                    "error",
                    policy,
                    f"unknown field {shown(field_name)} in {where}",
                    where,
                )
        # No tag_key is fine: the key is then inherited, or lower case by default.
        key = _assigned(entry.get("tag_key"))
        if key is not None and (not isinstance(key, str) or key.lower() != policy_key.lower()):
            yield _finding(
                "IVS-L009",
                "error",
                policy,
                f"tag_key {shown(key)} does not match its policy key {shown(policy_key)} "
                "(case aside)",
                where,
            )
        for enforced in _as_list(_assigned(entry.get("enforced_for")) or []):
            if not isinstance(enforced, str) or not re.match(
                r"^[a-z0-9-]+:([A-Za-z0-9_-]+|\*)$", enforced
            ):
                yield _finding(
                    "IVS-L013",
                    "error",
                    policy,
                    f"enforced_for value {shown(enforced)} is not service:resource_type",
                    where,
                )


def _tag_case_across(docs: list[PolicyDocument]) -> Iterator[LintFinding]:
    spellings: dict[str, dict[str, str]] = defaultdict(dict)  # lower -> spelling -> policy
    for doc in docs:
        tags = doc.content.get("tags")
        if not isinstance(tags, dict):
            continue
        for entry in tags.values():
            key = _assigned(entry.get("tag_key")) if isinstance(entry, dict) else None
            if isinstance(key, str):
                spellings[key.lower()].setdefault(key, doc.name)
    for variants in spellings.values():
        if len(variants) > 1:
            listed = ", ".join(f"{shown(k)} in {p}" for k, p in sorted(variants.items()))
            yield _finding(
                "IVS-L009",
                "error",
                sorted(variants.values())[-1],
                f"tag key capitalized differently across tag policies: {listed}",
            )


def _has_assign(node: Any) -> bool:
    if isinstance(node, dict):
        return "@@assign" in node or any(_has_assign(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_assign(v) for v in node)
    return False


def _backup_policy(policy: str, plans: dict[str, Any]) -> Iterator[LintFinding]:
    for plan_name, plan in plans.items():
        if plan_name.startswith("@@"):
            continue
        where = f"plans.{plan_name}"
        if not isinstance(plan, dict):
            yield _finding("IVS-L013", "error", policy, f"{where} must be an object", where)
            continue
        # A plan that only appends or removes amends an inherited plan; AWS checks the
        # effective policy, so a missing field there is a warning, not an error.
        severity: Severity = "error" if _has_assign(plan) else "warning"
        missing: list[str] = [
            f"{where}.{k}" for k in ("regions", "rules", "selections") if k not in plan
        ]
        yield from _not_object(policy, plan.get("rules"), f"{where}.rules")
        for rule_name, rule in _entries(plan.get("rules")):
            for required in ("schedule_expression", "target_backup_vault_name"):
                if _assigned(rule.get(required)) in (None, ""):
                    missing.append(f"{where}.rules.{rule_name}.{required}")
            start = _assigned(rule.get("start_backup_window_minutes"))
            if start is not None and (not str(start).isdigit() or int(str(start)) < 60):
                yield _finding(
                    "IVS-L010",
                    "error",
                    policy,
                    f"{where}.rules.{rule_name}.start_backup_window_minutes must be at least 60 "
                    f"(found {shown(start)})",
                    where,
                )
            copies = rule.get("copy_actions")
            yield from _not_object(policy, copies, f"{where}.rules.{rule_name}.copy_actions")
            for copy_name, copy in _entries(copies):
                if _assigned(copy.get("target_backup_vault_arn")) is None:
                    missing.append(
                        f"{where}.rules.{rule_name}.copy_actions.{copy_name}.target_backup_vault_arn"
                    )
        selections = plan.get("selections")
        yield from _not_object(policy, selections, f"{where}.selections")
        if isinstance(selections, dict):
            for group, required_fields in (
                ("tags", ("iam_role_arn", "tag_key", "tag_value")),
                ("resources", ("iam_role_arn", "resource_types")),
            ):
                chosen = selections.get(group)
                yield from _not_object(policy, chosen, f"{where}.selections.{group}")
                for sel_name, sel in _entries(chosen):
                    for required in required_fields:
                        if _assigned(sel.get(required)) in (None, "", []):
                            missing.append(f"{where}.selections.{group}.{sel_name}.{required}")
        for item in missing:
            yield _finding(
                "IVS-L010", severity, policy, f"required backup field missing: {item}", where
            )


def _declarative_policy(policy: str, attributes: dict[str, Any]) -> Iterator[LintFinding]:
    for attribute, body in attributes.items():
        if attribute.startswith("@@"):
            continue
        where = f"ec2_attributes.{attribute}"
        if attribute not in DECLARATIVE_ATTRIBUTES:
            known = ", ".join(sorted(DECLARATIVE_ATTRIBUTES))
            yield _finding(
                "IVS-L013",
                "error",
                policy,
                f"unknown EC2 attribute {shown(attribute)} (known: {known})",
                where,
            )
            continue
        fields = DECLARATIVE_ATTRIBUTES[attribute]
        if not fields or not isinstance(body, dict):
            continue
        for field_name, value in body.items():
            if field_name.startswith("@@"):
                continue
            if field_name not in fields:
                yield _finding(
                    "IVS-L013",
                    "error",
                    policy,
                    f"unknown field {shown(field_name)} in {where}",
                    where,
                )
                continue
            allowed = fields[field_name]
            assigned = _assigned(value)
            if allowed is not None and assigned is not None and not _one_of(assigned, allowed):
                yield _finding(
                    "IVS-L013",
                    "error",
                    policy,
                    f"{where}.{field_name} = {shown(assigned)}; expected one of {sorted(allowed)}",
                    where,
                )
        if attribute == "vpc_block_public_access":
            block = body.get("internet_gateway_block")
            mode = _assigned(block.get("mode")) if isinstance(block, dict) else None
            if mode is not None and not _one_of(mode, _VPC_BPA_MODES):
                yield _finding(
                    "IVS-L013",
                    "error",
                    policy,
                    f"{where}.internet_gateway_block.mode = {shown(mode)}; "
                    f"expected one of {sorted(_VPC_BPA_MODES)}",
                    where,
                )
        if attribute == "instance_metadata_defaults":
            hop = _assigned(body.get("http_put_response_hop_limit"))
            if hop is not None and not (
                str(hop).lstrip("-").isdigit() and -1 <= int(str(hop)) <= 64
            ):
                yield _finding(
                    "IVS-L013",
                    "error",
                    policy,
                    f"{where}.http_put_response_hop_limit = {shown(hop)}; expected -1 to 64",
                    where,
                )
