"""The exposure graph as GraphML (``ivs exposure --format graphml``), for Gephi or yEd.

GraphML holds scalar attributes only, so each node and edge keeps its strings, numbers
and booleans; lists of scalars become comma-separated text, tag maps become JSON text,
and the typed ``record`` (and anything else that is not plain data) is dropped. Every
node also gets ``findings`` (how many findings name it as their resource) and
``severity`` (the worst of them, ``none`` without), to colour the graph by risk.
Characters XML 1.0 forbids (tag values may hold anything: control characters, lone
surrogates, U+FFFE and U+FFFF) are removed, so the file is always well-formed XML.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import networkx as nx

from core.jsonio import atomic_write_text
from graph.report import enis_of, worst

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(result: Any, out: Path) -> None:
    """Write the graph of ``result`` (a ``graph.findings.ExposureResult``) to ``out``."""
    graph = scalar_graph(result.graph, result.document)
    atomic_write_text(out, "\n".join(nx.generate_graphml(graph, prettyprint=True)) + "\n")


def scalar_graph(graph: nx.MultiDiGraph, document: dict[str, Any]) -> nx.MultiDiGraph:
    """A copy of ``graph`` whose attributes GraphML can hold, annotated with findings."""
    hits: dict[str, list[str]] = {}
    for finding in document["findings"]:
        targets = [finding["resource"], *enis_of(graph, finding["resource"])]
        for node in dict.fromkeys(targets):
            hits.setdefault(node, []).append(finding["severity"])
    out = nx.MultiDiGraph()
    for key in ("snapshot", "collected_at"):
        value = _scalar(graph.graph.get(key))
        if value is not None:
            out.graph[key] = value
    for node, data in graph.nodes(data=True):
        attrs = _scalars(data)
        severities = hits.get(node, [])
        attrs["findings"] = len(severities)
        attrs["severity"] = worst(severities) or "none"
        out.add_node(_text(str(node)), **attrs)
    for src, dst, key, data in graph.edges(keys=True, data=True):
        out.add_edge(_text(str(src)), _text(str(dst)), key=key, **_scalars(data))
    return out


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in data.items():
        converted = _scalar(value)
        if converted is not None:
            out[name] = converted
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        if all(isinstance(v, str | int | float | bool) for v in items):
            return _text(",".join(str(v) for v in items))
        if all(isinstance(v, list | tuple) for v in items):  # listeners: [(protocol, port)]
            return _text(",".join(":".join(str(p) for p in v) for v in items))
        return None
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return _text(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return None


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)
