"""Accepted risks: which findings and audit records the spec's ``ivs:accepted`` covers.

An acceptance (``core.spec.Acceptance``) names one finding by id, or a rule (a finding's
``rule``, an audit record's ``control``) with patterns for the resource, the account (its
id or its name) and the region. :func:`accept` marks each record it covers:

- ``"accepted": {"by", "reason", "owner", "expires"}`` while it holds (up to and including
  ``expires``): the record stays reported, and does not fail ``--fail-on``;
- ``"acceptance_expired": {...}`` once it has expired: the record counts again, and says
  which acceptance lapsed.

An active acceptance wins over an expired one; among several, the first in the spec. The
register it returns lists every acceptance with its status (``active``, ``expired``) and
how many records it matched, so that one matching nothing is seen (a typo, or the risk is
gone) and reported as a warning.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.spec import Acceptance


@dataclass(frozen=True)
class _Compiled:
    index: int
    acceptance: Acceptance
    resource: Callable[[str], Any]
    account: Callable[[str], Any]
    region: Callable[[str], Any]
    active: bool


def _pattern(text: str) -> Callable[[str], Any]:
    if text == "*":
        return _any
    return re.compile(fnmatch.translate(text)).match  # case-sensitive, unlike fnmatch()


def _any(_value: str) -> bool:
    return True


def _marking(acceptance: Acceptance) -> dict[str, str]:
    return {
        "by": acceptance.subject,
        "reason": acceptance.reason,
        "owner": acceptance.owner,
        "expires": acceptance.expires.isoformat(),
    }


def accept(
    records: Iterable[MutableMapping[str, Any]],
    acceptances: Sequence[Acceptance],
    today: dt.date,
    *,
    rule_key: str = "rule",
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Mark each of ``records`` an acceptance covers; return the register (one entry per
    acceptance: what it accepts, why, whose, until when, ``status`` and ``matched``).

    >>> from core.spec import Acceptance
    >>> web = Acceptance(rule="internet-exposed-port", resource="i-web*", reason="web tier",
    ...                  owner="web team", expires=dt.date(2027, 6, 30))
    >>> old = Acceptance(id="ivs-0123456789abcdef", reason="pilot", owner="ops",
    ...                  expires=dt.date(2026, 1, 31))
    >>> found = [{"id": "ivs-0123456789abcdef", "rule": "internet-exposed-admin-port",
    ...           "account": "1", "region": "r", "resource": "i-bastion"},
    ...          {"id": "ivs-1", "rule": "internet-exposed-port", "account": "1",
    ...           "region": "r", "resource": "i-web-1"}]
    >>> [(e["by"], e["status"], e["matched"]) for e in accept(found, [web, old],
    ...                                                      dt.date(2026, 12, 2))]
    [('internet-exposed-port on i-web*', 'active', 1), ('ivs-0123456789abcdef', 'expired', 1)]
    >>> found[1]["accepted"]["owner"], found[0]["acceptance_expired"]["expires"]
    ('web team', '2026-01-31')
    """
    names = names or {}
    by_id: dict[str, list[_Compiled]] = {}
    by_rule: dict[str, list[_Compiled]] = {}
    for index, item in enumerate(acceptances):
        compiled = _Compiled(
            index,
            item,
            _pattern(item.resource),
            _pattern(item.account),
            _pattern(item.region),
            item.expires >= today,
        )
        if item.id is not None:
            by_id.setdefault(item.id, []).append(compiled)
        else:
            by_rule.setdefault(str(item.rule), []).append(compiled)
    matched = [0] * len(acceptances)
    markings = [_marking(item) for item in acceptances]
    if acceptances:
        for record in records:
            candidates = by_id.get(record.get("id") or "", [])
            rules = by_rule.get(record.get(rule_key) or "")
            if rules:
                account = str(record.get("account") or "")
                name = names.get(account, "")
                region = str(record.get("region") or "")
                resource = str(record.get("resource") or "")
                candidates = candidates + [
                    c
                    for c in rules
                    if c.resource(resource)
                    and (c.account(account) or (name and c.account(name)))
                    and c.region(region)
                ]
            if not candidates:
                continue
            for c in candidates:
                matched[c.index] += 1
            chosen = min(candidates, key=lambda c: (not c.active, c.index))
            key = "accepted" if chosen.active else "acceptance_expired"
            record[key] = markings[chosen.index]
    return [
        {
            **markings[n],
            "status": "active" if item.expires >= today else "expired",
            "matched": matched[n],
        }
        for n, item in enumerate(acceptances)
    ]


def warnings(register: Iterable[Mapping[str, Any]], what: str = "finding") -> list[str]:
    """One line per acceptance that matched nothing or has expired.

    >>> for line in warnings(
    ...     [{"by": "r on x", "status": "expired", "expires": "2026-01-31", "matched": 2},
    ...      {"by": "ivs-1", "status": "active", "expires": "2027-01-01", "matched": 0}]):
    ...     print(line)
    accepted risk r on x expired on 2026-01-31: its 2 findings count again
    accepted risk ivs-1 matches no finding
    """
    out = []
    for entry in register:
        if entry["status"] == "expired" and entry["matched"]:
            n = entry["matched"]
            out.append(
                f"accepted risk {entry['by']} expired on {entry['expires']}: its {n:,} "
                f"{what}{'' if n == 1 else 's'} count{'s' if n == 1 else ''} again"
            )
        elif entry["status"] == "expired":
            out.append(f"accepted risk {entry['by']} expired on {entry['expires']}")
        elif not entry["matched"]:
            out.append(f"accepted risk {entry['by']} matches no {what}")
    return out
