"""The exposure report as one self-contained HTML file (``ivs exposure --format html``).

The page works offline in any browser: its styles and scripts are inline, and so is the
graph drawing library, vis-network's standalone build kept byte for byte as its npm
package ships it (``assets/vis-network.min.js``; version, licence and checksum in
``assets/vis-network.md``). It shows:

- a summary: findings by severity and by CCM control, assessed and not-assessed
  accounts and regions, what the snapshot did not contain;
- the zone-to-zone matrix as a heat map (the ports on hover), with the internet as a
  source row, each cell coloured by the zone policy (:func:`zone_heat`);
- an interactive graph that starts at zones when there are many VPCs (one node per zone,
  with the heat map's zone-to-zone paths as edges, red where forbidden) or at VPCs when
  there are few, and can be grouped by account instead; it opens zones into VPCs, VPCs
  into subnets and subnets into ENIs on click, each open node a frame around what it
  holds, laid out so that nothing overlaps: a VPC's detail is embedded as its own JSON
  block and parsed only when the VPC is opened, so a thousand VPCs stay readable and the
  page stays light; its legend is built from the style table it draws from
  (``topology.NODE_STYLES``, ``EDGE_STYLES``);
- the findings table (filter by severity, rule, account, accepted or open, new or
  unchanged, text; sort by any column; export the filtered rows as CSV); a row opens its
  hop-by-hop path, highlights it on the graph and sets the page's link to it
  (``#finding=<id>``); accepted risks, account names, and what a baseline says was fixed
  are shown where the document has them;
- when printed, every finding the filters keep with its whole path.

Every value from AWS (names, tags, descriptions) is attacker-controlled: data is
embedded as JSON in ``<script type="application/json">`` with ``<``, ``>`` and ``&``
escaped, and the page's script only ever sets ``textContent``. Any Unicode is carried:
characters an HTML page must not hold (control characters, lone surrogates,
noncharacters) travel as JSON ``\\uXXXX`` escapes, and become U+FFFD in the title. A
Content Security Policy allows the two inline scripts by hash and nothing else (no
network, no inline event handlers), so even a missed escape could neither run nor call
home.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from core.jsonio import atomic_write_text
from graph.ports import PortSet, Traffic
from graph.report import RULES, SEVERITIES, by_control, by_rule, by_severity, resource_label
from graph.report.topology import EDGE_STYLES, NODE_STYLES, Topology
from graph.rules import fleet
from graph.rules import internet as internet_rules
from graph.rules.segmentation import traffic_rows

_ASSETS = resources.files("graph.report") / "assets"
#: vis-network's standalone UMD build as its npm package ships it, kept byte for byte
#: (version, licence and checksum in ``assets/vis-network.md``).
VIS_SCRIPT = "vis-network.min.js"
VIS_VERSION = "10.1.5"
VIS_SHA256 = "b427322ad953d70ab75d1b798ebb8349863502f244e02de3e12a4ab7dfeddf2c"
_SOURCE_MAP = re.compile(r"\n//# sourceMappingURL=\S*\s*$")
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
# Code points HTML calls parse errors in a page (C0 and C1 controls but whitespace, lone
# surrogates, noncharacters), which no encoder writes (surrogates) or which a strict
# reader refuses; each plane's last two code points are noncharacters too.
_NOT_IN_HTML = "\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + "".join(
    chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF)
)
_JSON_SPECIAL = re.compile(f"[<>&\u2028\u2029{_NOT_IN_HTML}]")
_TEXT_SPECIAL = re.compile(f"[{_NOT_IN_HTML}]")
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def render(result: Any, out: Path) -> None:
    """Write the HTML report of ``result`` (a ``graph.findings.ExposureResult``) to ``out``."""
    atomic_write_text(out, page(result.document, result.graph))


def page(document: dict[str, Any], graph: Any) -> str:
    """The report page of a findings document and its exposure graph."""
    topo = Topology(graph, document["findings"])
    data = report_data(document, graph, topo)
    details = "".join(
        f'<script type="application/json" id="vpc-{i}">{embed_json(topo.vpc_detail(vpc))}'
        "</script>\n"
        for i, vpc in enumerate(topo.vpcs)
    )
    app = _inline_script((_ASSETS / "report.js").read_text(encoding="utf-8"), "report.js")
    vis = vis_script()
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hash(vis)} {_hash(app)}",
            "style-src 'unsafe-inline'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    slots = {
        "CSP": html.escape(csp, quote=False),
        "TITLE": html.escape(_TEXT_SPECIAL.sub("\ufffd", _title(document))),
        "STYLE": (_ASSETS / "report.css").read_text(encoding="utf-8"),
        "DATA": embed_json(data),
        "DETAILS": details,
        "VIS": vis,
        "APP": app,
    }
    template = (_ASSETS / "report.html").read_text(encoding="utf-8")
    # one pass: text put into a slot is never scanned for slots again
    return _SLOT.sub(lambda m: slots[m.group(1)], template)


def embed_json(value: Any) -> str:
    """JSON that is inert inside ``<script type="application/json">``."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _JSON_SPECIAL.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group(0)
    escape = _JSON_ESCAPES.get(char)
    if escape is not None:
        return escape
    code = ord(char)
    if code > 0xFFFF:  # a noncharacter past the first plane: its UTF-16 pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def vis_script() -> str:
    """vis-network's standalone build as the page inlines it: without the comment that
    points at its source map (a file the page does not carry)."""
    text = (_ASSETS / VIS_SCRIPT).read_text(encoding="utf-8")
    return _inline_script(_SOURCE_MAP.sub("\n", text), VIS_SCRIPT)


