"""Findings as SARIF 2.1.0 (``ivs exposure --format sarif``), for code-scanning tools.

One ``reportingDescriptor`` per exposure rule (title, rationale, remediation and the CCM
controls as tags, read from ``graph.rules``), one ``result`` per finding:

- ``locations``: the snapshot file that holds the resource's record (relative to the
  ``SNAPSHOT`` base, so the log points at evidence anyone can open) and a logical
  location ``account/region/vpc/resource``;
- ``partialFingerprints["ivsFindingId/v1"]``: the finding's stable id, so a scanner
  matches a finding across runs;
- ``codeFlows``: the hop-by-hop path, one thread-flow location per hop with its reason;
- the account's name (``properties.accountName``, and in the message);
- ``suppressions`` (external, accepted, with the reason, owner and expiry) for a finding
  whose risk the spec accepts; ``baselineState`` (``new``, ``unchanged``) against a
  baseline, the fixed ones' ids in the run's ``properties.fixed``.

GitHub code scanning takes the severity it shows from the rule's ``security-severity``,
not the result's (docs.github.com, "SARIF support for code scanning", reportingDescriptor
object). A finding graded below its rule's severity (narrow internet sources) therefore
refers to a rule of its own, ``<rule>/<severity>``, which differs from the rule only in
that number and level; each result also carries its own ``security-severity``.

Accounts and regions that were not assessed are listed in the run's ``properties`` and as
``toolExecutionNotifications``: a scan that could not look is never reported as clean.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from core.jsonio import write_json
from graph.report import RULES, rule_of
from graph.rules import ExposureRule, fleet, iam

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "ivs-governance"
FINGERPRINT = "ivsFindingId/v1"

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub code scanning ranks security results by this number (CVSS-like, 0.0-10.0).
_SECURITY_SEVERITY = {"critical": "9.5", "high": "7.5", "medium": "5.0", "low": "2.5"}

# The snapshot file that holds a resource's record, by id prefix.
_RECORD_FILE = {
    "i": "Reservations.json",
    "eni": "NetworkInterfaces.json",
    "sg": "SecurityGroups.json",
    "vpc": "Vpcs.json",
    "acl": "NetworkAcls.json",
    "subnet": "Subnets.json",
    "vol": "Volumes.json",
    "snap": "Snapshots.json",
    "ami": "Images.json",
}


#: What the code flow of an IAM finding walks (network rules: the traffic, hop by hop).
_FLOW_WORDS = {
    rule.id: "Who gets there, step by step: each call and the policy statements behind it."
    for rule in iam.RULES
}
_FLOW_WORDS.update(
    {rule.id: "What the snapshot holds of it, and what makes it a finding." for rule in fleet.RULES}
)
_FLOW_WORDS["internet-exposed-instance-escalation"] = (
    "From the internet to the instance hop by hop, then from its role step by step."
)


def render(result: Any, out: Path) -> None:
    """Write the SARIF log of ``result`` (a ``graph.findings.ExposureResult``) to ``out``."""
    # compact: a large organization's log is tens of MB when indented
    write_json(out, sarif_log(result.document), compact=True)


def sarif_log(document: dict[str, Any]) -> dict[str, Any]:
    """The SARIF 2.1.0 log of a findings document (plain data)."""
    descriptors = [_rule(rule) for rule in RULES]
    index = {rule.id: i for i, rule in enumerate(RULES)}
    # graded findings: a rule of their own, so that GitHub shows their severity
    for finding in document["findings"]:
        rule = rule_of(finding)
        if finding["severity"] != rule.severity:
            graded = f"{rule.id}/{finding['severity']}"
            if graded not in index:
                index[graded] = len(descriptors)
                descriptors.append(_rule(rule, finding["severity"]))
    names = document.get("account_names") or {}
    snapshot = document.get("snapshot")
    layout = _Layout(snapshot)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": _version(),
                "semanticVersion": _version(),
                "rules": descriptors,
            }
        },
        "automationDetails": {"id": "ivs-exposure/"},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index, layout, names) for f in document["findings"]],
        "invocations": [_invocation(document)],
        "properties": {
            "assessed": document.get("assessed", []),
            "notAssessed": document.get("not_assessed", []),
            "summary": document.get("summary", {}),
            "accountNames": names,
        },
    }
    if "baseline" in document:
        run["properties"]["baseline"] = document["baseline"]
        run["properties"]["fixed"] = [f["id"] for f in document.get("fixed", [])]
    if snapshot:
        run["originalUriBaseIds"] = {
            "SNAPSHOT": {
                "uri": Path(snapshot).resolve().as_uri() + "/",
                "description": {"text": "The snapshot directory the analysis read."},
            }
        }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _version() -> str:
    try:
        return metadata.version("ivs-governance")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _rule(rule: ExposureRule, graded: str | None = None) -> dict[str, Any]:
    """The rule's descriptor; ``graded``: the variant for findings of that severity."""
    severity = graded or rule.severity
    name = "".join(part.capitalize() for part in rule.id.split("-"))
    controls = ", ".join(rule.controls)
    return {
        "id": f"{rule.id}/{graded}" if graded else rule.id,
        "name": name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {
            "text": f"{rule.rationale}\n\nRemediation: {rule.remediation}\n\nControls: {controls}",
            "markdown": f"{rule.rationale}\n\n**Remediation.** {rule.remediation}\n\n"
            f"**Controls.** {controls}",
        },
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {
            "tags": ["security", "network", *rule.controls],
            "precision": "high",
            "problem.severity": _problem_severity(severity),
            "security-severity": _SECURITY_SEVERITY[severity],
            "severity": severity,
        },
    }


