"""The findings document of a snapshot: the rules of ``graph.rules`` run, their findings
joined, and the document written (``ivs exposure``).

``analyse(snapshot, zones, exposure)`` returns the findings document (DESIGN.md,
"Findings (JSON)") as plain data::

    {"snapshot", "generated_at", "collected_at", "account_names", "assessed",
     "not_assessed", "kinds_not_seen", "enis_not_placed", "not_placed", "summary",
     "findings": [...], "zone_matrix": [...], "inventory": [...], "acceptances": [...]}

Each finding has ``id`` (a stable hash of rule, resource, protocol, ports and source),
``rule``, ``severity``, ``controls``, ``account``, ``region``, ``vpc``, ``resource``
(the instance when the ENI belongs to one, else the ENI; the group, VPC or ACL for
rules about those), ``protocol`` and ``ports`` (``"22,3389"``, ``"0-65535"``; both
``null`` for rules about configuration rather than traffic), ``source`` (``internet``,
``zone:dev``, a VPC id), ``path`` (hop-by-hop: the route and table, the network-ACL rule
number, the security-group rule that allowed each hop) and ``remediation``.

Findings of the ``internet-exposed-*`` rules also have ``source_cidrs``: the public
prefixes the path really admits (security-group rules and prefix lists, narrowed by the
network ACL and by the routes: a public range a more specific route sends elsewhere or
drops is no source; as few prefixes as say it, at most ``SOURCE_CIDRS_SHOWN``) and
``source_cidrs_total``, how many prefixes that takes in all. When those sources are narrow
(``graph.rules.NARROW_SOURCE_ADDRESSES``) the severity is the rule's
``narrow_source_severity`` and the path's internet hop says ``from 203.0.113.0/24 only``.
The id does not depend on them, so a finding keeps its id when its sources change.

``enis_not_placed`` counts the ENIs that cannot be placed at all, so are not assessed
(their subnet is not in the snapshot, or none of their addresses lies in its blocks), with
a sample of their ids. ``not_placed`` says, for everything the analysis read but cannot
place (an ENI, one address of an ENI, an Elastic IP, a load balancer's target, a value
that is not one of AWS's), why: ``{"count", "by_kind", "items": [{"kind", "account",
"region", "resource", "reason"}]}``, the first ``NOT_PLACED_SHOWN`` items in order.
``zone_matrix`` lists, for each (from zone, to zone) that some path joins, the traffic
the path carries and the part the zone policy forbids. ``inventory`` counts, per
account-region with fleet data, what the posture rules judged (volumes, owned snapshots
and images, instances in scope): the totals their findings are out of. ``kinds_not_seen`` maps each
snapshot file kind to the ``account/region`` places that had no such file.
``account_names`` maps account ids to names (the spec's, else Organizations'), for every
human output. ``acceptances`` is the spec's register of accepted risks (``core.accepted``):
a finding one covers has ``accepted`` (and does not fail ``--fail-on``), or
``acceptance_expired`` once it lapsed; ``summary.accepted`` counts the accepted ones
(the severity counts count every finding).

Findings are raised only where a path really exists (security group and network ACL and
route and a public address where the internet is involved). Each family of rules under
``graph.rules`` says when its rules fire; this module runs them, joins their findings and
writes the document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import networkx as nx

from core.accepted import accept
from core.jsonio import minify, minify_line_chunks, pretty
from core.memory import without_gc
from core.snapshot_kinds import GLOBAL
from core.spec import Exposure, Iam, Spec, Zones
from core.vocabulary import SEVERITIES, SEVERITY_RANK
from graph.build import build_graph
from graph.iam.control import build_control, instance_refs
from graph.iam.snapshot import IamSnapshot, load_iam
from graph.model import NotPlaced
from graph.ports import PortSet
from graph.reach import Hop, Network, Sources, source_cidrs, spans_size, spans_union
from graph.rules import (
    RULES_BY_ID,
    Facts,
    Found,
    fleet,
    graded_severity,
    hygiene,
    iam,
    internet,
    segmentation,
)
from graph.snapshot import load_snapshot
from graph.zones import ZonePolicy, assign_zones

#: Source prefixes listed in a finding (``source_cidrs_total`` counts them all).
SOURCE_CIDRS_SHOWN = 20
#: Source prefixes named in the path's internet hop of a narrow finding.
SOURCE_CIDRS_IN_PATH = 3
#: Items listed under ``not_placed`` (``count`` counts them all).
NOT_PLACED_SHOWN = 200


class ExposureResult:
    """What a report renderer gets: the findings document and the graph behind it."""

    def __init__(self, document: dict[str, Any], graph: nx.MultiDiGraph) -> None:
        self.document = document
        self.graph = graph


def render_json(document: dict[str, Any]) -> str:
    """The findings document as JSON text: indented, but one finding per line.

    Pretty-printing every finding would be slow (the standard library's indenting
    encoder is pure Python) and long; one line per finding stays readable and diffable.
    """
    return "".join(json_chunks(document))


def json_chunks(document: dict[str, Any]) -> Iterator[str]:
    """The text of :func:`render_json` in pieces, for writing it as it is made: at a
    million ENIs the whole text and its lines would weigh a gigabyte more.

    >>> print("".join(json_chunks({"snapshot": "s", "findings": [{"id": 1}, {"id": 2}]})), end="")
    {
      "snapshot": "s",
      "findings": [
        {"id":1},
        {"id":2}
      ]
    }
    """
    yield "{"
    keys = list(document)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = document[key]
        if key in LISTED_BY_LINE and isinstance(value, list) and value:
            yield f"\n  {minify(key)}: [\n"
            yield from minify_line_chunks(value, "    ")
            yield f"\n  ]{comma}"
        else:
            text = pretty(value).rstrip("\n").replace("\n", "\n  ")
            yield f"\n  {minify(key)}: {text}{comma}"
    yield "\n}\n"


#: The document's lists written one item per line.
LISTED_BY_LINE = frozenset({"findings", "fixed", "zone_matrix", "inventory"})


def analyse(
    snapshot_path: str | Path,
    zones: Zones | None = None,
    exposure: Exposure | None = None,
    access: Iam | None = None,
) -> dict[str, Any]:
    """The findings document of a snapshot directory (defaults: DESIGN.md's zones)."""
    with without_gc():
        graph, iam_snapshot = read_snapshot(snapshot_path)
        return analyse_graph(
            graph, zones or Zones(), exposure or Exposure(), iam_snapshot, access or Iam()
        )


def read_snapshot(snapshot_path: str | Path) -> tuple[nx.MultiDiGraph, IamSnapshot]:
    """The exposure graph and the IAM of a snapshot directory. The network reader goes
    first (it says what is wrong with the directory); instance records are kept in the
    graph only when there is IAM to analyse them with (their memory, at 100k ENIs)."""
    read = load_snapshot(snapshot_path)
    iam_snapshot = load_iam(snapshot_path)
    return build_graph(read, instances=bool(iam_snapshot.accounts)), iam_snapshot


def analyse_graph(
    graph: nx.MultiDiGraph,
    zones: Zones,
    exposure: Exposure,
    iam_snapshot: IamSnapshot | None = None,
    access: Iam | None = None,
    spec: Spec | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The findings document of an exposure graph, and of the snapshot's IAM when given;
    the fleet posture against ``spec`` (its parameters, ``ivs:fleet`` and controls), and
    its accepted risks as they stand on ``today`` (default: the UTC date)."""
    net = Network(graph, assign_zones(graph, zones))
    facts = Facts(graph, net, ZonePolicy(zones), exposure)
    paths = segmentation.zone_paths(facts)
    organization = iam_snapshot.organization if iam_snapshot is not None else None
    posture = fleet.posture_of(
        spec,
        graph.graph.get("collected_at"),
        organization.accounts if organization is not None else (),
        organization.id if organization is not None else None,
    )
    findings = write_findings(
        merge(
            chain(
                internet.decide(facts),
                segmentation.decide(facts, paths),
                hygiene.decide(facts),
                fleet.decide(graph.graph.get("fleet", []), posture),
            )
        )
    )
    assessed = list(graph.graph.get("assessed", []))
    not_assessed = list(graph.graph.get("not_assessed", []))
    kinds_not_seen = dict(graph.graph.get("kinds_not_seen", {}))
    if iam_snapshot is not None and (iam_snapshot.accounts or iam_snapshot.not_assessed):
        instances = instance_refs(graph.graph.get("instances", []), graph, zones, iam_snapshot)
        regions = sorted({str(place["region"]) for place in graph.graph.get("assessed", [])})
        control = build_control(iam_snapshot, instances, regions)
        findings.extend(
            write_findings(merge(iam.decide(control, access or Iam(), zones, findings)))
        )
        findings.sort(key=_order)
        not_assessed = sorted(
            [*not_assessed, *iam_snapshot.not_assessed],
            key=lambda r: (r["account"], r["region"]),
        )
        # an account whose IAM was read is assessed at ``global`` (its principals)
        assessed = sorted(
            [*assessed, *({"account": a, "region": GLOBAL} for a in iam_snapshot.accounts)],
            key=lambda r: (r["account"], r["region"]),
        )
    if iam_snapshot is not None:
        for kind, places in iam_snapshot.kinds_not_seen.items():
            kinds_not_seen[kind] = sorted([*kinds_not_seen.get(kind, []), *places])
    names = account_names(spec, organization.account_names if organization is not None else {})
    now = dt.datetime.now(dt.UTC)
    register = accept(
        findings, spec.accepted if spec is not None else (), today or now.date(), names=names
    )
    summary: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    accepted = 0
    for finding in findings:
        summary[finding["severity"]] += 1
        accepted += "accepted" in finding
    summary["accepted"] = accepted
    return {
        "snapshot": graph.graph.get("snapshot"),
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "collected_at": graph.graph.get("collected_at"),
        "account_names": names,
        "assessed": assessed,
        "not_assessed": not_assessed,
        "kinds_not_seen": kinds_not_seen,
        # ENIs that cannot be placed are not assessed
        "enis_not_placed": {"count": len(net.unplaced), "sample": sorted(net.unplaced)[:20]},
        "not_placed": not_placed([*graph.graph.get("not_placed", []), *net.not_placed]),
        "summary": summary,
        "findings": findings,
        "zone_matrix": segmentation.zone_matrix(paths, facts.policy),
        # the zone policy the matrix was judged by (the spec's, else the default)
        "zone_policy": {
            "protected": list(zones.protected),
            "flows": [{"from": f.source, "to": f.to, "ports": list(f.ports)} for f in zones.flows],
        },
        # what the fleet posture rules judged, per account-region (their totals)
        "inventory": fleet.inventory(graph.graph.get("fleet", [])),
        # the spec's accepted risks: what each covers, whether it still holds
        "acceptances": register,
    }


def account_names(spec: Spec | None, listed: Mapping[str, str]) -> dict[str, str]:
    """Account id -> name: the spec's names, else those Organizations lists.

    >>> account_names(None, {"222222222222": "b", "111111111111": "a"})
    {'111111111111': 'a', '222222222222': 'b'}
    """
    names = dict(listed)
    if spec is not None:
        names.update(spec.account_names())
    return dict(sorted(names.items()))


def not_placed(items: Iterable[NotPlaced]) -> dict[str, Any]:
    """What could not be placed, counted by kind, the first ``NOT_PLACED_SHOWN`` listed."""
    ordered = sorted(items, key=lambda x: (x.account, x.region, x.kind, x.resource, x.reason))
    by_kind: dict[str, int] = {}
    for item in ordered:
        by_kind[item.kind] = by_kind.get(item.kind, 0) + 1
    return {
        "count": len(ordered),
        "by_kind": dict(sorted(by_kind.items())),
        "items": [
            {
                "kind": x.kind,
                "account": x.account,
                "region": x.region,
                "resource": x.resource,
                "reason": x.reason,
            }
            for x in ordered[:NOT_PLACED_SHOWN]
        ],
    }


# ---- joining and writing findings --------------------------------------------------------


@dataclass(slots=True)
class Joined:
    """The findings of one key (rule, resource, protocol, source) joined: the first one
    as found, the ports of all, and the sources of each."""

    first: Found
    ports: PortSet | None
    sources: list[Callable[[], Sources]] = field(default_factory=list)


#: What one finding is about: (rule, resource, protocol, source).
Key = tuple[str, str, str | None, str]


def merge(found: Iterable[Found]) -> dict[Key, Joined]:
    """``found`` joined by what each is about, in the order first found."""
    joined: dict[Key, Joined] = {}
    for item in found:
        key = (item.rule, item.resource, item.protocol, item.source)
        known = joined.get(key)
        if known is None:
            known = joined[key] = Joined(item, item.ports)
        elif item.ports is not None:
            known.ports = known.ports | item.ports if known.ports is not None else item.ports
        if item.sources_fn is not None:
            known.sources.append(item.sources_fn)
    return joined


def write_findings(joined: dict[Key, Joined]) -> list[dict[str, Any]]:
    """The findings of the document, highest severity first."""
    source_text: dict[Sources, tuple[list[str], dict[int, int]]] = {}
    out = []
    for item in joined.values():
        first = item.first
        rule = RULES_BY_ID[first.rule]
        ports = item.ports.render() if item.ports is not None else None
        path = first.path
        if path is None and first.path_fn is not None:
            path = first.path_fn()
        path = path or []
        extra: dict[str, Any] = {}
        severity = rule.severity
        if item.sources:
            cidrs, addresses = _source_text([fn() for fn in item.sources], source_text)
            extra = {
                "source_cidrs": cidrs[:SOURCE_CIDRS_SHOWN],
                "source_cidrs_total": len(cidrs),
            }
            severity = graded_severity(rule, addresses)
            if severity != rule.severity and cidrs:
                path = _say_only(path, cidrs)
        out.append(
            {
                "id": finding_id(rule.id, first.resource, first.protocol, ports, first.source),
                "rule": rule.id,
                "severity": severity,
                "controls": list(rule.controls),
                "account": first.account,
                "region": first.region,
                "vpc": first.vpc,
                "resource": first.resource,
                "protocol": first.protocol,
                "ports": ports,
                "source": first.source,
                **extra,
                **(first.extra or {}),
                "path": path,
                "remediation": rule.remediation,
            }
        )
    out.sort(key=_order)
    return out


def _order(finding: dict[str, Any]) -> tuple[Any, ...]:
    """Highest severity first, then by rule, place, resource, source and protocol."""
    return (
        -SEVERITY_RANK[finding["severity"]],
        finding["rule"],
        finding["account"] or "",
        finding["region"] or "",
        finding["resource"],
        finding["source"],
        finding["protocol"] or "",
    )


def finding_id(
    rule: str, resource: str, protocol: str | None, ports: str | None, source: str
) -> str:
    digest = hashlib.sha256(f"{rule}|{resource}|{protocol}|{ports}|{source}".encode()).hexdigest()
    return f"ivs-{digest[:16]}"


def _source_text(
    found: list[Sources], memo: dict[Sources, tuple[list[str], dict[int, int]]]
) -> tuple[list[str], dict[int, int]]:
    """The prefixes of the admitted sources of every path (spanning no other public
    address but the VPC's own blocks), and how many addresses they hold per family."""
    if len(found) == 1:
        key = found[0]  # the usual case: one path, its sources already normal
    else:
        key = Sources(
            spans_union(s for f in found for s in f.admitted),
            spans_union(s for f in found for s in f.own),
        )
    known = memo.get(key)
    if known is None:
        cidrs = [str(p) for p in source_cidrs(key.admitted, key.own)]
        known = memo[key] = (cidrs, spans_size(key.admitted))
    return known


def _say_only(path: list[Hop], cidrs: list[str]) -> list[Hop]:
    """``path`` with its internet hop naming the narrow sources: ``from X only``."""
    named = ", ".join(cidrs[:SOURCE_CIDRS_IN_PATH])
    if len(cidrs) > SOURCE_CIDRS_IN_PATH:
        named += f" and {len(cidrs) - SOURCE_CIDRS_IN_PATH} more"
    out = list(path)
    for n, hop in enumerate(out):
        if hop["hop"] == "internet":
            out[n] = {"hop": "internet", "why": f"from {named} only"}
            break
    return out


# ---- memory ------------------------------------------------------------------------------


def release(graph: nx.MultiDiGraph) -> None:
    """Drop the views NetworkX caches on a graph (each refers back to it), so that the
    graph is freed by reference counting once unused, not by a full collection."""
    for name in [key for key, value in vars(graph).items() if getattr(value, "_graph", None)]:
        del vars(graph)[name]