def _inline_script(text: str, name: str) -> str:
    # only these change how an HTML parser reads a script's text
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise RuntimeError(f"{name} cannot be inlined in a <script> element")
    return text


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _title(document: dict[str, Any]) -> str:
    name = Path(str(document.get("snapshot") or "snapshot")).name
    return f"IVS exposure report: {name}"


def _version() -> str:
    try:
        return metadata.version("ivs-governance")
    except metadata.PackageNotFoundError:
        return ""


def report_data(document: dict[str, Any], graph: Any, topo: Topology) -> dict[str, Any]:
    """Everything the page shows at first, as plain data (VPC details are separate)."""
    findings = []
    hops: dict[tuple[str, str], int] = {}  # many paths share hops: each is stored once
    for finding in document["findings"]:
        item = dict(finding)
        item.pop("remediation", None)  # the rule carries it, once
        item.pop("controls", None)
        item["path"] = [
            hops.setdefault((hop["hop"], hop["why"]), len(hops)) for hop in finding["path"]
        ]
        item["label"] = resource_label(graph, finding["resource"])
        item["trail"] = topo.trail(finding)
        item["zone"] = topo.zone_of(finding)
        findings.append(item)
    overview = topo.overview()
    regions = {(a["account"], a["region"]) for a in document.get("assessed", [])}
    gaps = document.get("not_assessed", [])
    accepted = (document.get("summary") or {}).get("accepted")
    if accepted is None:
        accepted = sum(1 for f in document["findings"] if f.get("accepted"))
    return {
        "meta": {
            "snapshot": document.get("snapshot"),
            "generated_at": document.get("generated_at"),
            "collected_at": document.get("collected_at"),
            "version": _version(),
        },
        "account_names": {
            str(k): str(v) for k, v in (document.get("account_names") or {}).items() if v
        },
        "baseline": document.get("baseline"),
        "fixed": [_fixed(f) for f in document.get("fixed") or []],
        "assessed": document.get("assessed", []),
        "not_assessed": gaps,
        "kinds_not_seen": document.get("kinds_not_seen", {}),
        "not_placed": document.get("not_placed") or {"count": 0, "by_kind": {}, "items": []},
        "summary": {
            "findings": len(document["findings"]),
            "severity": by_severity(document["findings"]),
            "controls": by_control(document["findings"]),
            "rules": by_rule(document["findings"]),
            "accounts": len({a for a, _r in regions}),
            "regions": len({r for _a, r in regions}),
            "places": len(regions),
            "not_assessed": len(gaps),
            "accepted": accepted,
            "vpcs": len(overview["vpcs"]),
            "subnets": sum(v["subnets"] for v in overview["vpcs"]),
            "enis": sum(v["enis"] for v in overview["vpcs"]),
        },
        # highest first: the page ranks and lists severities in this order
        "severities": list(SEVERITIES),
        "rules": [
            {
                "id": r.id,
                "title": r.title,
                "severity": r.severity,
                "controls": list(r.controls),
                "rationale": r.rationale,
                "remediation": r.remediation,
            }
            for r in RULES
        ],
        "zones": zone_heat(document, findings, overview),
        "fleet": fleet_view(document),
        "findings": findings,
        "hops": [list(hop) for hop in hops],
        "net": overview,
        "styles": {"nodes": NODE_STYLES, "edges": EDGE_STYLES},
    }