def _problem_severity(severity: str) -> str:
    return {"critical": "error", "high": "error", "medium": "warning"}.get(
        severity, "recommendation"
    )


def message_text(finding: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """One sentence: what reaches what, on which ports, and where (the account by name)."""
    rule = rule_of(finding)
    account = finding["account"]
    name = (names or {}).get(account or "")
    shown = f"{name} ({account})" if name else account
    where = "/".join(str(x) for x in (shown, finding["region"]) if x)
    traffic = ""
    if finding.get("protocol"):
        traffic = f" ({finding['protocol']} {finding['ports']})"
    source = finding["source"]
    origin = "" if source in (finding["resource"], finding.get("vpc")) else f" from {source}"
    return f"{rule.title}: {finding['resource']}{origin}{traffic} in {where}."


def _result(
    finding: dict[str, Any], index: dict[str, int], layout: _Layout, names: dict[str, str]
) -> dict[str, Any]:
    rule = rule_of(finding)
    rule_id = (
        rule.id if finding["severity"] == rule.severity else f"{rule.id}/{finding['severity']}"
    )
    logical_parts = [finding["account"], finding["region"], finding.get("vpc"), finding["resource"]]
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": finding["resource"],
                "fullyQualifiedName": "/".join(str(p) for p in logical_parts if p),
                "kind": "resource",
            }
        ]
    }
    record = layout.record_file(finding)
    if record is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": record, "uriBaseId": "SNAPSHOT"}
        }
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index[rule_id],
        "level": _LEVEL[finding["severity"]],
        "kind": "fail",
        "message": {"text": message_text(finding, names)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: finding["id"]},
        "properties": {
            "rule": rule.id,
            "severity": finding["severity"],
            "security-severity": _SECURITY_SEVERITY[finding["severity"]],
            "accountName": names.get(finding["account"] or ""),
            "controls": finding["controls"],
            "account": finding["account"],
            "region": finding["region"],
            "vpc": finding.get("vpc"),
            "resource": finding["resource"],
            "source": finding["source"],
            "protocol": finding.get("protocol"),
            "ports": finding.get("ports"),
            "remediation": rule.remediation,
        },
    }
    accepted = finding.get("accepted")
    if accepted:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{accepted['reason']} (owner {accepted['owner']}, accepted "
                f"until {accepted['expires']}, by {accepted['by']})",
            }
        ]
    if finding.get("change"):
        result["baselineState"] = finding["change"]
    if finding.get("path"):
        result["codeFlows"] = [
            {
                "message": {
                    "text": _FLOW_WORDS.get(rule.id, "How the traffic gets there, hop by hop.")
                },
                "threadFlows": [
                    {
                        "locations": [
                            {
                                "location": {
                                    "logicalLocations": [{"name": hop["hop"]}],
                                    "message": {"text": hop["why"]},
                                },
                                "executionOrder": n,
                            }
                            for n, hop in enumerate(finding["path"], start=1)
                        ]
                    }
                ],
            }
        ]
    return result


class _Layout:
    """Where a snapshot keeps a resource's record: ``account/region/`` or ``region/``."""

    def __init__(self, snapshot: str | None) -> None:
        self.root = Path(snapshot) if snapshot else None
        self.flat: dict[tuple[str, str], bool] = {}

    def record_file(self, finding: dict[str, Any]) -> str | None:
        resource, region, account = (
            finding["resource"],
            finding.get("region"),
            finding.get("account"),
        )
        if resource.startswith("arn:aws:elasticloadbalancing"):
            name = "LoadBalancers.json"
        elif resource.startswith("arn:") and ":iam::" in resource:
            name = "AccountAuthorizationDetails.json"  # the principal, in account/global
        else:
            name = _RECORD_FILE.get(resource.split("-", 1)[0], "")
        if not name or not region:
            return None
        if not account or self._flat(account, region):
            return f"{region}/{name}"
        return f"{account}/{region}/{name}"

    def _flat(self, account: str, region: str) -> bool:
        key = (account, region)
        if key not in self.flat:
            root = self.root
            self.flat[key] = (
                root is not None
                and not (root / account / region).is_dir()
                and (root / region).is_dir()
            )
        return self.flat[key]


def _invocation(document: dict[str, Any]) -> dict[str, Any]:
    notes = [
        {
            "level": "warning",
            "message": {
                "text": f"Not assessed: {gap.get('account')}/{gap.get('region')}: "
                f"{gap.get('error')}"
            },
            "descriptor": {"id": "not-assessed"},
        }
        for gap in document.get("not_assessed", [])
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation
