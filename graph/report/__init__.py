"""Reports of an exposure analysis: one module per format, each with ``render(result, out)``.

:func:`write` writes the findings document as JSON, or imports ``graph.report.<format>``
for the others: ``html`` (the interactive report), ``sarif`` (code scanning), ``graphml``
(Gephi, yEd) and ``md`` (a pull-request comment). ``asff`` converts findings to the AWS
Security Finding Format; publishing them is ``core.securityhub`` (the graph package makes
no AWS call).

Reports read each rule's title, rationale and remediation from ``graph.rules`` and repeat
none of them; the helpers here are what every format shares.
"""

from __future__ import annotations

import importlib
import weakref
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from core.jsonio import atomic_write_text
from core.vocabulary import SEVERITIES, SEVERITY_RANK
from graph.rules import RULES, RULES_BY_ID, ExposureRule

# instance id -> its ENIs, per graph (instances are not nodes of the graph)
_INSTANCE_ENIS: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, list[tuple[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)


if TYPE_CHECKING:
    from graph.findings import ExposureResult

#: Every output format of ``ivs exposure --format``.
FORMATS: tuple[str, ...] = ("json", "sarif", "html", "graphml", "md")

__all__ = [
    "FORMATS",
    "RULES",
    "SEVERITIES",
    "by_control",
    "by_rule",
    "by_severity",
    "resource_label",
    "rule_of",
    "worst",
    "write",
]


def write(result: ExposureResult, fmt: str, out: str | Path) -> None:
    """Write ``result`` to ``out`` in ``fmt`` (one of :data:`FORMATS`), atomically."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    if fmt == "json":
        from graph.findings import json_chunks

        atomic_write_text(out, json_chunks(result.document))
        return
    importlib.import_module(f"graph.report.{fmt}").render(result, Path(out))


def rule_of(finding: dict[str, Any]) -> ExposureRule:
    return RULES_BY_ID[finding["rule"]]


def by_severity(findings: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Findings per severity, every severity present (highest first)."""
    counts = Counter(f["severity"] for f in findings)
    return {sev: counts.get(sev, 0) for sev in SEVERITIES}


def by_control(findings: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Findings per CCM control (a finding counts once under each of its controls)."""
    counts = Counter(c for f in findings for c in f.get("controls", []))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def by_rule(findings: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Findings per rule id, in the order of ``graph.rules.RULES``."""
    counts = Counter(f["rule"] for f in findings)
    return {rule.id: counts[rule.id] for rule in RULES if counts.get(rule.id)}


def worst(severities: Iterable[str]) -> str | None:
    """The highest of ``severities`` (None for none)."""
    best: str | None = None
    for sev in severities:
        if best is None or SEVERITY_RANK[sev] > SEVERITY_RANK[best]:
            best = sev
    return best


def resource_label(graph: nx.MultiDiGraph, resource: str) -> str | None:
    """The ``Name`` of ``resource`` (its graph label, or an instance's ENI label).

    None when the graph has no name for it other than its id.
    """
    node = graph.nodes.get(resource)
    if node is not None:
        label = node.get("label")
        return str(label) if label and label != resource else None
    # instances are not nodes: their ENIs carry the instance's Name tag as label
    for _eni, data in _enis_of_instance(graph, resource):
        label = data.get("label")
        if label and label != resource:
            return str(label)
    return None


def _enis_of_instance(graph: nx.MultiDiGraph, instance: str) -> list[tuple[str, dict[str, Any]]]:
    cache = _INSTANCE_ENIS.get(graph)
    if cache is None:
        cache = {}
        for key, data in graph.nodes(data=True):
            if data.get("kind") == "eni" and data.get("instance"):
                cache.setdefault(data["instance"], []).append((key, data))
        _INSTANCE_ENIS[graph] = cache
    return list(cache.get(instance, []))


def enis_of(graph: nx.MultiDiGraph, resource: str) -> list[str]:
    """The ENI ids behind a finding's ``resource`` (an instance's, or the ENI itself)."""
    node = graph.nodes.get(resource)
    if node is not None:
        return [resource] if node.get("kind") == "eni" else []
    return [key for key, _data in _enis_of_instance(graph, resource)]
