"""What changed since an earlier findings document (``ivs exposure --baseline OLD``).

A finding is the same finding when its ``id`` is (rule, resource, protocol, ports and
source; ``graph.findings.finding_id``). Against the old document each finding of this run
gets ``"change": "new" | "unchanged"``, and the document gets ``fixed``: the old findings
that are gone from places this run assessed, with the data their rule rests on.

Gone is not fixed when this run could not have seen it: an old finding whose account-region
was not assessed this time, or where a snapshot kind its rule ``needs`` was not seen (the
volumes could not be listed, the organization's policies could not be read), is neither
fixed nor new; ``baseline.not_reassessed`` counts them. An old finding of a rule this
version does not know is counted there too.

>>> old = {"generated_at": "2026-11-01T00:00:00Z", "findings": [
...     {"id": "ivs-a", "rule": "ebs-volume-unencrypted", "account": "1", "region": "r"},
...     {"id": "ivs-b", "rule": "ebs-volume-unencrypted", "account": "1", "region": "r"},
...     {"id": "ivs-c", "rule": "ebs-volume-unencrypted", "account": "2", "region": "r"}]}
>>> new = {"assessed": [{"account": "1", "region": "r"}], "kinds_not_seen": {},
...        "findings": [{"id": "ivs-a"}, {"id": "ivs-d"}]}
>>> compare(new, old, "old.json")
>>> [f["change"] for f in new["findings"]], [f["id"] for f in new["fixed"]]
(['unchanged', 'new'], ['ivs-b'])
>>> {k: new["baseline"][k] for k in ("new", "unchanged", "fixed", "not_reassessed")}
{'new': 1, 'unchanged': 1, 'fixed': 1, 'not_reassessed': 1}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import InputError, shown
from core.jsonio import read_json
from core.snapshot_kinds import GLOBAL, ORGANIZATION, SNAPSHOT_KINDS_BY_KEY
from graph.rules import RULES_BY_ID

#: What each finding of an old document must hold for the comparison.
_NEEDED = ("id", "rule", "account", "region")


def read_baseline(path: str | Path) -> dict[str, Any]:
    """The findings document in ``path`` (an earlier ``ivs exposure --format json``);
    :class:`InputError` naming the file and field when it is not one."""
    document = read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise InputError(str(path), "not a findings document (ivs exposure --format json)")
    for n, finding in enumerate(document["findings"]):
        if not isinstance(finding, dict):
            raise InputError(
                str(path), f"must be an object, not {shown(finding)}", f"findings[{n}]"
            )
        for key in _NEEDED:
            value = finding.get(key)
            if not (isinstance(value, str) or (key != "id" and value is None)):
                raise InputError(
                    str(path), f"must be text, not {shown(value)}", f"findings[{n}].{key}"
                )
    return document


def compare(document: dict[str, Any], old: Mapping[str, Any], source: str) -> None:
    """Mark ``document``'s findings new or unchanged against ``old``; add ``fixed`` and
    ``baseline`` (the old file, when it was made, and the counts)."""
    before = {f["id"] for f in old["findings"]}
    now = set()
    new = 0
    for finding in document["findings"]:
        now.add(finding["id"])
        if finding["id"] in before:
            finding["change"] = "unchanged"
        else:
            finding["change"] = "new"
            new += 1
    reassessed = _Reassessed(document)
    fixed = []
    not_reassessed = 0
    for finding in old["findings"]:
        if finding["id"] in now:
            continue
        if reassessed(finding):
            fixed.append(finding)
        else:
            not_reassessed += 1
    document["fixed"] = fixed
    document["baseline"] = {
        "file": source,
        "generated_at": old.get("generated_at"),
        "new": new,
        "unchanged": len(document["findings"]) - new,
        "fixed": len(fixed),
        "not_reassessed": not_reassessed,
    }


class _Reassessed:
    """Whether this run looked again where an old finding was, with what its rule needs."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.assessed = {(p["account"], p["region"]) for p in document.get("assessed", [])}
        self.not_seen = {
            kind: set(places) for kind, places in (document.get("kinds_not_seen") or {}).items()
        }

    def __call__(self, finding: Mapping[str, Any]) -> bool:
        rule = RULES_BY_ID.get(finding["rule"])
        account, region = finding["account"], finding["region"]
        if rule is None or (account, region) not in self.assessed:
            return False
        for kind in rule.needs:
            scope = SNAPSHOT_KINDS_BY_KEY[kind].scope
            if scope == "organization":
                place = ORGANIZATION
            elif scope == "account/global":
                if (account, GLOBAL) not in self.assessed:
                    return False
                place = f"{account}/{GLOBAL}"
            else:
                place = f"{account}/{region}"
            if place in self.not_seen.get(kind, ()):
                return False
        return True