def _fixed(finding: dict[str, Any]) -> dict[str, Any]:
    """What the page lists of a finding the baseline had and this snapshot no longer has."""
    return {key: finding.get(key) for key in _FIXED_KEYS}


_FIXED_KEYS = (
    "id",
    "rule",
    "severity",
    "account",
    "region",
    "vpc",
    "resource",
    "source",
    "protocol",
    "ports",
)


def fleet_view(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The fleet view: for each posture rule, per account-region, how many of what it
    judges fail it out of how many there are, and the controls that prevent new ones
    (where they are attached). Only rules the snapshot could judge somewhere are listed."""
    totals = {(p["account"], p["region"]): p for p in document.get("inventory", [])}
    if not totals:
        return []
    failing: dict[tuple[str, str, str], int] = {}
    prevented: dict[str, dict[str, None]] = {}
    for finding in document["findings"]:
        rule = finding["rule"]
        if rule not in fleet.COUNTED:
            continue
        key = (rule, finding["account"], finding["region"])
        failing[key] = failing.get(key, 0) + 1
        for entry in finding.get("prevented_by") or []:
            prevented.setdefault(rule, {})[f"{entry['control']} at {entry['at']}"] = None
    rows = []
    for rule in fleet.RULES:
        kind = fleet.COUNTED[rule.id]
        places = [
            {
                "account": account,
                "region": region,
                "failing": failing.get((rule.id, account, region), 0),
                "total": held.get(kind, 0),
            }
            for (account, region), held in sorted(totals.items())
            if held.get(kind, 0)
        ]
        if places:
            rows.append(
                {
                    "rule": rule.id,
                    "title": rule.title,
                    "severity": rule.severity,
                    "counted": kind,
                    "failing": sum(p["failing"] for p in places),
                    "total": sum(p["total"] for p in places),
                    "prevented_by": list(prevented.get(rule.id, {})),
                    "places": places,
                }
            )
    return rows


def zone_heat(
    document: dict[str, Any], findings: list[dict[str, Any]], overview: dict[str, Any]
) -> dict[str, Any]:
    """Rows of the heat map: zone to zone (the matrix) and the internet to each zone.

    Each cell counts every finding from its source (``internet`` or ``zone:<name>``) about
    a resource of its zone, whatever the rule (a load balancer is in the zone of its
    subnets). A zone-to-zone cell carries the matrix's traffic and the part the zone
    policy forbids. An internet cell carries what the internet reaches there, and forbids
    its administration and database ports (the internet rules' own) everywhere, and all
    of it in a protected zone (:func:`protected_zones`).
    """
    sizes: dict[str, int] = {}
    for vpc in overview["vpcs"]:
        for zone, count in vpc["zones"].items():
            sizes[zone] = sizes.get(zone, 0) + count
    protected = protected_zones(document)
    counts: dict[tuple[str, str], int] = {}
    reached: dict[str, list[Traffic]] = {}  # zone -> [what reaches it, what is forbidden]
    for finding in findings:
        to = finding.get("zone")
        source = str(finding["source"])
        if to is None or not (source == "internet" or source.startswith("zone:")):
            continue
        origin = "internet" if source == "internet" else source[5:]
        counts[(origin, to)] = counts.get((origin, to), 0) + 1
        if origin == "internet":
            cell = reached.setdefault(to, [Traffic.nothing(), Traffic.nothing()])
            traffic = finding_traffic(finding)
            cell[0] = cell[0] | traffic
            if finding["rule"] in _NEVER_FROM_INTERNET:
                cell[1] = cell[1] | traffic
    cells = []
    for row in document.get("zone_matrix", []):
        cells.append(
            {
                "from": row["from"],
                "to": row["to"],
                "traffic": row["traffic"],
                "forbidden": row["forbidden"],
                "weight": traffic_weight(row["traffic"]),
                "findings": counts.get((row["from"], row["to"]), 0),
            }
        )
        for zone in (row["from"], row["to"]):
            sizes.setdefault(zone, 0)
    internet = []
    for to in {to for origin, to in counts if origin == "internet"}:
        traffic, forbidden = reached.get(to, [Traffic.nothing(), Traffic.nothing()])
        rows = traffic_rows(traffic) if traffic else []
        internet.append(
            {
                "to": to,
                "traffic": rows,
                "forbidden": rows if to in protected else traffic_rows(forbidden),
                "weight": traffic_weight(rows),
                "findings": counts[("internet", to)],
            }
        )
        sizes.setdefault(to, 0)

    def order(zone: str) -> tuple[int, int, str]:
        return (0 if zone == "prod" else 2 if zone == "unknown" else 1, -sizes[zone], zone)

    return {
        "order": sorted(sizes, key=order),
        "sizes": sizes,
        "protected": sorted(protected),
        "cells": cells,
        "internet": sorted(internet, key=lambda c: order(c["to"])),
        "styles": HEAT_STYLES,
    }


#: What the internet may never open, in any zone: the ports of these rules.
_NEVER_FROM_INTERNET = frozenset({internet_rules.ADMIN_PORT.id, internet_rules.DATABASE_PORT.id})
#: The heat map's cell colours and what its legend says of each.
HEAT_STYLES: dict[str, dict[str, str]] = {
    "forbidden": {
        "legend": "forbidden by the zone policy (from the internet: administration and "
        "database ports anywhere, any port into a protected zone)",
        "color": "rgba(201,42,42,0.75)",
    },
    "allowed": {"legend": "allowed by the zone policy", "color": "rgba(66,99,235,0.45)"},
    "none": {"legend": "no path", "color": "#f6f8fa"},
}


def protected_zones(document: dict[str, Any]) -> set[str]:
    """The zones the zone policy protects: the document's ``zone_policy`` (``*``: every
    zone the matrix names). A document without it (from an earlier version) shows only
    those into which the matrix has traffic from another zone that the policy forbids.

    >>> protected_zones({"zone_policy": {"protected": ["prod"], "flows": []}})
    {'prod'}
    >>> sorted(protected_zones({"zone_policy": {"protected": ["*"]}, "zone_matrix": [
    ...     {"from": "dev", "to": "prod", "traffic": [], "forbidden": []}]}))
    ['dev', 'prod']
    >>> protected_zones({"zone_matrix": [
    ...     {"from": "dev", "to": "prod", "traffic": [], "forbidden": [{"protocol": "tcp"}]},
    ...     {"from": "prod", "to": "dev", "traffic": [], "forbidden": []}]})
    {'prod'}
    """
    matrix = document.get("zone_matrix", [])
    policy = document.get("zone_policy")
    if isinstance(policy, dict):
        named = set(policy.get("protected") or [])
        if "*" in named:
            seen = {row[end] for row in matrix for end in ("from", "to")}
            return (seen | named) - {"*", "internet"}
        return named
    return {row["to"] for row in matrix if row["from"] != row["to"] and row.get("forbidden")}


def finding_traffic(finding: dict[str, Any]) -> Traffic:
    """The traffic a finding is about (nothing for a rule about configuration).

    >>> finding_traffic({"protocol": "tcp", "ports": "22,80-81"}).render()
    'tcp 22,80-81'
    """
    protocol, ports = finding.get("protocol"), finding.get("ports")
    if not protocol:
        return Traffic.nothing()
    if protocol == "all":
        return Traffic.everything()
    if protocol == "other":
        return Traffic(rest=True)
    try:
        return Traffic({str(protocol): PortSet.parse(str(ports or "all"))})
    except ValueError:
        return Traffic({str(protocol): PortSet.full()})


def traffic_weight(traffic: list[dict[str, Any]]) -> float:
    """How much a cell lets through, 0..1: one port is little, every port is 1."""
    total = 0
    for part in traffic:
        if part["protocol"] in ("all", "other"):
            return 1.0
        for piece in str(part["ports"] or "").split(","):
            low, _, high = piece.partition("-")
            if low.strip().isdigit():
                total += int(high or low) - int(low) + 1
    if total <= 0:
        return 0.0
    # log scale: 1 port ~0.25, 10 ~0.45, 1000 ~0.8, all 65536 ~1
    return round(min(1.0, 0.25 + 0.75 * math.log10(total) / math.log10(65536 * 2)), 3)
